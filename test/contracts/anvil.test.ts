// Tests for the local-chain tooling: scripts/anvil.ts (start on a free port, the default
// accounts, mine/snapshot/revert, a clear error for a busy port, stop) and contracts/deploy.ts
// (reusing a token, and the CLI that prints the deployment as JSON).
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getAddress } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { REPO_ROOT } from "../../contracts/build.js";
import { deployContracts } from "../../contracts/deploy.js";
import {
  ANVIL_ADDRESSES,
  ANVIL_KEYS,
  mine,
  revert,
  rpc,
  snapshot,
  startAnvil,
  type AnvilHandle,
} from "../../scripts/anvil.js";
import { microTransferChannelsAbi } from "./fixture.js";

let anvil: AnvilHandle;
beforeAll(async () => {
  anvil = await startAnvil();
});
afterAll(async () => {
  await anvil?.stop();
});

const blockNumber = async () => Number(await rpc<string>(anvil.rpcUrl, "eth_blockNumber"));

describe("startAnvil", () => {
  it("serves chain 31337 on 127.0.0.1 with the ten default accounts", async () => {
    expect(anvil.chainId).toBe(31337);
    expect(anvil.rpcUrl).toBe(`http://127.0.0.1:${anvil.port}`);
    expect(Number(await rpc<string>(anvil.rpcUrl, "eth_chainId"))).toBe(31337);
    const accounts = await rpc<string[]>(anvil.rpcUrl, "eth_accounts");
    expect(accounts.map((a) => getAddress(a))).toEqual(ANVIL_ADDRESSES);
    expect(ANVIL_KEYS.map((k) => privateKeyToAccount(k).address)).toEqual(ANVIL_ADDRESSES);
  });

  it("mine, snapshot and revert", async () => {
    const start = await blockNumber();
    const id = await snapshot(anvil.rpcUrl);
    await mine(anvil.rpcUrl, 600);
    expect(await blockNumber()).toBe(start + 600);
    expect(await revert(anvil.rpcUrl, id)).toBe(true);
    expect(await blockNumber()).toBe(start);
  });

  it("fails clearly on a busy port, and stop() frees its port", async () => {
    await expect(startAnvil({ port: anvil.port })).rejects.toThrow(/already in use/);
    const second = await startAnvil();
    expect(second.port).not.toBe(anvil.port);
    await second.stop();
    await second.stop(); // idempotent
    await expect(rpc(second.rpcUrl, "eth_chainId")).rejects.toThrow();
  });
});

describe("deploy", () => {
  it("reuses a given token", async () => {
    const first = await deployContracts({ rpcUrl: anvil.rpcUrl, privateKey: ANVIL_KEYS[0]! });
    const second = await deployContracts({
      rpcUrl: anvil.rpcUrl,
      privateKey: ANVIL_KEYS[2]!,
      token: first.token,
      challengePeriod: 1000,
    });
    expect(second.token).toBe(first.token);
    expect(second.channels).not.toBe(first.channels);
    expect(second.deployer).toBe(ANVIL_ADDRESSES[2]);
    expect(second.deployBlock).toBeGreaterThan(first.deployBlock);
    const period = await rpc<string>(anvil.rpcUrl, "eth_call", [
      { to: second.channels, data: "0xf3f480d9" /* challengePeriod() */ },
      "latest",
    ]);
    expect(Number(period)).toBe(1000);
    expect(microTransferChannelsAbi.some((f) => f.type === "function" && f.name === "challengePeriod")).toBe(true);
  });

  it("the CLI prints the deployment as JSON", async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        join(REPO_ROOT, "node_modules/tsx/dist/cli.mjs"),
        join(REPO_ROOT, "contracts/deploy.ts"),
        "--rpc-url",
        anvil.rpcUrl,
      ],
      { cwd: REPO_ROOT, env: { ...process.env, DEPLOYER_PRIVATE_KEY: ANVIL_KEYS[0]! } },
    );
    const out = JSON.parse(stdout) as Record<string, unknown>;
    expect(out).toMatchObject({ chainId: 31337, deployer: ANVIL_ADDRESSES[0] });
    expect(out.token).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(out.channels).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(out.deployBlock).toMatch(/^\d+$/);
  });
});
