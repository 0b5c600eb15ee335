// The client SDK end to end against the `npm start` stack (anvil + wrangler dev): many paid
// requests on one channel, a top-up, a lost store rebuilt from the chain and the server's
// returned proof, a budget that refuses, cooperative and uncooperative closes (and a server
// that is gone), prepaid credit, and many requests at once from one client with some proofs
// held back so they reach the server after higher ones: no balance is sent twice, none is
// lost, and the server's balance equals what was charged. A second stack that wants two
// confirmations shows the bounded, backed-off retry on `insufficient_confirmations`.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  createPublicClient,
  createWalletClient,
  custom,
  defineChain,
  http,
  type Address,
  type Chain as ViemChain,
  type PublicClient,
} from "viem";
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mine, rpc } from "../../scripts/anvil.js";
import { startStack, type Stack } from "../../scripts/stack.js";
import { microTransferChannelsAbi, testTokenAbi } from "../../src/protocol/abi.js";
import {
  createEdge402Client,
  Edge402Error,
  FileChannelStore,
  MemoryChannelStore,
  type Edge402ClientOptions,
  type PaymentReceipt,
  type ProgressEvent,
} from "../../src/client/index.js";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const TOKENS = 1_000_000n;

type Chain = { stack: Stack; pub: PublicClient; chain: ViemChain };

async function chainOf(stack: Stack): Promise<Chain> {
  const chain: ViemChain = defineChain({
    id: stack.chainId,
    name: "anvil",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [stack.rpcUrl] } },
  });
  return { stack, chain, pub: createPublicClient({ chain, transport: http(stack.rpcUrl) }) as PublicClient };
}

/** A fresh key with ether for gas and TOKENS test tokens from the public faucet. */
async function fundedAccount(c: Chain): Promise<PrivateKeyAccount> {
  const account = privateKeyToAccount(generatePrivateKey());
  await rpc(c.stack.rpcUrl, "anvil_setBalance", [account.address, "0x56BC75E2D63100000"]);
  const wallet = createWalletClient({ account, chain: c.chain, transport: http(c.stack.rpcUrl) });
  const hash = await wallet.writeContract({
    address: c.stack.token,
    abi: testTokenAbi,
    functionName: "mint",
    args: [account.address, TOKENS],
    chain: c.chain,
  });
  await c.pub.waitForTransactionReceipt({ hash });
  return account;
}

const tokenBalance = (c: Chain, who: Address) =>
  c.pub.readContract({ address: c.stack.token, abi: testTokenAbi, functionName: "balanceOf", args: [who] });

async function onChain(c: Chain, sender: Address, openBlock: number) {
  try {
    const [, deposit, settleBlock, closingBalance] = await c.pub.readContract({
      address: c.stack.contract,
      abi: microTransferChannelsAbi,
      functionName: "getChannelInfo",
      args: [sender, c.stack.receiver, openBlock],
    });
    return { deposit, settleBlock: Number(settleBlock), closingBalance };
  } catch {
    return null;
  }
}

const channelsCreated = async (c: Chain, sender: Address) =>
  (
    await c.pub.getContractEvents({
      address: c.stack.contract,
      abi: microTransferChannelsAbi,
      eventName: "ChannelCreated",
      args: { sender },
      fromBlock: 0n,
    })
  ).map((l) => Number(l.args.openBlock));

/** The server's view of a channel (management API). */
async function serverChannel(stack: Stack, sender: Address, openBlock: number) {
  const res = await fetch(`${stack.url}/api/1/channels/${sender}/${openBlock}`);
  expect(res.status).toBe(200);
  return (await res.json()) as { state: string; deposit: string; balance: string; charged: string; credit: string };
}

function client(c: Chain, account: PrivateKeyAccount, extra: Partial<Edge402ClientOptions> = {}) {
  const receipts: PaymentReceipt[] = [];
  const progress: ProgressEvent[] = [];
  const sdk = createEdge402Client({
    account,
    rpcUrl: c.stack.rpcUrl,
    pollingInterval: 100,
    backoff: { baseMs: 50, maxMs: 400 },
    afterPay: (r) => void receipts.push(r),
    onProgress: (e) => void progress.push(e),
    ...extra,
  });
  return { sdk, receipts, progress };
}

