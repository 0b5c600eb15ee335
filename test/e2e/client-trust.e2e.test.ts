// A malicious server cannot take a client's deposit. On a real anvil, a small real HTTP server
// plays the malicious paywall: its 402 terms (and its /api/1/stats) name whatever contract the
// test chooses. The client must refuse a look-alike contract that pulls the permitted deposit
// (contracts/test/MaliciousChannels.sol) and lose nothing; accept genuine deployments whatever
// their immutables (token, challenge period, address); refuse genuine code copied to another
// address or with a challenge period it cannot wait out; bound an allowlisted contract by
// `maxDeposit`; and read only the channel contract's own events when a hostile token forges
// them (contracts/test/ForgingToken.sol).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  createPublicClient,
  createWalletClient,
  getAddress,
  http,
  type Abi,
  type Address,
  type Hex,
  type PublicClient,
} from "viem";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { anvil as anvilChain } from "viem/chains";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT, testArtifactPath, type TestContractName } from "../../contracts/build.js";
import { deployContracts, readArtifact, type Deployment } from "../../contracts/deploy.js";
import { ANVIL_ADDRESSES, ANVIL_KEYS, rpc, startAnvil, type AnvilHandle } from "../../scripts/anvil.js";
import { microTransferChannelsAbi, testTokenAbi } from "../../src/protocol/abi.js";
import { createEdge402Client, Edge402Error, type Edge402ClientOptions } from "../../src/client/index.js";

const RECEIVER = ANVIL_ADDRESSES[1]!;
const THIEF = ANVIL_ADDRESSES[2]!;
const MINTED = 1000n;
const PRICE = 3n;

/** The malicious paywall: every priced path answers 402 with `terms`, a paid one 200. */
type Terms = { contract: Address; token: Address };

function startTermsServer(chainId: number, current: () => Terms): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const { contract, token } = current();
    if (req.url === "/api/1/stats") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          receiver: RECEIVER,
          contract,
          token,
          chainId,
          challengePeriod: 500,
          minConfirmations: 1,
          syncedBlock: 0,
          openChannels: 0,
        }),
      );
      return;
    }
    if (req.headers["rdn-balance-signature"]) {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("paid");
      return;
    }
    res.writeHead(402, {
      "content-type": "application/json",
      "RDN-Gateway-Path": "/api/1",
      "RDN-Receiver-Address": RECEIVER,
      "RDN-Contract-Address": contract,
      "RDN-Token-Address": token,
      "RDN-Chain-Id": String(chainId),
      "RDN-Price": String(PRICE),
    });
    res.end(JSON.stringify({ error: { code: "payment_required", message: "Pay." } }));
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }),
    ),
  );
}

function testArtifact(name: TestContractName): { abi: Abi; bytecode: Hex } {
  return JSON.parse(readFileSync(join(REPO_ROOT, testArtifactPath(name)), "utf8")) as { abi: Abi; bytecode: Hex };
}

