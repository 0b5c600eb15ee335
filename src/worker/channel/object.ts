// ChannelObject: one Durable Object per channel, the single writer of that channel's state, so
// a payment is a compare-and-write with nothing to reconcile, durable before any byte of the
// response. It never calls the chain: a channel or deposit it does not know is answered with a
// `lookup` hint, so a stranger cannot make it spend RPC (the Worker reads the chain under the
// strangers' budget, src/worker/lookup, and calls again with what it `learned`).
import { DurableObject } from "cloudflare:workers";
import type { Address, Hex } from "viem";
import type { ErrorCode } from "../../protocol/errors.js";
import { channelId, parseChannelId } from "../../protocol/channel-key.js";
import { verifyBalanceProof } from "../../protocol/verify.js";
import { closingProofTypedData } from "../../protocol/eip712.js";
import type { OnChainChannel } from "../chain.js";
import { getConfig } from "../config.js";
import type { Env } from "../env.js";
import { sendProjection } from "../projection/send.js";
import type { FlowCharge, FlowStatus } from "../flow/bucket.js";
import { decodeState, encodeState, snapshot, type ChannelSnapshot } from "./codec.js";
import { GroupCommit, type CommitStats } from "./group-commit.js";
import { EventHistory } from "./history.js";
import { channelObjectName, parseChannelObjectName } from "./name.js";
import {
  applyChainEvents,
  disputePlan,
  receiverCloseProof,
  rewindChannel,
  withdrawProof,
  type AppliedEvent,
  type ChainEvent,
  type ClosingOnChain,
  type DisputePlan,
  type OnChainRecord,
} from "./events.js";
import {
  acceptProof,
  chargeCapacity,
  chargeCredit,
  expireReservations,
  extendReservation,
  markCloseRequested,
  newChannelState,
  nextReservationExpiry,
  settleReservation,
  withDeposit,
  type ChannelState,
  type Decision,
} from "./state.js";

/** How long after a change its D1 projection is sent, and the least time between two sends. */
export const PROJECTION_DELAY_MS = 1000;
/** A channel's record as a look-up read it at the confirmed block `confirmedBlock`. */
export type LearnedChannel = OnChainChannel & { confirmedBlock: number };

/** Why a refusal asks the caller to read the chain and call again with what it learned: the
 *  object does not know the channel, or the proof exceeds the deposit it knows. */
export type LookupHint = "channel" | "deposit";

/** Every refused call of the object: its stable code and message, the channel as the object
 *  holds it, the payer's allowance (`flow`, and `retryAfterMs` on a `rate_limited` refusal), a
 *  `lookup` hint, and extra response headers (`headers`: a look-up's limits, added by the Worker). */
export type Refusal = {
  ok: false;
  code: ErrorCode;
  message?: string;
  channel?: ChannelSnapshot;
  flow?: FlowStatus;
  retryAfterMs?: number;
  lookup?: LookupHint;
  headers?: Record<string, string>;
};

/** A payment or a spend: what it cost, the channel after it, and the payer's allowance when the
 *  request was flow-controlled. */
export type PayResult = { ok: true; cost: bigint; channel: ChannelSnapshot; flow?: FlowStatus } | Refusal;

/** The receiver's closing proof at C, signed for a sender who asked to close. */
export type CloseResult = { ok: true; balance: bigint; closingSignature: Hex; channel: ChannelSnapshot } | Refusal;

/** The channel as the object holds it (`info`). */
export type InfoResult = { ok: true; channel: ChannelSnapshot } | Refusal;

/** What the sync learns back from applying a channel's events (see events.ts). */
export type ApplyEventsResult = { applied: number; channel: ChannelSnapshot | null; dispute: DisputePlan | null };

/** `flow`: charge the payer's bucket (PAID_CAPACITY) in the same decision and write.
 *  `reserveId`: a metered request reserving `price`, served for at most `reserveMs`.
 *  `learned`: the chain's record, when a `lookup` hint sent the caller to read it. */
export type ProofRequest = {
  sender: Address;
  openBlock: number;
  balance: bigint;
  signature: Hex;
  price: bigint;
  reserveId?: string;
  reserveMs?: number;
  flow?: FlowCharge;
  learned?: LearnedChannel;
  /** Refuse (nonexisting_channel, no lookup hint) rather than learn a channel this object never met. */
  knownOnly?: boolean;
};
export type CreditRequest = {
  sender: Address;
  openBlock: number;
  price: bigint;
  reserveId?: string;
  reserveMs?: number;
  flow?: FlowCharge;
  learned?: LearnedChannel;
};

