// The chain's side of a channel as pure functions over ChannelState (like state.ts): what each
// contract event does, how a reorg rewinds it, and which stored proof settlement may use. Every
// event is applied as an absolute fact (the created deposit plus the top-ups, the contract's
// cumulative withdrawn), so applying one twice changes nothing even without the id check.
import type { Address } from "viem";
import { newChannelState, type ChannelState, type Proof } from "./state.js";

export type ChainEventName =
  | "ChannelCreated"
  | "ChannelToppedUp"
  | "ChannelCloseRequested"
  | "ChannelSettled"
  | "ChannelWithdraw";

export const CHAIN_EVENT_NAMES: readonly ChainEventName[] = [
  "ChannelCreated",
  "ChannelToppedUp",
  "ChannelCloseRequested",
  "ChannelSettled",
  "ChannelWithdraw",
];

/**
 * One contract event for this receiver, as the sync forwards it. `amount` is the event's
 * amount: the deposit (created), the added tokens (topped up), the closing balance (close
 * requested), the settled balance (settled), the cumulative withdrawn balance (withdraw).
 */
export type ChainEvent = {
  /** `<blockHash>:<logIndex>`: unique per log on one fork. */
  id: string;
  name: ChainEventName;
  blockNumber: number;
  logIndex: number;
  sender: Address;
  openBlock: number;
  amount: bigint;
  /** ChannelCloseRequested only. */
  settleBlock?: number;
  /** ChannelSettled only: what the receiver got in the settlement. */
  receiverTokens?: bigint;
};

/** What a channel's object remembers of each event it applied. */
export type AppliedEvent = { id: string; name: ChainEventName; blockNumber: number; logIndex: number; amount: bigint };

/** The channel's on-chain record at one block (getChannelInfo), or null when it has none. */
export type OnChainRecord = { deposit: bigint; withdrawn: bigint; settleBlock: number; closingBalance: bigint } | null;

export type EventResult = { state: ChannelState | null; history: AppliedEvent[]; applied: boolean };

export const eventId = (blockHash: string, logIndex: number): string => `${blockHash.toLowerCase()}:${logIndex}`;

const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);

function touch(s: ChannelState, now: number): ChannelState {
  return { ...s, pending: [...s.pending], reservations: { ...s.reservations }, version: s.version + 1, updatedAt: now };
}

/** Created deposit plus every applied top-up: the deposit the events alone prove. */
export function depositFromHistory(history: readonly AppliedEvent[]): bigint {
  let sum = 0n;
  for (const e of history) if (e.name === "ChannelCreated" || e.name === "ChannelToppedUp") sum += e.amount;
  return sum;
}

/**
 * Applies one event to the channel. An event already in `history` changes nothing. A
 * ChannelCreated teaches an object that never met the channel everything it needs (the event
 * carries the deposit), and revives a channel a reorg had removed when the creation is mined
 * again at the same block. Any other event for a channel the object does not know is only
 * remembered: the object learns that channel from the chain (at the confirmed block) when it
 * is first paid, which already includes the event's effect.
 */
export function applyChainEvent(
  s: ChannelState | null,
  history: readonly AppliedEvent[],
  ev: ChainEvent,
  now: number,
): EventResult {
  if (history.some((h) => h.id === ev.id)) return { state: s, history: [...history], applied: false };
  const nextHistory = [
    ...history,
    { id: ev.id, name: ev.name, blockNumber: ev.blockNumber, logIndex: ev.logIndex, amount: ev.amount },
  ];
  if (s && (s.sender.toLowerCase() !== ev.sender.toLowerCase() || s.openBlock !== ev.openBlock)) {
    throw new Error(`event ${ev.id} for ${ev.sender}/${ev.openBlock} sent to the object of ${s.sender}/${s.openBlock}`);
  }
  if (!s) {
    if (ev.name !== "ChannelCreated") return { state: null, history: nextHistory, applied: true };
    const created = newChannelState(
      ev.sender,
      ev.openBlock,
      { deposit: ev.amount, withdrawn: 0n, settleBlock: 0, closingBalance: 0n },
      now,
    );
    return { state: created, history: nextHistory, applied: true };
  }
  const next = touch(s, now);
  switch (ev.name) {
    case "ChannelCreated":
      if (s.status === "removed") {
        next.status = "open";
        next.withdrawn = 0n;
        next.closingBalance = null;
        next.settleBlock = null;
      }
      next.deposit = max(s.status === "removed" ? 0n : s.deposit, depositFromHistory(nextHistory));
      break;
    case "ChannelToppedUp":
      next.deposit = max(s.deposit, depositFromHistory(nextHistory));
      break;
    case "ChannelWithdraw":
      next.withdrawn = max(s.withdrawn, ev.amount);
      break;
    case "ChannelCloseRequested":
      if (s.status === "open") next.status = "closing";
      next.closingBalance = ev.amount;
      next.settleBlock = ev.settleBlock ?? null;
      break;
    case "ChannelSettled":
      next.status = "settled";
      next.closingBalance = ev.amount;
      // The receiver has now been paid up to the settled balance.
      next.withdrawn = max(s.withdrawn, ev.amount);
      break;
  }
  return { state: next, history: nextHistory, applied: true };
}

