// The receiver's transactions as data: what each kind calls on the contract (withdraw, dispute
// and close by `cooperativeClose`, settle), which intents are already covered by a transaction
// in flight or done (so a cron run that repeats itself sends nothing twice), and how the fees of
// a stuck transaction are raised for its replacement. Pure: the ReceiverObject does the I/O.
import { encodeFunctionData, type Address, type Hex } from "viem";
import { microTransferChannelsAbi } from "../../protocol/abi.js";
import { maxBigint } from "../../protocol/amount.js";

export type TxKind = "withdraw" | "dispute" | "close" | "settle";
export type TxStatus = "pending" | "confirmed" | "failed";

/**
 * Something the receiver wants done on chain for one channel. `balance` is the balance the
 * transaction settles or withdraws at (the closing balance for a settle); `balanceSig` is the
 * sender's BalanceProof signature for it (not needed by settle).
 */
export type TxIntent = { kind: TxKind; sender: Address; openBlock: number; balance: bigint; balanceSig?: Hex };

/** One logical transaction (one nonce) and every hash it was broadcast under. */
export type TxRecord = {
  id: number;
  kind: TxKind;
  sender: Address;
  openBlock: number;
  amount: bigint;
  nonce: number;
  status: TxStatus;
  /** Broadcast hashes, oldest first; the last one is the current replacement. */
  hashes: Hex[];
  /** The hash that was mined, once confirmed or failed on chain. */
  minedHash: Hex | null;
  /** The block it was mined in (number and hash), re-checked until FINALITY_DEPTH blocks deep. */
  minedBlock?: number | null;
  minedBlockHash?: Hex | null;
  attempts: number;
  gas: bigint;
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
  data: Hex;
  error: string | null;
  sentAt: number;
  createdAt: number;
  updatedAt: number;
};

export type Fees = { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint };

/** A transaction as the admin API and the sync report it. */
export type TxView = {
  hash: Hex;
  hashes: Hex[];
  kind: TxKind;
  sender: Address;
  openBlock: number;
  amount: string;
  nonce: number;
  status: TxStatus;
  attempts: number;
  error: string | null;
};

export type IntentOutcome =
  | { intent: TxIntent; result: "sent"; tx: TxView }
  | { intent: TxIntent; result: "covered"; tx: TxView }
  | { intent: TxIntent; result: "refused"; reason: string; alert?: boolean };

export type SubmitResult = { outcomes: IntentOutcome[]; alert: string | null };
/** `reorged`: mined transactions whose block a reorg took; they are pending again. */
export type TickResult = {
  pending: number;
  confirmed: TxView[];
  failed: TxView[];
  replaced: TxView[];
  reorged: TxView[];
  alert: string | null;
};
export type SubmitOptions = { fees?: Fees };
export type TickOptions = { stuckAfterMs?: number };

export function viewOf(r: TxRecord): TxView {
  return {
    hash: r.minedHash ?? r.hashes[r.hashes.length - 1]!,
    hashes: r.hashes,
    kind: r.kind,
    sender: r.sender,
    openBlock: r.openBlock,
    amount: r.amount.toString(),
    nonce: r.nonce,
    status: r.status,
    attempts: r.attempts,
    error: r.error,
  };
}

/** How much a replacement raises both fees at least (nodes require +10%). */
export const FEE_BUMP_PERCENT = 25n;

const sameChannel = (a: { sender: Address; openBlock: number }, b: { sender: Address; openBlock: number }) =>
  a.sender.toLowerCase() === b.sender.toLowerCase() && a.openBlock === b.openBlock;

/** Contract calldata for an intent; dispute and close also need the receiver's closing proof. */
export function intentCalldata(intent: TxIntent, receiver: Address, closingSig?: Hex): Hex {
  switch (intent.kind) {
    case "withdraw":
      if (!intent.balanceSig) throw new Error("a withdraw needs the sender's balance signature");
      return encodeFunctionData({
        abi: microTransferChannelsAbi,
        functionName: "withdraw",
        args: [intent.openBlock, intent.balance, intent.balanceSig],
      });
    case "dispute":
    case "close":
      if (!intent.balanceSig || !closingSig)
        throw new Error(`a ${intent.kind} needs the balance and closing signatures`);
      return encodeFunctionData({
        abi: microTransferChannelsAbi,
        functionName: "cooperativeClose",
        args: [receiver, intent.openBlock, intent.balance, intent.balanceSig, closingSig],
      });
    case "settle":
      return encodeFunctionData({
        abi: microTransferChannelsAbi,
        functionName: "settle",
        args: [intent.sender, receiver, intent.openBlock],
      });
  }
}

/**
 * The transaction (pending or confirmed) that already does what `intent` asks, or null when it
 * should be sent. Anything that ends the channel (dispute, close, settle) covers every later
 * intent for it; a withdraw is covered by a pending withdraw, or a confirmed one at least as
 * large (withdrawn balances are cumulative). Failed transactions cover nothing: they are retried.
 */
export function coveredBy(records: readonly TxRecord[], intent: TxIntent): TxRecord | null {
  for (const r of records) {
    if (r.status === "failed" || !sameChannel(r, intent)) continue;
    if (r.kind !== "withdraw") return r;
    if (intent.kind === "withdraw" && (r.status === "pending" || r.amount >= intent.balance)) return r;
  }
  return null;
}

/** Fees for replacing a stuck transaction: both raised by FEE_BUMP_PERCENT, or to the current
 *  market when that is higher, and the tip never above the cap. */
export function bumpFees(old: Fees, market: Fees): Fees {
  const up = (v: bigint) => (v * (100n + FEE_BUMP_PERCENT) + 99n) / 100n + 1n;
  const maxPriorityFeePerGas = maxBigint(up(old.maxPriorityFeePerGas), market.maxPriorityFeePerGas);
  const maxFeePerGas = maxBigint(maxBigint(up(old.maxFeePerGas), market.maxFeePerGas), maxPriorityFeePerGas);
  return { maxFeePerGas, maxPriorityFeePerGas };
}

/** True for a send error that means "this nonce is taken or known": refresh it and try again. */
export function isNonceError(message: string): boolean {
  return /nonce too low|nonce has already been used|replacement transaction underpriced|already known|known transaction/i.test(
    message,
  );
}

/** Gas with a margin over the estimate (state may move between estimate and inclusion). */
export const gasWithMargin = (estimate: bigint): bigint => (estimate * 12n) / 10n + 10_000n;