/**
 * The Durable Object of one channel: the single writer of its payment state. Bind it as
 * `CHANNELS` (a SQLite class) and export it from the Worker's entry; the paywall, the sync and
 * the management API reach it through `channelStub`, never directly.
 *
 * @example
 * ```ts
 * // wrangler.jsonc: "durable_objects": { "bindings": [{ "name": "CHANNELS", "class_name": "ChannelObject" }] }
 * export { ChannelObject } from "edge402/worker";
 * ```
 */
export class ChannelObject extends DurableObject<Env> {
  private state: ChannelState | null = null;
  /** An object named the pre-1.1 way (`<sender>-<openBlock>`): it serves nothing any more,
   *  and only hands its state over to its channel's object on this deployment. */
  private readonly legacy: boolean;
  /** When the scheduled alarm fires (ms), or null when none is scheduled. */
  private alarmAt: number | null = null;
  /** The write path: every change of `state` is written through here (group commit). */
  private readonly writes: GroupCommit;
  /** The contract events applied, written with the state (history.ts). */
  private readonly history: EventHistory;
  /** The last state version sent to the D1 projection, when (ms), and how many were sent. */
  private projected = { version: -1, at: 0, sent: 0 };
  /** Calls answered since the object started (each through `durably`). */
  private calls = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.history = new EventHistory(ctx.storage.sql);
    this.writes = new GroupCommit(
      () => {
        if (this.state)
          ctx.storage.sql.exec("INSERT OR REPLACE INTO channel (id, data) VALUES (1, ?)", encodeState(this.state));
        this.history.flush();
      },
      () => ctx.storage.sync(),
      (err) => ctx.abort(`edge402: a channel write failed, starting again from storage: ${String(err)}`),
    );
    this.legacy = ctx.id.name !== undefined && parseChannelId(ctx.id.name) !== null;
    ctx.blockConcurrencyWhile(async () => {
      ctx.storage.sql.exec(
        "CREATE TABLE IF NOT EXISTS channel (id INTEGER PRIMARY KEY CHECK (id = 1), data TEXT NOT NULL)",
      );
      const row = ctx.storage.sql.exec<{ data: string }>("SELECT data FROM channel WHERE id = 1").toArray()[0];
      this.state = row ? decodeState(row.data) : null;
      this.alarmAt = await ctx.storage.getAlarm();
      if (!this.state) await this.adoptLegacy();
      const expiry = this.state && !this.legacy && nextReservationExpiry(this.state);
      if (expiry) this.scheduleAlarm(expiry);
    });
  }

  /** A payment with a fresh balance proof whose signature the Worker already verified. */
  async pay(req: ProofRequest): Promise<PayResult> {
    if (req.knownOnly && !this.state) return { ok: false, code: "nonexisting_channel" };
    const known = this.loadOrLearn(req.sender, req.openBlock, req.learned);
    if (!known.ok) return this.durably(known);
    const decision = this.decideProof(req);
    if (!decision.ok && decision.code === "insufficient_deposit" && !req.learned) {
      // Perhaps a top-up not synced yet: the caller re-reads the deposit and asks again.
      const channel = snapshot(this.state!);
      return this.durably({ ok: false, code: decision.code, channel, flow: decision.flow, lookup: "deposit" });
    }
    return this.durably(this.commit(decision));
  }

  /** A session request: spend `price` from credit (or reserve it, for a metered route). */
  async spend(req: CreditRequest): Promise<PayResult> {
    const known = this.loadOrLearn(req.sender, req.openBlock, req.learned);
    if (!known.ok) return this.durably(known);
    const flow = req.flow && { ...req.flow, random: Math.random() };
    return this.durably(this.commit(chargeCredit(known.state, { ...req, flow }, Date.now())));
  }

  /**
   * A session holder's request on a free route: its channel's bucket pays the capacity, nothing
   * else changes. The bucket is kept in memory (written with the next payment): it holds no
   * payment state and is full again seconds after the last request. Answers no chain look-up:
   * a channel this object never met has no valid session, and such a client is no payer.
   */
  async chargeCapacity(req: CreditRequest): Promise<PayResult> {
    const s = this.state;
    if (this.legacy || !s) return { ok: false, code: "nonexisting_channel" };
    if (s.sender.toLowerCase() !== req.sender.toLowerCase() || s.openBlock !== req.openBlock)
      return { ok: false, code: "internal_error" };
    const decision = chargeCapacity(s, req.flow && { ...req.flow, random: Math.random() }, Date.now());
    if (!decision.ok) return this.durably(this.commit(decision));
    this.state = decision.state;
    return this.durably({ ok: true, cost: 0n, channel: snapshot(decision.state), flow: decision.flow });
  }

  /** Settles a metered reservation at the measured cost; the rest returns to credit. */
  async settle(id: string, measured: bigint): Promise<PayResult> {
    if (!this.state) return { ok: false, code: "nonexisting_channel" };
    return this.durably(this.commit(settleReservation(this.state, id, measured, Date.now())));
  }

  /** A metered stream's next slice from credit, or (amounts 0) a renewal of its reservation's
   *  expiry while it flows (state.ts `extendReservation`); `cost` is what was added. */
  async extend(id: string, amount: bigint, atLeast: bigint, reserveMs: number): Promise<PayResult> {
    if (!this.state) return { ok: false, code: "nonexisting_channel" };
    this.expire();
    const next = extendReservation(this.state, id, { amount, atLeast, servingMs: reserveMs }, Date.now());
    return this.durably(this.commit(next));
  }

  /** The channel as the object knows it (a `lookup` hint when it does not know it). */
  async info(sender: Address, openBlock: number, learned?: LearnedChannel): Promise<InfoResult> {
    const known = this.loadOrLearn(sender, openBlock, learned);
    if (!known.ok) return this.durably(known);
    return this.durably({ ok: true, channel: snapshot(known.state) });
  }

  /**
   * The sender asked to close (its CloseRequest signature was checked by the Worker): sign the
   * receiver's ClosingProof at C and stop serving. Asking again returns the same answer.
   */
  async requestClose(sender: Address, openBlock: number, learned?: LearnedChannel): Promise<CloseResult> {
    const known = this.loadOrLearn(sender, openBlock, learned);
    if (!known.ok) return this.durably(known);
    const s = known.state;
    if (s.status === "removed") return this.durably({ ok: false, code: "nonexisting_channel", channel: snapshot(s) });
    if (s.status === "settled") return this.durably({ ok: false, code: "channel_closing", channel: snapshot(s) });
    this.expire();
    if (Object.keys(this.state!.reservations).length > 0) {
      return this.durably({
        ok: false,
        code: "bad_request",
        message: "A metered request on this channel is still being served; ask again in a moment.",
      });
    }
    const config = getConfig(this.env);
    const closingSignature = await config.receiver.signTypedData(
      closingProofTypedData({
        chainId: config.chainId,
        contract: config.contract,
        sender: s.sender,
        openBlock: s.openBlock,
        balance: s.charged,
      }),
    );
    // Re-read after the await: the charged total or the reservations may have moved meanwhile.
    const current = this.state!;
    if (current.charged !== s.charged || Object.keys(current.reservations).length > 0)
      return this.requestClose(sender, openBlock);
    const next = markCloseRequested(current, Date.now());
    this.persist(next);
    return this.durably({ ok: true, balance: next.charged, closingSignature, channel: snapshot(next) });
  }

  /** The channel as this object already knows it, without any chain call (null if never met).
   *  Used to tell a client whose proof was refused what the server holds, so it can resync. */
  async peek(): Promise<ChannelSnapshot | null> {
    return this.durably(this.state ? snapshot(this.state) : null);
  }

  /** Test and admin view of the raw state. */
  async raw(): Promise<ChannelState | null> {
    return this.durably(this.state);
  }

  /** Since the object started: the calls it answered, its storage writes, the changes they
   *  held, and the projection messages it sent. */
  async writeStats(): Promise<CommitStats & { calls: number; projections: number }> {
    return { calls: this.calls, ...this.writes.stats(), projections: this.projected.sent };
  }

  /** A pre-1.1 object's state and the chain events it applied, for `adoptLegacy`. */
  async handOver(): Promise<{ state: ChannelState; history: AppliedEvent[] } | null> {
    if (!this.legacy || !this.state) return null;
    return { state: this.state, history: this.history.read() };
  }

  /**
   * On first start with no state: takes over the channel's pre-1.1 object, when that holds a
   * state whose last balance proof is signed by the channel's sender for this deployment's
   * chain, contract and receiver (so it cannot be another deployment's state). A state without
   * any proof holds nothing the chain does not say, and is left behind.
   */
  private async adoptLegacy(): Promise<void> {
    const name = this.ctx.id.name;
    const id = name === undefined ? null : parseChannelObjectName(name);
    if (!id) return;
    const config = getConfig(this.env);
    if (channelObjectName(config, id.sender, id.openBlock) !== name) return;
    const ns = this.env.CHANNELS as DurableObjectNamespace<ChannelObject>;
    const old = await ns.get(ns.idFromName(channelId(id.sender, id.openBlock))).handOver();
    const s = old?.state;
    if (!s?.balanceSig || s.sender.toLowerCase() !== id.sender.toLowerCase() || s.openBlock !== id.openBlock) return;
    const ours = await verifyBalanceProof({
      chainId: config.chainId,
      contract: config.contract,
      receiver: config.receiverAddress,
      openBlock: s.openBlock,
      balance: s.balance,
      signature: s.balanceSig,
      sender: s.sender,
    });
    if (!ours) return;
    this.recordEvents(old!.history, [], s);
  }

  // --- Chain sync and settlement (src/worker/sync, src/worker/settlement): the rules are in
  // events.ts; these methods load the applied-event list, apply, and persist with the state.

  /** Applies contract events for this channel in chain order, each once (keyed by its id). */
  async applyEvents(events: ChainEvent[]): Promise<ApplyEventsResult> {
    const history = this.history.read();
    const r = applyChainEvents(this.state, history, events, Date.now());
    if (r.applied > 0) this.recordEvents(r.history.slice(history.length), [], r.state);
    const s = this.state;
    return this.durably({ applied: r.applied, channel: s ? snapshot(s) : null, dispute: s ? disputePlan(s) : null });
  }

  /**
   * A reorg removed `removedIds`: forget them and take `onChain` (read at the common ancestor).
   * With `checkedAt`, the sync read `onChain` at that synced block to check what this object
   * learned from its own chain reads: a read at a later block waits for a later check.
   */
  async rewind(removedIds: string[], onChain: OnChainRecord, checkedAt?: number): Promise<ChannelSnapshot | null> {
    if (checkedAt !== undefined && (this.state?.readBlock ?? -1) > checkedAt)
      return this.durably(snapshot(this.state!));
    const r = rewindChannel(this.state, this.history.read(), removedIds, onChain, Date.now());
    if (r.state && checkedAt !== undefined) delete r.state.readBlock;
    this.recordEvents([], removedIds, r.state);
    return this.durably(this.state ? snapshot(this.state) : null);
  }

  /** The proof to dispute a cheating close with, judged against the chain's word `onChain`
   *  when given, or null (events.ts `disputePlan`). */
  async disputeProof(onChain?: ClosingOnChain): Promise<DisputePlan | null> {
    return this.durably(this.state ? disputePlan(this.state, onChain) : null);
  }

  /** The newest proof <= C when it pays more than was withdrawn, or null (events.ts). */
  async withdrawProof(): Promise<{ balance: bigint; signature: Hex } | null> {
    return this.durably(this.state ? withdrawProof(this.state) : null);
  }

  /** The proof for a receiver-side close after the sender asked to close, or null (events.ts). */
  async closeProof(): Promise<{ balance: bigint; signature: Hex } | null> {
    return this.durably(this.state ? receiverCloseProof(this.state) : null);
  }

  /** Stages the history's changes and writes them with the state (`next` when it changed, else
   *  the state as it is): one commit holds both (history.ts). */
  private recordEvents(added: AppliedEvent[], removedIds: string[], next: ChannelState | null): void {
    if (added.length === 0 && removedIds.length === 0 && (!next || next === this.state)) return;
    this.history.stage(added, removedIds);
    if (next && next !== this.state) this.persist(next);
    else this.writes.commit();
  }

  override async alarm(): Promise<void> {
    this.alarmAt = null;
    if (this.legacy) return;
    this.expire();
    const s = this.state;
    if (!s) return;
    const expiry = nextReservationExpiry(s);
    if (expiry) this.scheduleAlarm(expiry);
    await this.project(s);
  }

  /**
   * Sends `s` to the D1 projection once it is durable (D1 never shows a state a crash could take
   * back), unless it was sent already; never sooner than PROJECTION_DELAY_MS after the last one,
   * so a channel sends at most one message per interval however busy it is.
   */
  private async project(s: ChannelState): Promise<void> {
    await this.writes.settled();
    if (s.version === this.projected.version) return;
    const due = this.projected.at + PROJECTION_DELAY_MS;
    if (Date.now() < due) {
      this.scheduleAlarm(due);
      return;
    }
    await sendProjection(this.env, s);
    this.projected = { version: s.version, at: Date.now(), sent: this.projected.sent + 1 };
  }

  private decideProof(req: ProofRequest): Decision {
    const config = getConfig(this.env);
    const flow = req.flow && { ...req.flow, random: Math.random() };
    return acceptProof(this.state!, { ...req, flow, exact: !config.allowCredit }, Date.now());
  }

  private commit(decision: Decision): PayResult {
    if (!decision.ok) {
      // A 429 counts the refusal in the bucket, in memory only: it holds no payment state, and
      // the next accepted payment writes it along.
      if (decision.bucket && this.state) this.state = { ...this.state, flow: decision.bucket };
      const { flow, retryAfterMs } = decision;
      return {
        ok: false,
        code: decision.code,
        channel: this.state ? snapshot(this.state) : undefined,
        flow,
        retryAfterMs,
      };
    }
    if (decision.state !== this.state) this.persist(decision.state);
    return { ok: true, cost: decision.cost, channel: snapshot(decision.state), flow: decision.flow };
  }

  /** Takes `next` as the channel's state and has it written (group commit: now, or with the
   *  next write when one is in flight), and schedules the D1 projection. The reply that depends
   *  on it waits for `durably`. */
  private persist(next: ChannelState): void {
    this.state = next;
    this.writes.commit();
    this.scheduleAlarm(Date.now() + PROJECTION_DELAY_MS);
  }

  /** `result` once every change decided so far is in an issued write, whose durability the
   *  output gate then waits for before the reply leaves: how each reply keeps "durable before
   *  any byte" (group-commit.ts). Calls within the object (the alarm's projection) wait for
   *  `settled()` themselves. */
  private async durably<T>(result: T): Promise<T> {
    this.calls++;
    const waiting = this.writes.unissued();
    if (waiting) await waiting;
    return result;
  }

  /** Makes the alarm fire no later than `at`. */
  private scheduleAlarm(at: number): void {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    void this.ctx.storage.setAlarm(at);
  }

  /** Ends the reservations whose time is up (charged at their maximum), persisting if any. */
  private expire(): void {
    if (!this.state) return;
    const next = expireReservations(this.state, Date.now());
    if (next !== this.state) this.persist(next);
  }

  /** The channel's state, from `learned` (a chain read the caller made after a `lookup` hint)
   *  if this object has never seen it; with a state already, `learned` is a deposit re-read.
   *  Whether it may serve is for the rules to say (state.ts), not for this look-up. */
  private loadOrLearn(
    sender: Address,
    openBlock: number,
    learned?: LearnedChannel,
  ): { ok: true; state: ChannelState } | Refusal {
    if (this.legacy)
      return { ok: false, code: "internal_error", message: "a pre-1.1 channel object serves nothing; its state moved" };
    if (!this.state) {
      if (!learned) return { ok: false, code: "nonexisting_channel", lookup: "channel" };
      this.persist({ ...newChannelState(sender, openBlock, learned, Date.now()), readBlock: learned.confirmedBlock });
    } else if (learned && learned.confirmedBlock >= (this.state.readBlock ?? 0)) {
      const next = withDeposit(this.state, learned.deposit, Date.now(), learned.confirmedBlock);
      if (next !== this.state) this.persist(next);
    }
    const s = this.state!;
    if (s.sender.toLowerCase() !== sender.toLowerCase() || s.openBlock !== openBlock) {
      return { ok: false, code: "internal_error", message: "channel object addressed with another channel's identity" };
    }
    return { ok: true, state: s };
  }
}
