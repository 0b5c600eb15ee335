// The SDK's entry: one place that wires a signer, a chain and a channel store into the parts
// (book, payer, paying fetch, channel manager), so that an application configures one object
// and every part shares the same books and budgets.
import type { Address } from "viem";
import { ChannelBook } from "./book.js";
import { ChainAccess, type ChainOptions } from "./chain.js";
import {
  ChannelManager,
  type ChannelSummary,
  type CloseResult,
  type SettleResult,
  type TopUpResult,
} from "./channels.js";
import { ClientErrorCodes, Edge402Error } from "./errors.js";
import { createPayingFetch } from "./fetch.js";
import type { Hooks } from "./hooks.js";
import { Payer } from "./payer.js";
import { DEFAULT_BACKOFF, resolvePolicy, type BackoffOptions, type PolicyOptions } from "./policy.js";
import { PriceBook } from "./request.js";
import { MemoryChannelStore, type ChannelStore } from "./store.js";
import { followPaidStreams, PaidStreams } from "./stream.js";

/**
 * Options of {@link createEdge402Client}: the signer and the chain (`account` with `rpcUrl`, or
 * a `walletClient` with a `publicClient` or `rpcUrl`), where channels are kept, the spending
 * policy and budgets, the hooks, and how hard to retry.
 *
 * @example
 * const options: Edge402ClientOptions = {
 *   account: privateKeyToAccount(key),
 *   rpcUrl: "http://127.0.0.1:8545",
 *   store: new FileChannelStore(`${process.env.HOME}/.edge402`),
 *   maxSpend: { perRequest: 10n, total: 1_000n },
 *   beforePay: (ctx) => ctx.price <= 10n,
 * };
 */
export type Edge402ClientOptions = Hooks &
  Omit<ChainOptions, "onProgress" | "logChunkSize"> &
  PolicyOptions & {
    /** Where channels are kept (default: in memory). Use `FileChannelStore` in Node. */
    store?: ChannelStore;
    /** The fetch that sends requests (default `globalThis.fetch`). */
    fetch?: typeof fetch;
    /** Requests sent per call at most, including the first unpaid one (default 6). */
    maxAttempts?: number;
    /** Backoff between resends of a proof the server cannot take yet (default 250 ms doubling to 4 s). */
    backoff?: Partial<BackoffOptions>;
    /** Retry a 429 whose `Retry-After` is at most this many ms (default 10 000). */
    maxRetryAfterMs?: number;
    /** How long a request whose proof became credit waits for a session token (default 10 000 ms). */
    sessionWaitMs?: number;
  };

/** What {@link createEdge402Client} returns: the paying `fetch`, the budgets' counters and channel management. */
export type Edge402Client = {
  /** The sender's address. */
  address: Address;
  /**
   * `fetch` that pays 402s through channels: the same signature and result as `fetch`.
   * Throws `Edge402Error` when a payment is refused for good (see `ClientErrorCodes`).
   */
  fetch: typeof fetch;
  /** What this client's store signed away so far (all channels; what `maxSpend.total` counts). */
  spent(): bigint;
  /** What this client's store deposited so far (opens and top-ups; what `maxDeposit` counts). */
  deposited(): bigint;
  /** The sender's channels (unsettled unless `all`), refreshed from the chain unless `refresh: false`. */
  channels(opts?: { server?: string; refresh?: boolean; all?: boolean }): Promise<ChannelSummary[]>;
  /** Adds `amount` to a server's channel, or opens one with it; counts against `maxDeposit`. */
  topUp(serverUrl: string, amount: bigint, opts?: { openBlock?: number }): Promise<TopUpResult>;
  /** Closes the channels to a server: cooperatively, else uncooperatively. Throws `no_channel` when there is none. */
  close(serverUrl: string, opts?: { uncooperative?: boolean; openBlock?: number }): Promise<CloseResult[]>;
  /** Settles closing channels whose challenge period is over. */
  settle(opts?: { server?: string }): Promise<SettleResult[]>;
};

/** The parts every way of paying shares, for one signer on one chain: the chain access (with
 *  its contract trust check), the channel book over the store, the payer under the policy,
 *  the channel manager, and the backoff between resends. */
