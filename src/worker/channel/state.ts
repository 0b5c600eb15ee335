// The acceptance rules of PROTOCOL.md section 3 as pure functions over one channel's state.
// No I/O and no clock: the ChannelObject loads the state, calls these, and persists what they
// return, so every rule can be tested without a runtime. A refusal returns the unchanged
// state, which is how "no refused request changes any state" is kept by construction.
// A payer's flow-control bucket rides in the same state: the bucket is checked before any
// payment rule and charged in the same decision, so payment and bucket are one write.
import type { Address, Hex } from "viem";
import { maxBigint, minBigint } from "../../protocol/amount.js";
import type { ErrorCode } from "../../protocol/errors.js";
import { admit, peek, type Bucket, type FlowCharge, type FlowStatus } from "../flow/bucket.js";

export type ChannelStatus = "open" | "closing" | "settled" | "removed";

/** A signed cumulative balance the receiver can take on chain. */
export type Proof = { balance: bigint; signature: Hex };

/** A metered request's hold on credit: its maximum, until settled or until `expiresAt` (ms),
 *  when it is charged that maximum for good and no longer holds anything up. */
export type Reservation = { amount: bigint; expiresAt: number };

export type ChannelState = {
  sender: Address;
  openBlock: number;
  status: ChannelStatus;
  /** D: the confirmed deposit. */
  deposit: bigint;
  /** B and its signature: the last accepted balance (0 and null before the first payment). */
  balance: bigint;
  balanceSig: Hex | null;
  /** C: what has been charged, C <= B. Includes open metered reservations at their maximum. */
  charged: bigint;
  withdrawn: bigint;
  /** The newest proof with balance <= C: what a withdraw may take and leave credit refundable. */
  withdrawable: Proof | null;
  /** Accepted proofs with balance > C, oldest first, waiting for C to reach them. */
  pending: Proof[];
  /** Set once the receiver issued a closing proof (DELETE /channels): the channel stops serving. */
  closeRequested: boolean;
  closingBalance: bigint | null;
  settleBlock: number | null;
  payments: number;
  /** When the last payment (a proof or a charge on credit) was accepted, ms (absent before the
   *  first, and in states stored before it was kept). */
  lastPaymentAt?: number;
  /** Metered reservations not yet settled, by id. */
  reservations: Record<string, Reservation>;
  /** The payer's flow-control bucket (absent until its first limited request). */
  flow?: Bucket;
  /** The confirmed block of the last chain read this state took its deposit from, until the
   *  sync has checked that block against the chain it synced (absent once checked). */
  readBlock?: number;
  version: number;
  createdAt: number;
  updatedAt: number;
};

/** How many pending proofs are kept; past that the smallest is dropped (the receiver then
 *  withdraws a little later, never less safely). Promotion ignores open reservations, so a
 *  withdrawable proof never exceeds what is charged for good. */
export const MAX_PENDING_PROOFS = 32;

/** How long after a metered request's longest serving time its reservation still waits for the
 *  settle (the settle's trip back, clocks that differ between the Worker and the object). */
export const RESERVATION_MARGIN_MS = 30_000;
/** The longest serving time of a reservation that does not state one (and of old stored ones). */
export const DEFAULT_MAX_SERVING_MS = 60_000;

/**
 * A rule's answer. With flow control, `flow` is the payer's allowance after the request; a
 * `rate_limited` refusal also carries `retryAfterMs` and the bucket with the refusal counted
 * (the only thing a refused request may change; it holds no payment state).
 */
export type Decision =
  | { ok: true; state: ChannelState; cost: bigint; flow?: FlowStatus }
  | { ok: false; code: ErrorCode; flow?: FlowStatus; retryAfterMs?: number; bucket?: Bucket };

/** A request's flow-control charge, with the random draw a freeze's jitter needs. */
export type FlowGate = FlowCharge & { random: number };

/**
 * Flow control before any payment rule: over the allowance, the request is refused with 429
 * and changes no payment state. Otherwise the taken bucket goes into the accepted state, so the
 * payment and the bucket charge are one write; a payment refusal drops it (it costs nothing).
 */
function gate(s: ChannelState, flow: FlowGate | undefined, now: number) {
  if (!flow) return { ok: true as const };
  const a = admit(s.flow, flow, now, flow.random);
  if (!a.ok)
    return {
      ok: false as const,
      refusal: {
        ok: false as const,
        code: "rate_limited" as const,
        flow: a.status,
        retryAfterMs: a.retryAfterMs,
        bucket: a.bucket,
      },
    };
  return { ok: true as const, bucket: a.bucket, status: a.status, before: peek(s.flow, flow.capacity, now) };
}

