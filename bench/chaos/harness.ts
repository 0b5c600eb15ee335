// What every chaos scenario shares: the real stack (anvil + wrangler dev, scripts/stack.ts) with
// flow control opened wide, HTTP calls that never throw (a dropped connection is an answer of
// its own: the outcome is unknown), the channel as the server holds it (the object through
// GET /api/1/channels, and the D1 projection through the admin API), the chain's word, and a
// per-channel ledger of what the client saw, which is what the server's state is judged against.
import {
  createPublicClient,
  createWalletClient,
  http,
  type Abi,
  type Address,
  type Hex,
  type TransactionReceipt,
} from "viem";
import type { PrivateKeyAccount } from "viem/accounts";
import { microTransferChannelsAbi, testTokenAbi } from "../../src/protocol/abi.js";
import { RdnHeaders } from "../../src/protocol/headers.js";
import { signCloseRequest } from "../../src/protocol/sign.js";
import { rpcChain } from "../../src/client/chain.js";
import { rpc } from "../../scripts/anvil.js";
import { startStack, type Stack, type StackOptions } from "../../scripts/stack.js";
import { proofHeaders, signProof, type BenchChannel } from "../channels.js";

export type Progress = (message: string) => void;

/** The demo route every scenario pays for, and its price. */
export const PRICE = 5n;
export const PAID_PATH = "/echofix";

/** The stack of the chaos run: flow control wide open (capacity is not what is tested), the
 *  scheduled sync every second, and any Worker vars the scenario adds (e.g. RPC_URL). */
export function chaosStack(env: Record<string, string> = {}, opts: StackOptions = {}): Promise<Stack> {
  return startStack({
    env: { FREE_CAPACITY: "1000000", PAID_CAPACITY: "1000000", LOOKUP_RATE: "1000000", ...env },
    scheduledEveryMs: 1_000,
    quiet: true,
    handleSignals: true,
    ...opts,
  });
}

/** An HTTP answer, or `status: 0` with the transport error (the outcome is then unknown). */
export type Answer = { status: number; headers: Headers; text: string; error?: string; ms: number };

/** `fetch` that never throws: a transport error or a timeout is `status: 0`. */
export async function send(url: string, init: RequestInit = {}, timeoutMs = 60_000): Promise<Answer> {
  const t0 = performance.now();
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, ms: performance.now() - t0 };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const error = e.cause?.code ?? e.cause?.message ?? e.name ?? e.message;
    return { status: 0, headers: new Headers(), text: "", error: String(error), ms: performance.now() - t0 };
  }
}

/** The JSON error code of an answer, or null when its body is not the protocol's error body. */
export function errorCodeOf(a: Answer): string | null {
  try {
    const code = (JSON.parse(a.text) as { error?: { code?: unknown } }).error?.code;
    return typeof code === "string" ? code : null;
  } catch {
    return null;
  }
}

/** A short label of an answer for tallies: `200`, `402 invalid_amount`, `error ECONNRESET`. */
export function label(a: Answer): string {
  if (a.status === 0) return `error ${a.error}`;
  if (a.status < 300) return String(a.status);
  return `${a.status} ${errorCodeOf(a) ?? "(not JSON)"}`;
}

export function tally(into: Record<string, number>, key: string, n = 1): void {
  into[key] = (into[key] ?? 0) + n;
}

/** The channel as its object holds it (GET /api/1/channels/{sender}/{openBlock}). */
export type ServerChannel = {
  state: string;
  deposit: bigint;
  balance: bigint;
  charged: bigint;
  credit: bigint;
  withdrawn: bigint;
  closeRequested: boolean;
};

const channelPath = (ch: { sender: Address; openBlock: number }) => `/api/1/channels/${ch.sender}/${ch.openBlock}`;

