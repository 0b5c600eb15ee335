// The shapes an application sees of the client at work: `PaymentContext` (what is about to be
// paid, and any deposit that would be made for it) for the `beforePay` hook, which can ask a
// human and decline; `PaymentReceipt` for `afterPay`; and `ProgressEvent`, the slow steps on
// chain and the waits between retries, for `onProgress` (the CLI prints them to stderr).
import type { Address, Hex } from "viem";

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

export type ChainAction = "approve" | "open" | "topUp" | "cooperativeClose" | "uncooperativeClose" | "settle";

export type ProgressEvent =
  | { type: "transaction"; action: ChainAction; hash: Hex }
  | { type: "confirming"; action: ChainAction; hash: Hex; confirmations: number }
  | { type: "confirmed"; action: ChainAction; hash: Hex; blockNumber: bigint }
  | { type: "scan"; receiver: Address; fromBlock: bigint; toBlock: bigint }
  | { type: "retry"; code: string; attempt: number; delayMs: number; url: string }
  | { type: "close"; openBlock: number; mode: "cooperative" | "uncooperative"; reason?: string };

export type Hooks = {
  /** Called before anything is paid or deposited; return false to decline (`payment_declined`). */
  beforePay?: (ctx: PaymentContext) => boolean | void | Promise<boolean | void>;
  /** Called after a paid request was served. */
  afterPay?: (receipt: PaymentReceipt) => void | Promise<void>;
  /** Slow chain steps and retry waits. */
  onProgress?: (event: ProgressEvent) => void;
};