export function newChannelState(
  sender: Address,
  openBlock: number,
  onChain: { deposit: bigint; withdrawn: bigint; settleBlock: number; closingBalance: bigint },
  now: number,
): ChannelState {
  const closing = onChain.settleBlock > 0;
  return {
    sender,
    openBlock,
    status: closing ? "closing" : "open",
    deposit: onChain.deposit,
    balance: onChain.withdrawn,
    balanceSig: null,
    charged: onChain.withdrawn,
    withdrawn: onChain.withdrawn,
    withdrawable: null,
    pending: [],
    closeRequested: false,
    closingBalance: closing ? onChain.closingBalance : null,
    settleBlock: closing ? onChain.settleBlock : null,
    payments: 0,
    reservations: {},
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
}

export const credit = (s: ChannelState): bigint => s.balance - s.charged;

/** The credit a session may spend: B - C, but never past the deposit. B can exceed D once a
 *  reorg took away a top-up that a proof relied on; spending that part would serve requests the
 *  chain will never pay for. */
const spendableCredit = (s: ChannelState): bigint => minBigint(s.balance, s.deposit) - s.charged;

/** Why a channel cannot take payments now, or null when it can. */
export function servingRefusal(s: ChannelState): ErrorCode | null {
  if (s.status === "removed") return "nonexisting_channel";
  if (s.status !== "open" || s.closeRequested) return "channel_closing";
  return null;
}

/** C without open metered reservations: what is charged for good. */
export const settledCharge = (s: ChannelState): bigint =>
  Object.values(s.reservations).reduce((c, r) => c - r.amount, s.charged);

/** A reservation of `amount` taken at `now` for a request served at most `servingMs`. */
const reservation = (amount: bigint, now: number, servingMs = DEFAULT_MAX_SERVING_MS): Reservation => ({
  amount,
  expiresAt: now + servingMs + RESERVATION_MARGIN_MS,
});

/** Moves proofs that the settled charge has reached into `withdrawable`. Mutates `s` (a copy). */
function promote(s: ChannelState): void {
  const charged = settledCharge(s);
  let i = 0;
  while (i < s.pending.length && s.pending[i]!.balance <= charged) i++;
  if (i > 0) {
    s.withdrawable = s.pending[i - 1]!;
    s.pending = s.pending.slice(i);
  }
}

function touch(s: ChannelState, now: number): ChannelState {
  return { ...s, pending: [...s.pending], reservations: { ...s.reservations }, version: s.version + 1, updatedAt: now };
}

/**
 * A fresh proof for cumulative `balance` paying `price` (or, with `reserveId`, reserving
 * `price` as a metered maximum). Checks, in the protocol's order after the signature:
 * closing, deposit, amount. `exact` is the no-credit mode: N - B must equal the price.
 */
export function acceptProof(
  s: ChannelState,
  p: {
    balance: bigint;
    signature: Hex;
    price: bigint;
    exact: boolean;
    reserveId?: string;
    reserveMs?: number;
    flow?: FlowGate;
  },
  now: number,
): Decision {
  const g = gate(s, p.flow, now);
  if (!g.ok) return g.refusal;
  const refuse = (code: ErrorCode): Decision => ({ ok: false, code, flow: g.before });
  const refusal = servingRefusal(s);
  if (refusal) return refuse(refusal);
  if (p.balance > s.deposit) return refuse("insufficient_deposit");
  if (p.balance <= s.balance) return refuse("invalid_amount");
  if (p.balance - s.charged < p.price) return refuse("invalid_amount");
  if (p.exact && p.balance - s.balance !== p.price) return refuse("invalid_amount");
  const next = touch(s, now);
  if (g.bucket) next.flow = g.bucket;
  next.balance = p.balance;
  next.balanceSig = p.signature;
  next.charged = s.charged + p.price;
  next.pending.push({ balance: p.balance, signature: p.signature });
  if (next.pending.length > MAX_PENDING_PROOFS) next.pending.shift();
  if (p.reserveId) next.reservations[p.reserveId] = reservation(p.price, now, p.reserveMs);
  next.payments = s.payments + 1;
  next.lastPaymentAt = now;
  promote(next);
  return { ok: true, state: next, cost: p.price, flow: g.status };
}

/** Spends `price` from credit (a session request), or reserves it for a metered request. */
export function chargeCredit(
  s: ChannelState,
  p: { price: bigint; reserveId?: string; reserveMs?: number; flow?: FlowGate },
  now: number,
): Decision {
  const g = gate(s, p.flow, now);
  if (!g.ok) return g.refusal;
  const refusal = servingRefusal(s);
  if (refusal) return { ok: false, code: refusal, flow: g.before };
  if (spendableCredit(s) < p.price) return { ok: false, code: "insufficient_credit", flow: g.before };
  const next = touch(s, now);
  if (g.bucket) next.flow = g.bucket;
  next.charged = s.charged + p.price;
  if (p.reserveId) next.reservations[p.reserveId] = reservation(p.price, now, p.reserveMs);
  next.payments = s.payments + 1;
  next.lastPaymentAt = now;
  promote(next);
  return { ok: true, state: next, cost: p.price, flow: g.status };
}

/**
 * A paying client's request that costs nothing (a free route, a trial route in its trial):
 * charged to the channel's bucket only, like any request of a priority client. Refused when the
 * channel does not serve (the client is then no payer) or the bucket is short; otherwise the
 * state differs from `s` in its bucket alone.
 */
export function chargeCapacity(s: ChannelState, flow: FlowGate | undefined, now: number): Decision {
  const g = gate(s, flow, now);
  if (!g.ok) return g.refusal;
  const refusal = servingRefusal(s);
  if (refusal) return { ok: false, code: refusal, flow: g.before };
  return { ok: true, state: g.bucket ? { ...s, flow: g.bucket } : s, cost: 0n, flow: g.status };
}

/** What a served metered request is charged: its measured cost, never below 0 nor above the
 *  `reserved` maximum. The paywall reports the same figure it asks the object to settle. */
export function meteredCharge(measured: bigint, reserved: bigint): bigint {
  return measured < 0n ? 0n : measured > reserved ? reserved : measured;
}

/**
 * Settles a metered reservation at its measured cost (capped at the reserved maximum) and
 * frees the rest back to credit. Unknown ids (settled, or expired) change nothing and cost 0.
 */
export function settleReservation(s: ChannelState, id: string, measured: bigint, now: number): Decision {
  const reserved = s.reservations[id]?.amount;
  if (reserved === undefined) return { ok: true, state: s, cost: 0n };
  const cost = meteredCharge(measured, reserved);
  const next = touch(s, now);
  delete next.reservations[id];
  next.charged = s.charged - (reserved - cost);
  promote(next);
  return { ok: true, state: next, cost };
}

/**
 * A metered stream's next slice: adds up to `amount` of credit (all that is left when less, but
 * never less than `atLeast`) to the open reservation `id`, and renews its expiry from `now`, so
 * a stream that keeps flowing keeps its hold; credit here is spendable credit, never past the
 * deposit (see spendableCredit). `amount` and `atLeast` 0 only renew (allowed on a
 * channel that no longer serves: what was reserved stays the stream's). Refused, changing
 * nothing: an unknown (settled or expired) reservation (`payment_required`), a channel that
 * does not serve, or credit below `atLeast` (`insufficient_credit`). `cost` is what was added.
 */
export function extendReservation(
  s: ChannelState,
  id: string,
  p: { amount: bigint; atLeast: bigint; servingMs?: number },
  now: number,
): Decision {
  const held = s.reservations[id];
  if (!held) return { ok: false, code: "payment_required" };
  let added = 0n;
  if (p.amount > 0n || p.atLeast > 0n) {
    const refusal = servingRefusal(s);
    if (refusal) return { ok: false, code: refusal };
    const left = spendableCredit(s);
    if (left < p.atLeast) return { ok: false, code: "insufficient_credit" };
    added = minBigint(maxBigint(p.amount, p.atLeast), left);
  }
  const next = touch(s, now);
  next.charged = s.charged + added;
  next.reservations[id] = reservation(held.amount + added, now, p.servingMs);
  return { ok: true, state: next, cost: added };
}

/**
 * Ends every reservation whose time is up: it stays charged at its maximum (C already holds
 * it) and stops holding up a close or the withdrawable proof. The same state when none is due.
 */
export function expireReservations(s: ChannelState, now: number): ChannelState {
  const due = Object.keys(s.reservations).filter((id) => s.reservations[id]!.expiresAt <= now);
  if (due.length === 0) return s;
  const next = touch(s, now);
  for (const id of due) delete next.reservations[id];
  promote(next);
  return next;
}

/** When the next reservation expires (ms), or null when none is open. */
export function nextReservationExpiry(s: ChannelState): number | null {
  let at: number | null = null;
  for (const r of Object.values(s.reservations)) if (at === null || r.expiresAt < at) at = r.expiresAt;
  return at;
}

/** The deposit read from the chain at the confirmed block `readBlock`. It only grows while the
 *  channel lives, so a lower one means a reorg took a top-up away: it is taken as it is. A
 *  changed deposit remembers the read's block until the sync has checked it. */
export function withDeposit(s: ChannelState, deposit: bigint, now: number, readBlock?: number): ChannelState {
  if (deposit === s.deposit) return s;
  const next = { ...touch(s, now), deposit };
  if (readBlock !== undefined) next.readBlock = Math.max(readBlock, s.readBlock ?? 0);
  return next;
}

/** The receiver issues its closing proof at C: from now on the channel does not serve. */
export function markCloseRequested(s: ChannelState, now: number): ChannelState {
  if (s.closeRequested) return s;
  return { ...touch(s, now), closeRequested: true };
}
