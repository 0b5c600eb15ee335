// What an application sees of the client at work, as plain data: enough to ask a person before
// money moves (`beforePay`), to account for what was paid (`afterPay`), and to show the slow
// steps on chain (`onProgress`), without reaching into the client's books.
import type { Address, Hex } from "viem";

/** Which channel: its chain, contract, receiver and open block (the sender is the client's). */
export type ChannelRef = { chainId: number; contract: Address; receiver: Address; openBlock: number };

/** What the client is about to do for one request; `beforePay` may return false to decline. */
export type PaymentContext = {
  url: string;
  method: string;
  /** `RDN-Price` of the request (a metered route's maximum). */
  price: bigint;
  /** `proof`: a new balance proof signing `amount` more; `session`: `price` from prepaid credit. */
  kind: "proof" | "session";
  amount: bigint;
  receiver: Address;
  /** The channel that pays; undefined when a new one is opened first. */
  channel?: ChannelRef;
  /** A deposit transaction that comes first: a new channel or a top-up. */
  funding?: { action: "open" | "topUp"; amount: bigint };
  /** What this client's store signed away so far (counted against `maxSpend.total`). */
  spent: bigint;
  /** What this client's store deposited so far (counted against `maxDeposit`). */
  deposited: bigint;
};

/** A served paid request, for `afterPay`. */
export type PaymentReceipt = {
  url: string;
  method: string;
  status: number;
  kind: "proof" | "session";
  channel: ChannelRef;
  /** `RDN-Cost`: what the server charged. */
  cost: bigint;
  /** The server's B, deposit and credit after the request. */
  balance: bigint;
  deposit: bigint;
  credit: bigint;
};

/** A transaction the client sends. */
export type ChainAction = "approve" | "open" | "topUp" | "cooperativeClose" | "uncooperativeClose" | "settle";

/**
 * A slow step, for `onProgress`: a transaction sent, waited for and confirmed, a chain scan
 * for lost channels, a wait before a retry, a close.
 */
export type ProgressEvent =
  | { type: "transaction"; action: ChainAction; hash: Hex }
  | { type: "confirming"; action: ChainAction; hash: Hex; confirmations: number }
  | { type: "confirmed"; action: ChainAction; hash: Hex; blockNumber: bigint }
  | { type: "scan"; receiver: Address; fromBlock: bigint; toBlock: bigint }
  | { type: "retry"; code: string; attempt: number; delayMs: number; url: string }
  | { type: "close"; openBlock: number; mode: "cooperative" | "uncooperative"; reason?: string };

/**
 * The hooks of `createEdge402Client`. `beforePay` runs before anything is signed or deposited
 * and may decline (the request then throws `payment_declined`); a hook that throws stops the
 * request with that error.
 *
 * @example
 * const hooks: Hooks = {
 *   beforePay: (ctx) => ctx.price <= 10n && ctx.funding === undefined, // no deposits without asking
 *   afterPay: (r) => console.log(`paid ${r.cost} for ${r.url}`),
 *   onProgress: (e) => e.type === "transaction" && console.log(`${e.action}: ${e.hash}`),
 * };
 */
export type Hooks = {
  /** Called before anything is paid or deposited; return false to decline (`payment_declined`). */
  // biome-ignore lint/suspicious/noConfusingVoidType: a hook may return nothing (go ahead) or a verdict
  beforePay?: (ctx: PaymentContext) => boolean | void | Promise<boolean | void>;
  /** Called after a paid request was served. */
  afterPay?: (receipt: PaymentReceipt) => void | Promise<void>;
  /** Slow chain steps and retry waits. */
  onProgress?: (event: ProgressEvent) => void;
};