export type ClientParts = {
  chain: ChainAccess;
  book: ChannelBook;
  payer: Payer;
  manager: ChannelManager;
  hooks: Hooks;
  backoff: BackoffOptions;
  /** The fetch that sends requests. */
  send: typeof fetch;
};

/** Checks the options and builds the parts (the paying fetch's and the x402 scheme's). */
export function createClientParts(options: Omit<Edge402ClientOptions, "maxAttempts">): ClientParts {
  const policy = resolvePolicy(options);
  const hooks: Hooks = { beforePay: options.beforePay, afterPay: options.afterPay, onProgress: options.onProgress };
  const chain = new ChainAccess(options);
  const send = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));
  const book = new ChannelBook(options.store ?? new MemoryChannelStore(), chain.address);
  const payer = new Payer({ chain, book, policy, hooks, sessionWaitMs: options.sessionWaitMs ?? 10_000 });
  const manager = new ChannelManager({ chain, book, hooks, policy, fetch: send });
  return { chain, book, payer, manager, hooks, backoff: { ...DEFAULT_BACKOFF, ...options.backoff }, send };
}

/**
 * Creates a client that pays for HTTP requests through edge402 payment channels: its `fetch`
 * answers a 402 by paying (opening or topping up a channel on chain when needed) and sending
 * the request again, and its other methods list, fund, close and settle the channels.
 *
 * @param options - The signer, the chain, the store, the policy and budgets, the hooks.
 * @returns The client: `fetch`, `spent`, `deposited`, `channels`, `topUp`, `close`, `settle`.
 * @throws {Edge402Error} `invalid_argument` when the options are incomplete or out of range (no
 * signer, no chain, a bad budget or `maxAttempts` below 2). Nothing touches the network here.
 *
 * @example
 * import { createEdge402Client, FileChannelStore } from "edge402/client";
 * import { privateKeyToAccount } from "viem/accounts";
 *
 * const client = createEdge402Client({
 *   account: privateKeyToAccount(process.env.KEY as `0x${string}`),
 *   rpcUrl: "http://127.0.0.1:8545",
 *   store: new FileChannelStore(`${process.env.HOME}/.edge402`),
 *   maxSpend: { perRequest: 10n, total: 1_000n },
 * });
 * const res = await client.fetch("http://127.0.0.1:8787/echofix/hello");
 * console.log(await res.text(), client.spent());
 * await client.close("http://127.0.0.1:8787");
 */
export function createEdge402Client(options: Edge402ClientOptions): Edge402Client {
  const maxAttempts = options.maxAttempts ?? 6;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 2) {
    throw new Edge402Error(ClientErrorCodes.invalidArgument, "maxAttempts must be an integer of at least 2");
  }
  const { chain, book, payer, manager, hooks, backoff, send } = createClientParts(options);
  const streams = new PaidStreams();
  const paying = createPayingFetch({
    payer,
    book,
    chain,
    hooks,
    prices: new PriceBook(),
    fetch: send,
    maxAttempts,
    backoff,
    maxRetryAfterMs: options.maxRetryAfterMs ?? 10_000,
    streams,
  });
  return {
    address: chain.address,
    fetch: followPaidStreams({ paying, book, hooks, streams }),
    spent: () => book.spent,
    deposited: () => book.deposited,
    channels: (opts) => manager.list(opts),
    topUp: (serverUrl, amount, opts) => manager.topUp(serverUrl, amount, opts),
    close: (serverUrl, opts) => manager.close(serverUrl, opts),
    settle: (opts) => manager.settle(opts),
  };
}

/**
 * Wraps a `fetch` so that it pays 402s through channels: the short form of
 * {@link createEdge402Client} for code that needs only the paying fetch.
 *
 * @param fetchFn - The fetch that sends the requests.
 * @param options - As for {@link createEdge402Client}, without `fetch`.
 * @returns A function with `fetch`'s signature that pays.
 * @throws {Edge402Error} `invalid_argument` for incomplete or out-of-range options.
 *
 * @example
 * const paying = wrapFetch(fetch, { account, rpcUrl: "http://127.0.0.1:8545" });
 * const res = await paying("http://127.0.0.1:8787/echofix/hello");
 */
export function wrapFetch(fetchFn: typeof fetch, options: Omit<Edge402ClientOptions, "fetch">): typeof fetch {
  return createEdge402Client({ ...options, fetch: fetchFn }).fetch;
}