/** Applies events in order (the sync sends them in chain order). */
export function applyChainEvents(
  s: ChannelState | null,
  history: readonly AppliedEvent[],
  events: readonly ChainEvent[],
  now: number,
): { state: ChannelState | null; history: AppliedEvent[]; applied: number } {
  let state = s;
  let h = [...history];
  let applied = 0;
  for (const ev of [...events].sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex)) {
    const r = applyChainEvent(state, h, ev, now);
    state = r.state;
    h = r.history;
    if (r.applied) applied++;
  }
  return { state, history: h, applied };
}

/**
 * A reorg removed the events `removedIds`: forget them and take the chain's word at the common
 * ancestor (`onChain`, read by the sync at that block) for everything the chain decides. What
 * the receiver accepted off chain (B, C, proofs, a close request) stays: it is signed by the
 * sender and still good on whatever fork the channel lives. A channel the chain does not know
 * at the ancestor is `settled` if its creation or settlement is still on the chain (it ended
 * before the ancestor), else `removed`: its creation was reorged out and it is not served.
 * Events after the ancestor are then replayed by the sync.
 */
export function rewindChannel(
  s: ChannelState | null,
  history: readonly AppliedEvent[],
  removedIds: readonly string[],
  onChain: OnChainRecord,
  now: number,
): { state: ChannelState | null; history: AppliedEvent[] } {
  const removed = new Set(removedIds);
  const kept = history.filter((h) => !removed.has(h.id));
  // An object that never learned the channel has nothing to correct; it learns it when paid.
  if (!s) return { state: null, history: kept };
  const next = touch(s, now);
  if (onChain) {
    next.status = onChain.settleBlock > 0 ? "closing" : "open";
    next.deposit = onChain.deposit;
    next.withdrawn = onChain.withdrawn;
    next.closingBalance = onChain.settleBlock > 0 ? onChain.closingBalance : null;
    next.settleBlock = onChain.settleBlock > 0 ? onChain.settleBlock : null;
  } else {
    const ended = kept.some((h) => h.name === "ChannelCreated" || h.name === "ChannelSettled");
    next.status = ended ? "settled" : "removed";
    if (!ended) {
      next.closingBalance = null;
      next.settleBlock = null;
    }
  }
  return { state: next, history: kept };
}

/** The newest proof whose balance is not above the charged total C, when it pays more than was
 *  withdrawn: a withdraw with it takes only what was spent, so unspent credit stays refundable. */
export function withdrawProof(s: ChannelState): Proof | null {
  if (s.status !== "open" || !s.withdrawable) return null;
  return s.withdrawable.balance > s.withdrawn ? s.withdrawable : null;
}

export type DisputePlan = { proof: Proof; closingBalance: bigint; settleBlock: number | null };

/** What the chain says of a closing channel now (getChannelInfo), for judging a dispute. */
export type ClosingOnChain = { deposit: bigint; withdrawn: bigint; closingBalance: bigint; settleBlock: number };

/**
 * Whether a requested close cheats the receiver, and with which proof to dispute it.
 *
 * A sender's uncooperative close claiming less than the charged total C takes what it spent:
 * the receiver answers with `cooperativeClose` at the highest balance the sender signed that
 * the contract will take: at most the deposit on chain and at least what was withdrawn (B
 * first; a pending or the withdrawable proof when a reorg took part of the deposit away, so
 * the dispute does not revert `InvalidBalance`). A claim of C or more is honest (the sender
 * reclaims its unspent credit B - C, as the protocol's close request promises) and is not
 * disputed. `onChain` is the chain's word now (the settlement step reads it); without it the
 * object judges from what it was told.
 */
export function disputePlan(s: ChannelState, onChain?: ClosingOnChain): DisputePlan | null {
  if (s.status === "settled" || s.status === "removed") return null;
  if (!onChain && s.status !== "closing") return null;
  const claim = onChain ? onChain.closingBalance : s.closingBalance;
  if (claim === null || claim >= s.charged) return null;
  const deposit = onChain ? onChain.deposit : s.deposit;
  const withdrawn = onChain ? onChain.withdrawn : s.withdrawn;
  const held: Proof[] = [...s.pending, ...(s.withdrawable ? [s.withdrawable] : [])];
  if (s.balanceSig) held.push({ balance: s.balance, signature: s.balanceSig });
  let best: Proof | null = null;
  for (const p of held) {
    if (p.balance > claim && p.balance <= deposit && p.balance >= withdrawn && (!best || p.balance > best.balance))
      best = p;
  }
  if (!best) return null;
  return { proof: best, closingBalance: claim, settleBlock: onChain ? onChain.settleBlock : s.settleBlock };
}

/**
 * The proof for a receiver-side cooperative close after the sender asked to close.
 *
 * The contract's cooperativeClose needs the sender's BalanceProof signature for exactly the
 * closing balance, and the receiver holds only the proofs the sender sent. The sender was
 * promised a close at C (the closing proof the DELETE route returned), but C is usually not
 * the balance of any proof (sessions charge credit without a new proof). So the receiver closes
 * at the newest proof whose balance is not above C: never more than the sender agreed to pay
 * for what it used; what lies between that proof and C is forgiven, and the sender gets at
 * least its unspent credit back. Without such a proof (nothing charged yet) there is nothing for
 * the receiver to close with: the sender closes with its own closing proof.
 */
export function receiverCloseProof(s: ChannelState): Proof | null {
  if (!s.closeRequested || s.status === "settled" || s.status === "removed") return null;
  const p = s.withdrawable;
  if (!p || p.balance < s.withdrawn) return null;
  return p;
}