function serverChannel(j: Record<string, unknown>): ServerChannel {
  return {
    state: String(j.state),
    deposit: BigInt(j.deposit as string),
    balance: BigInt(j.balance as string),
    charged: BigInt(j.charged as string),
    credit: BigInt(j.credit as string),
    withdrawn: BigInt(j.withdrawn as string),
    closeRequested: j.closeRequested === true,
  };
}

/** The channel from the public API; throws unless it answers 200. */
export async function publicChannel(stack: Stack, ch: { sender: Address; openBlock: number }): Promise<ServerChannel> {
  const a = await send(`${stack.url}${channelPath(ch)}`);
  if (a.status !== 200) throw new Error(`GET ${channelPath(ch)}: ${label(a)}`);
  return serverChannel(JSON.parse(a.text) as Record<string, unknown>);
}

/** The D1 projection's row of the channel, as the admin API shows it beside the object's view. */
export type ProjectionRow = { deposit: string; balance: string; charged: string; state: string; version: number };

/** The admin view of a channel: the object's and the D1 projection's. */
export async function adminChannel(
  stack: Stack,
  ch: { sender: Address; openBlock: number },
): Promise<{ channel: ServerChannel; projection: ProjectionRow | null }> {
  const a = await send(`${stack.url}/api/1/admin${channelPath(ch).slice("/api/1".length)}`, {
    headers: { authorization: `Bearer ${stack.adminToken}` },
  });
  if (a.status !== 200) throw new Error(`admin GET ${channelPath(ch)}: ${label(a)}`);
  const j = JSON.parse(a.text) as { channel: Record<string, unknown>; projection: ProjectionRow | null };
  return { channel: serverChannel(j.channel), projection: j.projection };
}

/** The channel's deposit on chain now (0 when it does not exist). */
export async function chainDeposit(stack: Stack, ch: { sender: Address; openBlock: number }): Promise<bigint> {
  const { encodeFunctionData, decodeFunctionResult } = await import("viem");
  const data = encodeFunctionData({
    abi: microTransferChannelsAbi,
    functionName: "getChannelInfo",
    args: [ch.sender, stack.receiver, ch.openBlock],
  });
  try {
    const out = await rpc<Hex>(stack.rpcUrl, "eth_call", [{ to: stack.contract, data }, "latest"]);
    const [, deposit] = decodeFunctionResult({
      abi: microTransferChannelsAbi,
      functionName: "getChannelInfo",
      data: out,
    });
    return deposit;
  } catch (err) {
    if (/revert/i.test((err as Error).message)) return 0n;
    throw err;
  }
}

export const headBlock = async (stack: Stack) => Number(await rpc<string>(stack.rpcUrl, "eth_blockNumber"));

/** Polls `probe` every `everyMs` until it returns a value; throws after `ms`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000, everyMs = 250) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await sleep(everyMs);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The sync's view (GET /api/1/stats). */
export async function syncStats(stack: Stack) {
  const a = await send(`${stack.url}/api/1/stats`, {}, 10_000);
  if (a.status !== 200) throw new Error(`stats: ${label(a)}`);
  return JSON.parse(a.text) as {
    syncedBlock: number | null;
    sync: { reorgs: number; lastError: string | null; headBlock: number | null } | null;
  };
}

/** Waits until the sync has read the chain up to its head (MIN_CONFIRMATIONS is 1 here). */
export async function syncedToHead(stack: Stack, ms = 60_000): Promise<number> {
  return waitFor(
    "the sync to reach the chain's head",
    async () => {
      const head = await headBlock(stack);
      const s = await syncStats(stack);
      return s.syncedBlock !== null && s.syncedBlock >= head ? head : undefined;
    },
    ms,
  );
}

/** What the client saw of one channel: the proofs it signed, what was answered 200, and what
 *  got no answer (accepted or not: unknown). The server's state is judged against it. */
