// The SDK's entry: `createEdge402Client(options)` wires the parts together for one signer (a
// local account or a wallet client) on one chain: the channel book over a store, the payer
// with its spending policy and hooks, the auto-paying `fetch`, and channel management (list,
// top up, close, settle). `wrapFetch(fetch, options)` is the short form that returns only the
// paying fetch.
import type { Account, Address, PublicClient, WalletClient } from "viem";
import { ChannelBook } from "./book.js";
import { ChainAccess } from "./chain.js";
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
import {
  DEFAULT_BACKOFF,
  resolvePolicy,
  type BackoffOptions,
  type DepositPolicy,
  type PrepayPolicy,
  type SpendLimits,
} from "./policy.js";
import { PriceBook } from "./request.js";
import { MemoryChannelStore, type ChannelStore } from "./store.js";

export type Edge402ClientOptions = Hooks & {
  /** The payer: a local account (`privateKeyToAccount`) ... */
  account?: Account;
  /** ... or a wallet client carrying its account (e.g. over an EIP-1193 provider). */
  walletClient?: WalletClient;
  /** The chain: a JSON-RPC URL (needed with `account`) ... */
  rpcUrl?: string;
  /** ... or a public client for reads. */
  publicClient?: PublicClient;
  /** Where channels are kept (default: in memory). Use `FileChannelStore` in Node. */
  store?: ChannelStore;
  /** New channel deposit (a multiple of the price, default 100) and top-up amount. */
  deposit?: DepositPolicy;
  /** Sign ahead for credit and spend it through the session token (`true` = 10 prices per proof). */
  prepay?: PrepayPolicy | boolean;
  /** Budget: the highest price per request, the most signed in total (per store). */
  maxSpend?: SpendLimits;
  /**
   * Deposit budget: the most this store deposits in total, opens and top-ups (default
   * `max(deposit.multiple × maxSpend.perRequest, deposit.minimum)`; no limit without
   * `maxSpend.perRequest`). Refunds do not give it back.
   */
  maxDeposit?: bigint;
  /** Channel contracts to use whatever their code; any other must be edge402's MicroTransferChannels. */
  trustedContracts?: readonly string[];
  /** The longest challenge period (blocks) accepted from a contract trusted by its code (default 100 000). */
  maxChallengePeriod?: number;
  /** Confirmations to wait for after each transaction (default 1). */
  confirmations?: number;
  /** Node polling interval in ms (default 1000). */
  pollingInterval?: number;
  /** Open channels with an EIP-2612 permit when the token supports it (default true). */
  permit?: boolean;
  /** First block of the chain scan that rebuilds a lost store (default 0). */
  fromBlock?: bigint;
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

export type Edge402Client = {
  /** The sender's address. */
  address: Address;
  /** `fetch` that pays 402s through channels. */
  fetch: typeof fetch;
  /** What this client's store signed away so far (all channels; what `maxSpend.total` counts). */
  spent(): bigint;
  /** What this client's store deposited so far (opens and top-ups; what `maxDeposit` counts). */
  deposited(): bigint;
  /** The sender's channels (unsettled unless `all`), refreshed from the chain unless `refresh: false`. */
  channels(opts?: { server?: string; refresh?: boolean; all?: boolean }): Promise<ChannelSummary[]>;
  /** Adds `amount` to a server's channel, or opens one with it. */
  topUp(serverUrl: string, amount: bigint, opts?: { openBlock?: number }): Promise<TopUpResult>;
  /** Closes the channels to a server: cooperatively, else uncooperatively. */
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
  const chain = new ChainAccess({
    account: options.account,
    walletClient: options.walletClient,
    rpcUrl: options.rpcUrl,
    publicClient: options.publicClient,
    confirmations: options.confirmations,
    pollingInterval: options.pollingInterval,
    permit: options.permit,
    fromBlock: options.fromBlock,
    onProgress: options.onProgress,
    trustedContracts: options.trustedContracts,
    maxChallengePeriod: options.maxChallengePeriod,
  });
  const send = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));
  const book = new ChannelBook(options.store ?? new MemoryChannelStore(), chain.address);
  const payer = new Payer({ chain, book, policy, hooks, sessionWaitMs: options.sessionWaitMs ?? 10_000 });
  const manager = new ChannelManager({ chain, book, hooks, policy, fetch: send });
  return { chain, book, payer, manager, hooks, backoff: { ...DEFAULT_BACKOFF, ...options.backoff }, send };
}

export function createEdge402Client(options: Edge402ClientOptions): Edge402Client {
  const maxAttempts = options.maxAttempts ?? 6;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 2) {
    throw new Edge402Error(ClientErrorCodes.invalidArgument, "maxAttempts must be an integer of at least 2");
  }
  const { chain, book, payer, manager, hooks, backoff, send } = createClientParts(options);
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
  });
  return {
    address: chain.address,
    fetch: paying,
    spent: () => book.spent,
    deposited: () => book.deposited,
    channels: (opts) => manager.list(opts),
    topUp: (serverUrl, amount, opts) => manager.topUp(serverUrl, amount, opts),
    close: (serverUrl, opts) => manager.close(serverUrl, opts),
    settle: (opts) => manager.settle(opts),
  };
}

/** Wraps `fetchFn` so that it pays 402s: the same signature, paying through channels. */
export function wrapFetch(fetchFn: typeof fetch, options: Omit<Edge402ClientOptions, "fetch">): typeof fetch {
  return createEdge402Client({ ...options, fetch: fetchFn }).fetch;
}