async function text(res: Response): Promise<string> {
  expect(res.status, `HTTP ${res.status}`).toBe(200);
  return res.text();
}

async function refusal(p: Promise<unknown>): Promise<Edge402Error> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Edge402Error);
  return err as Edge402Error;
}

describe("client SDK against the local stack", () => {
  let c: Chain;

  beforeAll(async () => {
    // Generous flow-control allowances: this file tests payments, not rate limits. No cron: the
    // paywall would settle closed channels by itself, racing the client's own settle.
    const stack = await startStack({
      env: { FREE_CAPACITY: "1000", PAID_CAPACITY: "10000" },
      scheduledEveryMs: 0,
    });
    c = await chainOf(stack);
  });

  afterAll(async () => {
    await c?.stack.stop();
  });

  it("pays many requests on one channel, opened once with a permit", async () => {
    const account = await fundedAccount(c);
    const { sdk, receipts, progress } = client(c, account);
    for (let i = 0; i < 10; i++)
      expect(await text(await sdk.fetch(`${c.stack.url}/echofix/hello${i}`))).toBe(`hello${i}`);
    const created = await channelsCreated(c, account.address);
    expect(created).toHaveLength(1);
    expect(progress.filter((e) => e.type === "transaction").map((e) => (e as { action: string }).action)).toEqual([
      "open",
    ]);
    expect(receipts.map((r) => r.cost)).toEqual(Array(10).fill(5n));
    expect(receipts.at(-1)).toMatchObject({ kind: "proof", balance: 50n, deposit: 500n, credit: 0n });
    expect(await serverChannel(c.stack, account.address, created[0]!)).toMatchObject({
      balance: "50",
      charged: "50",
      credit: "0",
    });
    expect(sdk.spent()).toBe(50n);
    // A free route costs nothing and opens nothing.
    expect(await text(await sdk.fetch(`${c.stack.url}/free/x`))).toBe("x");
    expect(receipts).toHaveLength(10);
  });

  it("tops up the channel when it runs short, and keeps paying from it", async () => {
    const account = await fundedAccount(c);
    const { sdk, progress } = client(c, account, { deposit: { multiple: 2, topUp: 25n } });
    for (let i = 0; i < 4; i++) await text(await sdk.fetch(`${c.stack.url}/echofix/t${i}`));
    const created = await channelsCreated(c, account.address);
    expect(created).toHaveLength(1);
    expect(progress.filter((e) => e.type === "transaction").map((e) => (e as { action: string }).action)).toEqual([
      "open",
      "approve",
      "topUp",
    ]);
    expect((await onChain(c, account.address, created[0]!))?.deposit).toBe(35n);
    // A price above what is left: topped up by at least the shortfall.
    expect(await text(await sdk.fetch(`${c.stack.url}/echodyn/40`))).toBe("40");
    expect((await onChain(c, account.address, created[0]!))?.deposit).toBe(60n);
    expect(await serverChannel(c.stack, account.address, created[0]!)).toMatchObject({
      balance: "60",
      charged: "60",
      deposit: "60",
    });
    const [listed] = await sdk.channels();
    expect(listed).toMatchObject({
      openBlock: created[0],
      deposit: "60",
      balance: "60",
      available: "0",
      state: "open",
    });
    // Nothing left: the next payment tops up by the configured 25.
    await text(await sdk.fetch(`${c.stack.url}/echofix/after`));
    expect((await onChain(c, account.address, created[0]!))?.deposit).toBe(85n);
    expect(await channelsCreated(c, account.address)).toEqual(created);
  });

  it("rebuilds a lost store from the chain and the server's proof, and goes on with the same channel", async () => {
    const account = await fundedAccount(c);
    const home = await mkdtemp(join(tmpdir(), "edge402-client-"));
    try {
      const first = client(c, account, { store: new FileChannelStore(home) });
      for (let i = 0; i < 3; i++) await text(await first.sdk.fetch(`${c.stack.url}/echofix/a${i}`));
      const [openBlock] = await channelsCreated(c, account.address);
      await rm(home, { recursive: true, force: true });

      const second = client(c, account, { store: new FileChannelStore(home) });
      expect(await text(await second.sdk.fetch(`${c.stack.url}/echofix/b`))).toBe("b");
      expect(await channelsCreated(c, account.address)).toEqual([openBlock]);
      expect(second.receipts[0]).toMatchObject({ channel: { openBlock }, balance: 20n, cost: 5n });
      expect(second.progress.some((e) => e.type === "scan")).toBe(true);
      expect(second.sdk.spent()).toBe(5n);
      expect(await serverChannel(c.stack, account.address, openBlock!)).toMatchObject({
        balance: "20",
        charged: "20",
        credit: "0",
      });

      // And the rebuilt store is on disk again: a third client needs no scan.
      const third = client(c, account, { store: new FileChannelStore(home) });
      await text(await third.sdk.fetch(`${c.stack.url}/echofix/c`));
      expect(third.progress.some((e) => e.type === "scan")).toBe(false);
      expect(third.receipts[0]).toMatchObject({ balance: 25n });
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it("refuses a price over its budget without paying or opening anything", async () => {
    const account = await fundedAccount(c);
    const { sdk, receipts } = client(c, account, { maxSpend: { perRequest: 3n } });
    const err = await refusal(sdk.fetch(`${c.stack.url}/echofix/x`));
    expect(err.code).toBe("budget_exceeded");
    expect(await channelsCreated(c, account.address)).toEqual([]);
    expect(await tokenBalance(c, account.address)).toBe(TOKENS);
    expect(receipts).toEqual([]);
    // Within the budget it pays; the total budget stops it later.
    const capped = client(c, account, { maxSpend: { perRequest: 5n, total: 10n } });
    await text(await capped.sdk.fetch(`${c.stack.url}/echofix/1`));
    await text(await capped.sdk.fetch(`${c.stack.url}/echofix/2`));
    expect((await refusal(capped.sdk.fetch(`${c.stack.url}/echofix/3`))).code).toBe("budget_exceeded");
    expect(capped.sdk.spent()).toBe(10n);
  });

  it("counts maxSpend.total and maxDeposit per store: a second client on the same store honours what the first did", async () => {
    const account = await fundedAccount(c);
    const home = await mkdtemp(join(tmpdir(), "edge402-budget-"));
    try {
      const limits = { maxSpend: { perRequest: 5n, total: 10n } };
      const first = client(c, account, { store: new FileChannelStore(home), ...limits });
      await text(await first.sdk.fetch(`${c.stack.url}/echofix/1`));
      await text(await first.sdk.fetch(`${c.stack.url}/echofix/2`));
      const second = client(c, account, { store: new FileChannelStore(home), ...limits });
      expect((await refusal(second.sdk.fetch(`${c.stack.url}/echofix/3`))).code).toBe("budget_exceeded");
      expect([first.sdk.spent(), first.sdk.deposited()]).toEqual([10n, 500n]);
      expect([second.sdk.spent(), second.sdk.deposited()]).toEqual([10n, 500n]);
      expect(second.receipts).toEqual([]);
      // The deposit budget (here 100 × perRequest = 500) is used up by the first client's channel.
      expect((await refusal(second.sdk.topUp(c.stack.url, 1n))).code).toBe("budget_exceeded");
      const [openBlock] = await channelsCreated(c, account.address);
      expect(await serverChannel(c.stack, account.address, openBlock!)).toMatchObject({ balance: "10", charged: "10" });
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it("lets the beforePay hook decline, and tells it about the deposit first", async () => {
    const account = await fundedAccount(c);
    const seen: Array<{ kind: string; funding?: { action: string; amount: bigint } }> = [];
    const { sdk } = client(c, account, {
      beforePay: (ctx) => {
        seen.push({ kind: ctx.kind, ...(ctx.funding ? { funding: ctx.funding } : {}) });
        return false;
      },
    });
    expect((await refusal(sdk.fetch(`${c.stack.url}/echofix/x`))).code).toBe("payment_declined");
    expect(seen).toEqual([{ kind: "proof", funding: { action: "open", amount: 500n } }]);
    expect(await channelsCreated(c, account.address)).toEqual([]);
  });

  it("closes cooperatively at the charged total and gets the unspent deposit back", async () => {
    const account = await fundedAccount(c);
    const { sdk } = client(c, account);
    for (let i = 0; i < 3; i++) await text(await sdk.fetch(`${c.stack.url}/echofix/${i}`));
    const [openBlock] = await channelsCreated(c, account.address);
    const receiverBefore = await tokenBalance(c, c.stack.receiver);
    const results = await sdk.close(c.stack.url);
    expect(results).toEqual([
      expect.objectContaining({ openBlock, mode: "cooperative", state: "settled", balance: "15", refund: "485" }),
    ]);
    expect(await onChain(c, account.address, openBlock!)).toBeNull();
    expect(await tokenBalance(c, account.address)).toBe(TOKENS - 15n);
    expect(await tokenBalance(c, c.stack.receiver)).toBe(receiverBefore + 15n);
    expect(await sdk.channels()).toEqual([]);
    expect((await sdk.channels({ all: true }))[0]).toMatchObject({ state: "settled", refund: "485" });
    expect((await refusal(sdk.close(c.stack.url))).code).toBe("no_channel");
  });

  it("with prepay, signs ahead, spends the credit by session, and a close refunds what is left", async () => {
    const account = await fundedAccount(c);
    const { sdk, receipts } = client(c, account, { prepay: { multiple: 4 } });
    for (let i = 0; i < 6; i++) await text(await sdk.fetch(`${c.stack.url}/echofix/p${i}`));
    expect(receipts.map((r) => `${r.kind}:${r.balance}:${r.credit}`)).toEqual([
      "proof:20:15",
      "session:20:10",
      "session:20:5",
      "session:20:0",
      "proof:40:15",
      "session:40:10",
    ]);
    const [openBlock] = await channelsCreated(c, account.address);
    expect(await serverChannel(c.stack, account.address, openBlock!)).toMatchObject({
      balance: "40",
      charged: "30",
      credit: "10",
    });
    const [closed] = await sdk.close(c.stack.url);
    expect(closed).toMatchObject({ mode: "cooperative", balance: "30", refund: "470" });
    expect(await tokenBalance(c, account.address)).toBe(TOKENS - 30n);
  });

  it("after losing its store, closes cooperatively at C: the server's B, signed by this sender, covers it", async () => {
    const account = await fundedAccount(c);
    const home = await mkdtemp(join(tmpdir(), "edge402-client-"));
    try {
      const first = client(c, account, { store: new FileChannelStore(home), prepay: { multiple: 4 } });
      for (let i = 0; i < 2; i++) await text(await first.sdk.fetch(`${c.stack.url}/echofix/l${i}`));
      const [openBlock] = await channelsCreated(c, account.address);
      expect(await serverChannel(c.stack, account.address, openBlock!)).toMatchObject({ balance: "20", charged: "10" });
      await rm(home, { recursive: true, force: true });

      const second = client(c, account, { store: new FileChannelStore(home) });
      const [closed] = await second.sdk.close(c.stack.url);
      expect(closed).toMatchObject({ openBlock, mode: "cooperative", state: "settled", balance: "10", refund: "490" });
      expect(await tokenBalance(c, account.address)).toBe(TOKENS - 10n);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it("closes uncooperatively at the last accepted balance, and settles after the challenge period", async () => {
    const account = await fundedAccount(c);
    const { sdk } = client(c, account);
    for (let i = 0; i < 2; i++) await text(await sdk.fetch(`${c.stack.url}/echodyn/7`));
    const [openBlock] = await channelsCreated(c, account.address);
    const [closing] = await sdk.close(c.stack.url, { uncooperative: true });
    expect(closing).toMatchObject({ openBlock, mode: "uncooperative", state: "closing", balance: "14" });
    expect(await onChain(c, account.address, openBlock!)).toMatchObject({
      settleBlock: closing!.settleBlock,
      closingBalance: 14n,
    });
    const [early] = await sdk.settle();
    expect(early).toMatchObject({ state: "closing", settleBlock: closing!.settleBlock });
    expect(early!.blocksLeft).toBeGreaterThan(0);
    expect(await onChain(c, account.address, openBlock!)).not.toBeNull();
    await mine(c.stack.rpcUrl, 501);
    const [settled] = await sdk.settle();
    expect(settled).toMatchObject({ openBlock, state: "settled", refund: "686" });
    expect(await onChain(c, account.address, openBlock!)).toBeNull();
    expect(await tokenBalance(c, account.address)).toBe(TOKENS - 14n);
    expect(await sdk.settle()).toEqual([]);
  });

  it("reports a channel someone else settled between its read and its settle transaction as settled", async () => {
    const account = await fundedAccount(c);
    // The sender's wallet, on a transport that lets another account settle the channel just
    // before the sender's own settle transaction reaches the node (the paywall's cron does this
    // on its own when it runs first).
    const node = http(c.stack.rpcUrl)({ chain: c.chain });
    let beforeNextSend: (() => Promise<void>) | undefined;
    const transport = custom({
      async request({ method, params }) {
        if (method === "eth_sendRawTransaction" && beforeNextSend) {
          const run = beforeNextSend;
          beforeNextSend = undefined;
          await run();
        }
        return node.request({ method, params });
      },
    });
    const walletClient = createWalletClient({ account, chain: c.chain, transport });
    const { sdk } = client(c, account, { account: undefined, walletClient });
    await text(await sdk.fetch(`${c.stack.url}/echodyn/7`));
    const [openBlock] = await channelsCreated(c, account.address);
    await sdk.close(c.stack.url, { uncooperative: true });
    await mine(c.stack.rpcUrl, 501);
    const other = await fundedAccount(c);
    beforeNextSend = async () => {
      const wallet = createWalletClient({ account: other, chain: c.chain, transport: http(c.stack.rpcUrl) });
      const hash = await wallet.writeContract({
        address: c.stack.contract,
        abi: microTransferChannelsAbi,
        functionName: "settle",
        args: [account.address, c.stack.receiver, openBlock!],
      });
      expect((await c.pub.waitForTransactionReceipt({ hash })).status).toBe("success");
    };
    const [settled] = await sdk.settle();
    expect(beforeNextSend).toBeUndefined();
    expect(settled).toMatchObject({ openBlock, state: "settled", refund: "693" });
    expect(await onChain(c, account.address, openBlock!)).toBeNull();
    expect(await tokenBalance(c, account.address)).toBe(TOKENS - 7n);
    expect(await sdk.settle()).toEqual([]);
  });

  it("closes uncooperatively when the server it paid through is gone", async () => {
    // A plain forwarding hop in front of the Worker: payments go through it, then it goes away.
    const target = new URL(c.stack.url);
    const hop: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (d: Buffer) => chunks.push(d));
      req.on("end", () => {
        const headers = new Headers();
        for (const [k, v] of Object.entries(req.headers)) {
          if (typeof v === "string" && !["host", "connection", "accept-encoding"].includes(k)) headers.set(k, v);
        }
        fetch(`${c.stack.url}${req.url}`, {
          method: req.method,
          headers,
          ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
        }).then(
          async (up) => {
            const out = Object.fromEntries(
              [...up.headers].filter(([k]) => !["content-encoding", "content-length", "transfer-encoding"].includes(k)),
            );
            res.writeHead(up.status, out);
            res.end(Buffer.from(await up.arrayBuffer()));
          },
          () => res.writeHead(502).end(),
        );
      });
    });
    await new Promise<void>((r) => hop.listen(0, target.hostname, r));
    const hopUrl = `http://${target.hostname}:${(hop.address() as AddressInfo).port}`;
    const account = await fundedAccount(c);
    const { sdk, progress } = client(c, account);
    try {
      expect(await text(await sdk.fetch(`${hopUrl}/echofix/via`))).toBe("via");
    } finally {
      await new Promise((r) => hop.close(r));
    }
    const [openBlock] = await channelsCreated(c, account.address);
    const [result] = await sdk.close(hopUrl);
    expect(result).toMatchObject({ openBlock, mode: "uncooperative", state: "closing", balance: "5" });
    expect(progress.some((e) => e.type === "close" && e.mode === "uncooperative")).toBe(true);
    expect((await onChain(c, account.address, openBlock!))?.closingBalance).toBe(5n);
  });

  it("pays many requests at once: no balance sent twice, none lost, the server's balance is the sum charged", async () => {
    const account = await fundedAccount(c);
    const sent: bigint[] = [];
    let answered = 0n;
    const answeredWaiters: Array<() => void> = [];
    // Holds back some proofs until a higher one has been answered, so they reach the server late.
    const held = new Set([15n, 45n, 75n]);
    const transport: typeof fetch = async (input, init) => {
      const req = new Request(input, init);
      const balance = req.headers.get("RDN-Balance");
      if (balance !== null) {
        const n = BigInt(balance);
        sent.push(n);
        if (held.has(n)) {
          const deadline = Date.now() + 10_000;
          while (answered <= n && Date.now() < deadline) await new Promise<void>((r) => answeredWaiters.push(r));
        }
      }
      const res = await fetch(req);
      const b = res.headers.get("RDN-Sender-Balance");
      if (res.status === 200 && b !== null && BigInt(b) > answered) answered = BigInt(b);
      for (const w of answeredWaiters.splice(0)) w();
      return res;
    };
    const { sdk, receipts } = client(c, account, { fetch: transport, store: new MemoryChannelStore() });
    // Learn the price once, then 40 requests at once.
    await text(await sdk.fetch(`${c.stack.url}/echofix/warm`));
    const bodies = await Promise.all(
      Array.from({ length: 40 }, (_, _i) => sdk.fetch(`${c.stack.url}/echofix/warm`).then(text)),
    );
    expect(bodies).toEqual(Array(40).fill("warm"));
    expect(new Set(sent).size).toBe(sent.length);
    const created = await channelsCreated(c, account.address);
    expect(created).toHaveLength(1);
    const server = await serverChannel(c.stack, account.address, created[0]!);
    const charged = receipts.reduce((sum, r) => sum + r.cost, 0n);
    expect(charged).toBe(41n * 5n);
    expect(server).toMatchObject({ balance: String(charged), charged: String(charged), credit: "0" });
    // The held-back proofs were overtaken; their requests were paid from the credit they became.
    expect(receipts.filter((r) => r.kind === "session").length).toBeGreaterThanOrEqual(1);
    const [listed] = await sdk.channels({ refresh: false });
    expect(listed).toMatchObject({ balance: String(charged), signed: String(charged) });
    expect(sdk.spent()).toBe(charged);
  });
});

describe("client SDK against a server that wants two confirmations", () => {
  let c: Chain;

  beforeAll(async () => {
    const stack = await startStack({ env: { MIN_CONFIRMATIONS: "2", FREE_CAPACITY: "1000", PAID_CAPACITY: "10000" } });
    c = await chainOf(stack);
  });

  afterAll(async () => {
    await c?.stack.stop();
  });

  it("backs off on insufficient_confirmations a bounded number of times, then pays once the chain moves", async () => {
    const account = await fundedAccount(c);
    let requests = 0;
    const counting: typeof fetch = (input, init) => {
      requests++;
      return fetch(input, init);
    };
    const store = new MemoryChannelStore();
    const { sdk, progress } = client(c, account, { fetch: counting, maxAttempts: 4, store });
    const err = await refusal(sdk.fetch(`${c.stack.url}/echofix/young`));
    expect(err.code).toBe("insufficient_confirmations");
    expect(requests).toBe(4);
    const retries = progress.filter((e) => e.type === "retry");
    expect(retries.map((e) => (e as { code: string }).code)).toEqual(Array(2).fill("insufficient_confirmations"));
    const delays = retries.map((e) => (e as { delayMs: number }).delayMs);
    expect(delays[1]).toBeGreaterThan(delays[0]!);
    await mine(c.stack.rpcUrl, 1);
    // The server may still remember "unconfirmed" for a moment: a patient client (same store) waits it out.
    const patient = client(c, account, { store, maxAttempts: 10, backoff: { baseMs: 200, maxMs: 1000 } });
    expect(await text(await patient.sdk.fetch(`${c.stack.url}/echofix/young`))).toBe("young");
    expect(patient.progress.some((e) => e.type === "transaction")).toBe(false);
    const created = await channelsCreated(c, account.address);
    expect(created).toHaveLength(1);
    expect(await serverChannel(c.stack, account.address, created[0]!)).toMatchObject({ balance: "5", charged: "5" });
  });
});