export class Ledger {
  /** Every balance a proof was sent for, with its signature (0: none yet). */
  readonly signed = new Map<bigint, Hex>();
  lastSent = 0n;
  maxAccepted = 0n;
  acceptedCost = 0n;
  unknownCost = 0n;
  accepted = 0;
  unknown = 0;
  /** C seen on the last 200 (B - credit from its headers), to catch a rollback between answers. */
  lastSeenCharged = 0n;
  rollbacksSeen = 0;
  acceptedUnseen = 0;
  session: string | undefined;
  readonly refused: Record<string, number> = {};

  constructor(readonly channel: BenchChannel) {}

  /** Books one answer to a request that would have cost `price`; returns its label. */
  book(a: Answer, price: bigint, proofBalance?: bigint): string {
    const l = label(a);
    if (a.status === 200) {
      this.accepted++;
      this.acceptedCost += BigInt(a.headers.get("RDN-Cost") ?? "0");
      if (proofBalance !== undefined && proofBalance > this.maxAccepted) this.maxAccepted = proofBalance;
      const b = BigInt(a.headers.get("RDN-Sender-Balance") ?? "0");
      const charged = b - BigInt(a.headers.get("RDN-Credit") ?? "0");
      if (charged < this.lastSeenCharged) this.rollbacksSeen++;
      this.lastSeenCharged = charged;
      this.session = a.headers.get("RDN-Session") ?? this.session;
    } else if (a.status === 0 || a.status >= 500) {
      this.unknown++;
      this.unknownCost += price;
    } else {
      tally(this.refused, l);
      // A refusal that shows this very proof as the server's B: it was accepted by an earlier
      // delivery of the same request, answered 200 to no one (wrangler dev's proxy retries a GET
      // that a crashed runtime dropped). It was charged: its outcome counts as unknown.
      if (proofBalance !== undefined && a.headers.get("RDN-Sender-Balance") === proofBalance.toString()) {
        this.acceptedUnseen++;
        this.unknownCost += price;
      }
    }
    return l;
  }
}

/** Sends a fresh proof for `lastSent + price + surplus` on the ledger's channel. */
export async function payProof(stack: Stack, ledger: Ledger, price = PRICE, surplus = 0n, path = PAID_PATH) {
  const n = ledger.lastSent + price + surplus;
  const sig = await signProof(stack, ledger.channel, n);
  ledger.signed.set(n, sig);
  ledger.lastSent = n;
  const a = await send(`${stack.url}${path}/p${n}`, { headers: proofHeaders(ledger.channel, n, sig) });
  return { answer: a, label: ledger.book(a, price, n) };
}

/** Spends `price` from credit with the ledger's session token. */
export async function spendSession(stack: Stack, ledger: Ledger, price = PRICE, path = PAID_PATH) {
  const a = await send(`${stack.url}${path}/s`, { headers: { "RDN-Session": ledger.session ?? "" } });
  return { answer: a, label: ledger.book(a, price) };
}

/** A read that changes nothing and shows the server's B and its signature: a proof with a
 *  well-formed but wrong signature is refused (invalid_balance_proof) with the channel headers. */
export async function heldProof(
  stack: Stack,
  ch: BenchChannel,
): Promise<{ balance: bigint; signature: string | null }> {
  const junk = `0x${"11".repeat(64)}1b` as Hex;
  const a = await send(`${stack.url}${PAID_PATH}/probe`, { headers: proofHeaders(ch, 1n, junk) });
  if (a.status !== 402) throw new Error(`probe: expected 402, got ${label(a)}`);
  return {
    balance: BigInt(a.headers.get("RDN-Sender-Balance") ?? "0"),
    signature: a.headers.get("RDN-Balance-Signature"),
  };
}

/** Runs `work(slot)` in `n` async slots until `until()` says stop. */
export async function slots(n: number, until: () => boolean, work: (slot: number) => Promise<void>): Promise<void> {
  await Promise.all(
    Array.from({ length: n }, async (_, slot) => {
      while (!until()) await work(slot);
    }),
  );
}

