// The `edge402` command end to end against the `npm start` stack (anvil + wrangler dev), run the
// way a user runs it (node bin/edge402.js, the launcher behind `npx edge402`), with the key, RPC
// URL and state directory in EDGE402_PRIVATE_KEY, EDGE402_RPC_URL and EDGE402_HOME: a paid fetch
// prints the body alone on stdout, five calls use one channel, a deleted state directory is
// rebuilt and the same channel goes on, a budget below the price refuses with its code and pays
// nothing, the state directory's budgets (--max-total, --max-deposit) hold from one run to the
// next, top-up, cooperative close with the refund, and uncooperative close + settle.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createPublicClient, createWalletClient, defineChain, http, type Address, type Chain, type PublicClient } from "viem";
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mine, rpc } from "../../scripts/anvil.js";
import { startStack, type Stack } from "../../scripts/stack.js";
import { microTransferChannelsAbi, testTokenAbi } from "../../src/protocol/abi.js";

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/edge402.js");
const TOKENS = 1_000_000n;

let stack: Stack;
let chain: Chain;
let pub: PublicClient;
const homes: string[] = [];

type Run = { code: number; stdout: string; stderr: string };

/** Runs `edge402 ...args` as a user would, with the given key and state directory. */
function edge402(key: string, home: string, ...args: string[]): Promise<Run> {
  return edge402With({}, key, home, ...args);
}

/** `edge402` with extra environment variables. */
function edge402With(env: Record<string, string>, key: string, home: string, ...args: string[]): Promise<Run> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, EDGE402_PRIVATE_KEY: key, EDGE402_RPC_URL: stack.rpcUrl, EDGE402_HOME: home, NO_COLOR: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.once("error", reject);
    child.once("close", (code) => resolveRun({ code: code ?? -1, stdout, stderr }));
  });
}

async function user(): Promise<{ account: PrivateKeyAccount; key: string; home: string }> {
  const key = generatePrivateKey();
  const account = privateKeyToAccount(key);
  await rpc(stack.rpcUrl, "anvil_setBalance", [account.address, "0x56BC75E2D63100000"]);
  const wallet = createWalletClient({ account, chain, transport: http(stack.rpcUrl) });
  const hash = await wallet.writeContract({ address: stack.token, abi: testTokenAbi, functionName: "mint", args: [account.address, TOKENS], chain });
  await pub.waitForTransactionReceipt({ hash });
  const home = await mkdtemp(join(tmpdir(), "edge402-cli-"));
  homes.push(home);
  return { account, key, home };
}

const tokenBalance = (who: Address) => pub.readContract({ address: stack.token, abi: testTokenAbi, functionName: "balanceOf", args: [who] });

const channelsCreated = async (sender: Address) =>
  (
    await pub.getContractEvents({ address: stack.contract, abi: microTransferChannelsAbi, eventName: "ChannelCreated", args: { sender }, fromBlock: 0n })
  ).map((l) => Number(l.args.openBlock));

async function onChain(sender: Address, openBlock: number) {
  try {
    const [, deposit, settleBlock] = await pub.readContract({
      address: stack.contract,
      abi: microTransferChannelsAbi,
      functionName: "getChannelInfo",
      args: [sender, stack.receiver, openBlock],
    });
    return { deposit, settleBlock: Number(settleBlock) };
  } catch {
    return null;
  }
}

type Listed = { openBlock: number; state: string; deposit: string; balance: string; available: string; credit: string };

async function listed(key: string, home: string, ...flags: string[]): Promise<Listed[]> {
  const run = await edge402(key, home, "channels", "--json", ...flags);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as Listed[];
}

beforeAll(async () => {
  stack = await startStack({ env: { FREE_CAPACITY: "1000", PAID_CAPACITY: "10000" } });
  chain = defineChain({
    id: stack.chainId,
    name: "anvil",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [stack.rpcUrl] } },
  });
  pub = createPublicClient({ chain, transport: http(stack.rpcUrl) }) as PublicClient;
});