describe("client trust in the channel contract a server names", () => {
  let anvil: AnvilHandle;
  let d: Deployment;
  let pub: PublicClient;
  let terms: Terms;
  let server: { url: string; server: Server };
  let fake: Address;
  let nextKey = 3;
  let sender: PrivateKeyAccount;

  const wallet = (account: PrivateKeyAccount) =>
    createWalletClient({ account, chain: { ...anvilChain, id: d.chainId }, transport: http(anvil.rpcUrl) });

  async function deploy(
    account: PrivateKeyAccount,
    abi: Abi,
    bytecode: Hex,
    args: readonly unknown[],
  ): Promise<Address> {
    const hash = await wallet(account).deployContract({ abi, bytecode, args });
    const receipt = await pub.waitForTransactionReceipt({ hash });
    expect(receipt.status).toBe("success");
    return getAddress(receipt.contractAddress!);
  }

  async function call(
    account: PrivateKeyAccount,
    address: Address,
    abi: Abi,
    functionName: string,
    args: readonly unknown[],
  ): Promise<void> {
    const hash = await wallet(account).writeContract({ address, abi, functionName, args } as never);
    expect((await pub.waitForTransactionReceipt({ hash })).status).toBe("success");
  }

  const balanceOf = (token: Address, who: Address) =>
    pub.readContract({ address: token, abi: testTokenAbi, functionName: "balanceOf", args: [who] });

  const client = (extra: Partial<Edge402ClientOptions> = {}) =>
    createEdge402Client({
      account: sender,
      rpcUrl: anvil.rpcUrl,
      pollingInterval: 50,
      maxSpend: { perRequest: PRICE, total: PRICE },
      ...extra,
    });

  async function refusal(p: Promise<unknown>): Promise<Edge402Error> {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err, "expected a refusal").toBeInstanceOf(Edge402Error);
    return err as Edge402Error;
  }

  beforeAll(async () => {
    anvil = await startAnvil();
    d = await deployContracts({ rpcUrl: anvil.rpcUrl, privateKey: ANVIL_KEYS[0]! });
    pub = createPublicClient({
      chain: { ...anvilChain, id: d.chainId },
      transport: http(anvil.rpcUrl),
      pollingInterval: 50,
    }) as PublicClient;
    const thief = privateKeyToAccount(ANVIL_KEYS[2]!);
    fake = await deploy(thief, testArtifact("MaliciousChannels").abi, testArtifact("MaliciousChannels").bytecode, [
      d.token,
      THIEF,
    ]);
    server = await startTermsServer(d.chainId, () => terms);
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => (server ? server.server.close(() => resolve()) : resolve()));
    await anvil?.stop();
  });

  beforeEach(async () => {
    // A fresh sender per test (accounts 3 and up), holding MINTED tokens.
    sender = privateKeyToAccount(ANVIL_KEYS[nextKey++]!);
    await call(sender, d.token, testTokenAbi as Abi, "mint", [sender.address, MINTED]);
    terms = { contract: d.channels, token: d.token };
  });

  it("refuses to deposit into a look-alike contract that pulls the permit, and loses nothing", async () => {
    terms = { contract: fake, token: d.token };
    const sdk = client();
    const err = await refusal(sdk.fetch(`${server.url}/priced/x`));
    expect(err.code).toBe("untrusted_contract");
    expect(err.message).toContain(fake);
    // Management goes through the same check: /api/1/stats names the look-alike too.
    expect((await refusal(sdk.topUp(server.url, 100n))).code).toBe("untrusted_contract");
    expect(await balanceOf(d.token, sender.address)).toBe(MINTED);
    expect(await balanceOf(d.token, THIEF)).toBe(0n);
    const nonce = await pub.readContract({
      address: d.token,
      abi: testTokenAbi,
      functionName: "nonces",
      args: [sender.address],
    });
    expect(nonce).toBe(0n);
    expect(sdk.deposited()).toBe(0n);
  });

  it("pays through a genuine deployment whatever its token, challenge period and address", async () => {
    const other = await deploy(
      privateKeyToAccount(ANVIL_KEYS[0]!),
      readArtifact("MicroTransferChannels").abi,
      readArtifact("MicroTransferChannels").bytecode,
      [d.token, 7200],
    );
    terms = { contract: other, token: d.token };
    const sdk = client();
    expect(await (await sdk.fetch(`${server.url}/priced/y`)).text()).toBe("paid");
    expect(await balanceOf(d.token, other)).toBe(300n);
    expect(sdk.deposited()).toBe(300n);
  });

  it("refuses genuine code copied to another address, and a challenge period it cannot wait out", async () => {
    const code = await pub.getCode({ address: d.channels });
    const copy = getAddress(`0x${"c0de".repeat(10)}`);
    await rpc(anvil.rpcUrl, "anvil_setCode", [copy, code]);
    terms = { contract: copy, token: d.token };
    expect((await refusal(client().fetch(`${server.url}/priced/z`))).code).toBe("untrusted_contract");

    const slow = await deploy(
      privateKeyToAccount(ANVIL_KEYS[0]!),
      readArtifact("MicroTransferChannels").abi,
      readArtifact("MicroTransferChannels").bytecode,
      [d.token, 200_000],
    );
    terms = { contract: slow, token: d.token };
    const refused = await refusal(client().fetch(`${server.url}/priced/z`));
    expect([refused.code, refused.message]).toEqual([
      "untrusted_contract",
      expect.stringContaining("challenge period of 200000"),
    ]);
    expect(await balanceOf(d.token, sender.address)).toBe(MINTED);
    // A user who accepts the longer challenge says so.
    const patient = client({ maxChallengePeriod: 200_000 });
    expect(await (await patient.fetch(`${server.url}/priced/z`)).text()).toBe("paid");
  });

  it("uses an allowlisted contract whatever its code, and then maxDeposit bounds what it can take", async () => {
    terms = { contract: fake, token: d.token };
    // A new channel's 100 × the price is over a deposit budget of 299: nothing moves.
    const greedy = client({ trustedContracts: [fake], maxDeposit: 299n });
    expect((await refusal(greedy.fetch(`${server.url}/priced/a`))).code).toBe("budget_exceeded");
    expect(await balanceOf(d.token, sender.address)).toBe(MINTED);
    // Within the default budget (100 × perRequest = 300) the allowlisted contract gets the
    // deposit (and here steals it) ...
    const sdk = client({ trustedContracts: [fake.toLowerCase()] });
    expect(await (await sdk.fetch(`${server.url}/priced/a`)).text()).toBe("paid");
    expect(await balanceOf(d.token, THIEF)).toBe(300n);
    // ... but no more: the budget counts what was deposited, not what came back.
    expect((await refusal(sdk.topUp(server.url, 1n))).code).toBe("budget_exceeded");
    expect(await balanceOf(d.token, sender.address)).toBe(MINTED - 300n);
  });

  it("reads only the channel contract's own events: a token's forged ChannelCreated is ignored", async () => {
    const deployer = privateKeyToAccount(ANVIL_KEYS[0]!);
    const forging = testArtifact("ForgingToken");
    const token = await deploy(deployer, forging.abi, forging.bytecode, []);
    const channels = await deploy(
      deployer,
      readArtifact("MicroTransferChannels").abi,
      readArtifact("MicroTransferChannels").bytecode,
      [token, 500],
    );
    await call(sender, token, forging.abi, "mint", [sender.address, MINTED]);
    await call(deployer, token, forging.abi, "setForgery", [RECEIVER, 4242]);
    terms = { contract: channels, token };
    const sdk = client({ maxSpend: {} });
    const opened = await sdk.topUp(server.url, 100n);
    const head = Number(await pub.getBlockNumber({ cacheTime: 0 }));
    expect(opened).toMatchObject({ opened: true, openBlock: head, deposit: "100" });
    const [, deposit] = await pub.readContract({
      address: channels,
      abi: microTransferChannelsAbi,
      functionName: "getChannelInfo",
      args: [sender.address, RECEIVER, head],
    });
    expect(deposit).toBe(100n);
    expect((await sdk.channels({ refresh: false })).map((c) => c.openBlock)).toEqual([head]);
  });
});