/** Sends one contract call from `account` on the stack's anvil and waits for its receipt. */
export async function transact(
  stack: Stack,
  account: PrivateKeyAccount,
  call: { address: Address; abi: Abi; functionName: string; args: readonly unknown[] },
): Promise<TransactionReceipt> {
  const chain = rpcChain(stack.chainId, stack.rpcUrl);
  const wallet = createWalletClient({ account, chain, transport: http(stack.rpcUrl) });
  const pub = createPublicClient({ chain, transport: http(stack.rpcUrl), pollingInterval: 50 });
  const hash = await wallet.writeContract(call as never);
  const receipt = await pub.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error(`${call.functionName} reverted (${hash})`);
  return receipt;
}

/** Mints `amount` to `account` and lets the channel contract take it (two transactions). */
export async function fund(stack: Stack, account: PrivateKeyAccount, amount: bigint): Promise<void> {
  const token = { address: stack.token, abi: testTokenAbi };
  await transact(stack, account, { ...token, functionName: "mint", args: [account.address, amount] });
  await transact(stack, account, { ...token, functionName: "approve", args: [stack.contract, amount] });
}

/** Tops the channel up by `added` (one transaction), after funding the sender unless `funded`. */
export async function topUp(
  stack: Stack,
  ch: BenchChannel,
  added: bigint,
  funded = false,
): Promise<TransactionReceipt> {
  if (!funded) await fund(stack, ch.account, added);
  return transact(stack, ch.account, {
    address: stack.contract,
    abi: microTransferChannelsAbi,
    functionName: "topUp",
    args: [stack.receiver, ch.openBlock, added],
  });
}

/** How many events the contract emitted from its deploy block to the head. */
export async function contractEventCount(stack: Stack): Promise<number> {
  const logs = await rpc<unknown[]>(stack.rpcUrl, "eth_getLogs", [
    { address: stack.contract, fromBlock: `0x${stack.deployBlock.toString(16)}`, toBlock: "latest" },
  ]);
  return logs.length;
}

/** The admin API's sync row (GET /api/1/admin/sync). */
export async function adminSync(stack: Stack) {
  const a = await send(`${stack.url}/api/1/admin/sync`, { headers: { authorization: `Bearer ${stack.adminToken}` } });
  if (a.status !== 200) throw new Error(`admin sync: ${label(a)}`);
  return (
    JSON.parse(a.text) as {
      sync: {
        eventsApplied: number;
        reorgs: number;
        lastError: string | null;
        lastRunAt: number | null;
        running: boolean;
        leaseUntil: number | null;
      };
    }
  ).sync;
}

/** Channels whose object (public API) or D1 projection (admin API) disagrees with the chain's
 *  deposit, or whose projection has not reached the object's B and C, after waiting up to `ms`
 *  for the projection to catch up. */
export async function depositMismatches(stack: Stack, channels: readonly BenchChannel[], ms = 15_000) {
  let bad = 0;
  for (const ch of channels) {
    const onChain = await chainDeposit(stack, ch);
    const ok = await waitFor(
      "the deposit to match the chain",
      async () => {
        const { channel, projection } = await adminChannel(stack, ch);
        const same =
          projection &&
          BigInt(projection.deposit) === onChain &&
          BigInt(projection.balance) === channel.balance &&
          BigInt(projection.charged) === channel.charged;
        return channel.deposit === onChain && same ? true : undefined;
      },
      ms,
    ).catch(() => false);
    if (!ok) bad++;
  }
  return bad;
}

/** The headers of the sender's close request (`DELETE /api/1/channels/…`), valid ten minutes. */
export async function closeHeaders(stack: Stack, ch: BenchChannel): Promise<Record<string, string>> {
  const deadline = BigInt(Math.floor(Date.now() / 1000) + 600);
  const { chainId, contract, receiver } = stack;
  const signature = await signCloseRequest(ch.account, {
    chainId,
    contract,
    receiver,
    openBlock: ch.openBlock,
    deadline,
  });
  return { [RdnHeaders.closeSignature]: signature, [RdnHeaders.closeDeadline]: deadline.toString() };
}