afterAll(async () => {
  await stack?.stop();
  await Promise.all(homes.map((h) => rm(h, { recursive: true, force: true })));
});

describe("edge402 CLI against the local stack", () => {
  it("fetch prints the body on stdout and the payment on stderr; five calls use one channel; a lost home reuses it", async () => {
    const { account, key, home } = await user();
    const first = await edge402(key, home, "fetch", `${stack.url}/echofix/hello`);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe("hello");
    expect(first.stderr).toMatch(/open: confirmed in block \d+/);
    expect(first.stderr).toMatch(/paid 5 \(balance proof\) on channel \d+ .*balance 5 of deposit 500/);
    for (let i = 2; i <= 5; i++) {
      const run = await edge402(key, home, "fetch", `${stack.url}/echofix/hello${i}`);
      expect(run.stdout).toBe(`hello${i}`);
    }
    const created = await channelsCreated(account.address);
    expect(created).toHaveLength(1);
    expect(await listed(key, home)).toEqual([expect.objectContaining({ openBlock: created[0], state: "open", deposit: "500", balance: "25", available: "475" })]);

    await rm(home, { recursive: true, force: true });
    const again = await edge402(key, home, "fetch", "--json", `${stack.url}/echofix/again`);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe("again");
    const paid = JSON.parse(again.stderr.trim().split("\n").at(-1)!) as { status: number; paid: { channel: number; balance: string; cost: string } };
    expect(paid).toMatchObject({ status: 200, paid: { channel: created[0], balance: "30", cost: "5" } });
    expect(await channelsCreated(account.address)).toEqual(created);
    expect(await listed(key, home)).toEqual([expect.objectContaining({ openBlock: created[0], balance: "30" })]);
  });

  it("--max-spend below the price refuses with its code, exits non-zero and pays nothing", async () => {
    const { account, key, home } = await user();
    const run = await edge402(key, home, "fetch", "--max-spend", "3", `${stack.url}/echofix/dear`);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain("budget_exceeded");
    expect(await channelsCreated(account.address)).toEqual([]);
    expect(await tokenBalance(account.address)).toBe(TOKENS);
    const enough = await edge402(key, home, "fetch", "--max-spend", "5", `${stack.url}/echofix/ok`);
    expect([enough.code, enough.stdout]).toEqual([0, "ok"]);
  });

  it("--max-total and --max-deposit count per state directory: a later run honours what an earlier one spent", async () => {
    const { account, key, home } = await user();
    const first = await edge402(key, home, "--max-total", "10", "fetch", `${stack.url}/echofix/one`);
    expect([first.code, first.stdout], first.stderr).toEqual([0, "one"]);
    const second = await edge402(key, home, "fetch", "--max-total", "10", `${stack.url}/echofix/two`);
    expect([second.code, second.stdout], second.stderr).toEqual([0, "two"]);
    const third = await edge402With({ EDGE402_MAX_TOTAL: "10" }, key, home, "fetch", `${stack.url}/echofix/three`);
    expect(third.code).toBe(2);
    expect(third.stderr).toContain("budget_exceeded");
    expect(await listed(key, home)).toEqual([expect.objectContaining({ balance: "10" })]);
    // The deposit budget counts the 500 the first run locked: no top-up past 600.
    const bad = await edge402With({ EDGE402_TRUSTED_CONTRACTS: `${stack.contract},nope` }, key, home, "channels");
    expect([bad.code, bad.stderr]).toEqual([1, expect.stringContaining("not an address: nope")]);
    const topup = await edge402(key, home, "--max-deposit", "600", "topup", stack.url, "101");
    expect(topup.code).toBe(2);
    expect(topup.stderr).toContain("budget_exceeded");
    const [openBlock] = await channelsCreated(account.address);
    expect((await onChain(account.address, openBlock!))?.deposit).toBe(500n);
    const fresh = await user();
    const refused = await edge402(fresh.key, fresh.home, "fetch", "--max-deposit", "499", `${stack.url}/echofix/x`);
    expect([refused.code, refused.stdout]).toEqual([2, ""]);
    expect(await tokenBalance(fresh.account.address)).toBe(TOKENS);
  });

  it("passes -H headers, prints non-2xx bodies with exit 1, and says when nothing was paid", async () => {
    const { key, home } = await user();
    const proxied = await edge402(key, home, "fetch", "-H", "X-Test: yes", `${stack.url}/origin/echo`);
    expect(proxied.code, proxied.stderr).toBe(0);
    expect((JSON.parse(proxied.stdout) as { headers: Record<string, string> }).headers["x-test"]).toBe("yes");
    expect(proxied.stderr).toContain("paid 3");
    const free = await edge402(key, home, "fetch", `${stack.url}/free/gratis`);
    expect([free.code, free.stdout]).toEqual([0, "gratis"]);
    expect(free.stderr).toContain("nothing paid");
    const missing = await edge402(key, home, "fetch", "-X", "POST", "-d", "x=1", `${stack.url}/echofix/post`);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout)).toMatchObject({ error: { code: "not_found" } });
  });

  it("tops up, then closes cooperatively and gets the unspent deposit back", async () => {
    const { account, key, home } = await user();
    for (let i = 0; i < 3; i++) expect((await edge402(key, home, "fetch", `${stack.url}/echofix/c${i}`)).code).toBe(0);
    const [openBlock] = await channelsCreated(account.address);
    const topup = await edge402(key, home, "topup", "--json", stack.url, "100");
    expect(topup.code, topup.stderr).toBe(0);
    expect(JSON.parse(topup.stdout)).toMatchObject({ openBlock, added: "100", deposit: "600", opened: false });
    expect((await onChain(account.address, openBlock!))?.deposit).toBe(600n);

    const close = await edge402(key, home, "close", stack.url);
    expect(close.code, close.stderr).toBe(0);
    expect(close.stdout).toContain(`channel ${openBlock}: closed cooperatively at 15; refund 585`);
    expect(await onChain(account.address, openBlock!)).toBeNull();
    expect(await tokenBalance(account.address)).toBe(TOKENS - 15n);
    expect(await listed(key, home)).toEqual([]);
    expect(await listed(key, home, "--all")).toEqual([expect.objectContaining({ openBlock, state: "settled" })]);
    const none = await edge402(key, home, "close", stack.url);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("no_channel");
  });

  it("closes uncooperatively and settles after the challenge period", async () => {
    const { account, key, home } = await user();
    expect((await edge402(key, home, "fetch", `${stack.url}/echodyn/9`)).stdout).toBe("9");
    const [openBlock] = await channelsCreated(account.address);
    const close = await edge402(key, home, "close", "--uncooperative", "--json", stack.url);
    expect(close.code, close.stderr).toBe(0);
    const [requested] = JSON.parse(close.stdout) as Array<{ mode: string; balance: string; settleBlock: number }>;
    expect(requested).toMatchObject({ mode: "uncooperative", balance: "9" });
    expect((await onChain(account.address, openBlock!))?.settleBlock).toBe(requested!.settleBlock);

    const early = await edge402(key, home, "settle");
    expect(early.code, early.stderr).toBe(0);
    expect(early.stdout).toContain(`challenge period runs until block ${requested!.settleBlock}`);
    await mine(stack.rpcUrl, 501);
    const settle = await edge402(key, home, "settle", "--json");
    expect(settle.code, settle.stderr).toBe(0);
    expect(JSON.parse(settle.stdout)).toEqual([expect.objectContaining({ openBlock, state: "settled", refund: "891" })]);
    expect(await onChain(account.address, openBlock!)).toBeNull();
    expect(await tokenBalance(account.address)).toBe(TOKENS - 9n);
  });
});
