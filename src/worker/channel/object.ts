// ChannelObject: one Durable Object per channel, the single writer of that channel's state.
//
// It loads the state once, applies the pure rules of state.ts, and writes its own SQLite
// storage before it answers, so an accepted payment is durable before any byte of the
// response (the output gate holds the reply until the write lands). It meets the chain only
// to learn an unknown channel (one getChannelInfo at the confirmed block, single-flight) and
// to re-read the deposit once when a proof exceeds it; after every await it decides again
// from the current state, never from a half-made decision. D1 is a projection written
// behind by an alarm, at most PROJECTION_DELAY_MS (plus retries) after a change; the same alarm
// ends metered reservations whose time is up (state.ts `expireReservations`).
import { DurableObject } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/d1";
import { sql } from "drizzle-orm";
import type { Address, Hex } from "viem";
import type { ErrorCode } from "../../protocol/errors.js";
import { channelId, parseChannelId } from "../../protocol/channel-key.js";
import { verifyBalanceProof } from "../../protocol/verify.js";
import { closingProofTypedData } from "../../protocol/eip712.js";
import { ChainUnavailableError, lookupChannel, type ChannelLookup } from "../chain.js";
import { getConfig, type Env } from "../config.js";
import { channels } from "../db/schema.js";
import type { FlowCharge, FlowStatus } from "../flow/bucket.js";
import { decodeState, encodeState, snapshot, type ChannelSnapshot } from "./codec.js";
import { channelObjectName, legacyChannelStub, parseChannelObjectName } from "./stub.js";
import {
  applyChainEvents,
  disputePlan,
  receiverCloseProof,
  rewindChannel,
  withdrawProof,
  type AppliedEvent,
  type ChainEvent,
  type ChainEventName,
  type DisputePlan,
  type OnChainRecord,
} from "./events.js";
import {
  acceptProof,
  chargeCapacity,
  chargeCredit,
  expireReservations,
  markCloseRequested,
  newChannelState,
  nextReservationExpiry,
  settleReservation,
  withDeposit,
  type ChannelState,
  type Decision,
} from "./state.js";

/** How long after a change the D1 projection is written. */
export const PROJECTION_DELAY_MS = 1000;
/** How long a "missing" or "unconfirmed" answer from the chain is reused (no refusal storms). */
const NEGATIVE_CACHE_MS = 1500;

/** `flow` is the payer's allowance when the request was flow-controlled; a `rate_limited`
 *  refusal adds `retryAfterMs`. */
export type PayResult =
  | { ok: true; cost: bigint; channel: ChannelSnapshot; flow?: FlowStatus }
  | { ok: false; code: ErrorCode; message?: string; channel?: ChannelSnapshot; flow?: FlowStatus; retryAfterMs?: number };

export type CloseResult =
  | { ok: true; balance: bigint; closingSignature: Hex; channel: ChannelSnapshot }
  | { ok: false; code: ErrorCode; message?: string; channel?: ChannelSnapshot };

/** What the sync learns back from applying a channel's events (see events.ts). */
export type ApplyEventsResult = { applied: number; channel: ChannelSnapshot | null; dispute: DisputePlan | null };

/** `flow`: charge the payer's bucket (PAID_CAPACITY) in the same decision and write.
 *  `reserveId`: a metered request reserving `price`, served for at most `reserveMs`. */
export type ProofRequest = {
  sender: Address;
  openBlock: number;
  balance: bigint;
  signature: Hex;
  price: bigint;
  reserveId?: string;
  reserveMs?: number;
  flow?: FlowCharge;
  /** Refuse (nonexisting_channel) rather than learn a channel this object never met. */
  knownOnly?: boolean;
};
export type CreditRequest = { sender: Address; openBlock: number; price: bigint; reserveId?: string; reserveMs?: number; flow?: FlowCharge };

export class ChannelObject extends DurableObject<Env> {
  private state: ChannelState | null = null;
  private lookup: Promise<ChannelLookup> | null = null;
  private negative: { result: ChannelLookup; at: number } | null = null;
  /** An object named the pre-1.1 way (`<sender>-<openBlock>`): it serves nothing any more,
   *  and only hands its state over to its channel's object on this deployment. */
  private readonly legacy: boolean;
  /** When the scheduled alarm fires (ms), or null when none is scheduled. */
  private alarmAt: number | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.legacy = ctx.id.name !== undefined && parseChannelId(ctx.id.name) !== null;
    ctx.blockConcurrencyWhile(async () => {
      ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS channel (id INTEGER PRIMARY KEY CHECK (id = 1), data TEXT NOT NULL)");
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
    const known = await this.known(req.sender, req.openBlock);
    if (!known.ok) return known;
    let decision = this.decideProof(req);
    if (!decision.ok && decision.code === "insufficient_deposit") {
      // One re-read of the deposit (a top-up we have not synced yet), then decide again.
      const reread = await this.refresh(req.sender, req.openBlock);
      if (!reread.ok) return reread;
      decision = this.decideProof(req);
    }
    return this.commit(decision);
  }

  /** A session request: spend `price` from credit (or reserve it, for a metered route). */
  async spend(req: CreditRequest): Promise<PayResult> {
    const known = await this.known(req.sender, req.openBlock);
    if (!known.ok) return known;
    const flow = req.flow && { ...req.flow, random: Math.random() };
    return this.commit(chargeCredit(known.state, { ...req, flow }, Date.now()));
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
    if (s.sender.toLowerCase() !== req.sender.toLowerCase() || s.openBlock !== req.openBlock) return { ok: false, code: "internal_error" };
    const decision = chargeCapacity(s, req.flow && { ...req.flow, random: Math.random() }, Date.now());
    if (!decision.ok) return this.commit(decision);
    this.state = decision.state;
    return { ok: true, cost: 0n, channel: snapshot(decision.state), flow: decision.flow };
  }

  /** Settles a metered reservation at the measured cost; the rest returns to credit. */
  async settle(id: string, measured: bigint): Promise<PayResult> {
    if (!this.state) return { ok: false, code: "nonexisting_channel" };
    return this.commit(settleReservation(this.state, id, measured, Date.now()));
  }

  /** The channel as the object knows it, learning it from the chain first if need be. */
  async info(sender: Address, openBlock: number): Promise<PayResult> {
    const known = await this.known(sender, openBlock);
    if (!known.ok) return known;
    return { ok: true, cost: 0n, channel: snapshot(known.state) };
  }

  /**
   * The sender asked to close (its CloseRequest signature was checked by the Worker): sign the
   * receiver's ClosingProof at C and stop serving. Asking again returns the same answer.
   */
  async requestClose(sender: Address, openBlock: number): Promise<CloseResult> {
    const known = await this.known(sender, openBlock);
    if (!known.ok) return known;
    const s = known.state;
    if (s.status === "removed") return { ok: false, code: "nonexisting_channel", channel: snapshot(s) };
    if (s.status === "settled") return { ok: false, code: "channel_closing", channel: snapshot(s) };
    this.expire();
    if (Object.keys(this.state!.reservations).length > 0) {
      return { ok: false, code: "bad_request", message: "A metered request on this channel is still being served; ask again in a moment." };
    }
    const config = getConfig(this.env);
    const closingSignature = await config.receiver.signTypedData(
      closingProofTypedData({ chainId: config.chainId, contract: config.contract, sender: s.sender, openBlock: s.openBlock, balance: s.charged }),
    );
    // Re-read after the await: the charged total or the reservations may have moved meanwhile.
    const current = this.state!;
    if (current.charged !== s.charged || Object.keys(current.reservations).length > 0) return this.requestClose(sender, openBlock);
    const next = markCloseRequested(current, Date.now());
    this.persist(next);
    return { ok: true, balance: next.charged, closingSignature, channel: snapshot(next) };
  }

  /** The channel as this object already knows it, without any chain call (null if never met).
   *  Used to tell a client whose proof was refused what the server holds, so it can resync. */
  async peek(): Promise<ChannelSnapshot | null> {
    return this.state ? snapshot(this.state) : null;
  }

  /** Test and admin view of the raw state. */
  async raw(): Promise<ChannelState | null> {
    return this.state;
  }

  /** A pre-1.1 object's state and the chain events it applied, for `adoptLegacy`. */
  async handOver(): Promise<{ state: ChannelState; history: AppliedEvent[] } | null> {
    if (!this.legacy || !this.state) return null;
    return { state: this.state, history: this.chainHistory() };
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
    const old = await legacyChannelStub(this.env, id.sender, id.openBlock).handOver();
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
    this.chainHistory();
    this.saveHistory(old!.history, []);
    this.persist(s);
  }

  // --- Chain sync and settlement (src/worker/sync, src/worker/settlement): the rules are in
  // events.ts; these methods load the applied-event list, apply, and persist with the state.

  /** Applies contract events for this channel in chain order, each once (keyed by its id). */
  async applyEvents(events: ChainEvent[]): Promise<ApplyEventsResult> {
    const history = this.chainHistory();
    const r = applyChainEvents(this.state, history, events, Date.now());
    if (r.applied > 0) {
      // No await between the writes: they commit together (write coalescing).
      this.saveHistory(r.history.slice(history.length), []);
      if (r.state && r.state !== this.state) this.persist(r.state);
    }
    const s = this.state;
    return { applied: r.applied, channel: s ? snapshot(s) : null, dispute: s ? disputePlan(s) : null };
  }

  /** A reorg removed `removedIds`: forget them and take `onChain` (read at the common ancestor). */
  async rewind(removedIds: string[], onChain: OnChainRecord): Promise<ChannelSnapshot | null> {
    const history = this.chainHistory();
    const r = rewindChannel(this.state, history, removedIds, onChain, Date.now());
    this.saveHistory([], removedIds);
    if (r.state && r.state !== this.state) this.persist(r.state);
    return this.state ? snapshot(this.state) : null;
  }

  /** The proof to dispute a cheating close with, or null (events.ts `disputePlan`). */
  async disputeProof(): Promise<DisputePlan | null> {
    return this.state ? disputePlan(this.state) : null;
  }

  /** The newest proof <= C when it pays more than was withdrawn, or null (events.ts). */
  async withdrawProof(): Promise<{ balance: bigint; signature: Hex } | null> {
    return this.state ? withdrawProof(this.state) : null;
  }

  /** The proof for a receiver-side close after the sender asked to close, or null (events.ts). */
  async closeProof(): Promise<{ balance: bigint; signature: Hex } | null> {
    return this.state ? receiverCloseProof(this.state) : null;
  }

  private chainHistory(): AppliedEvent[] {
    this.ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS chain_events (id TEXT PRIMARY KEY, name TEXT NOT NULL, block_number INTEGER NOT NULL, log_index INTEGER NOT NULL, amount TEXT NOT NULL)",
    );
    return this.ctx.storage.sql
      .exec<{ id: string; name: string; block_number: number; log_index: number; amount: string }>(
        "SELECT id, name, block_number, log_index, amount FROM chain_events ORDER BY block_number, log_index",
      )
      .toArray()
      .map((r) => ({ id: r.id, name: r.name as ChainEventName, blockNumber: r.block_number, logIndex: r.log_index, amount: BigInt(r.amount) }));
  }

  private saveHistory(added: AppliedEvent[], removedIds: string[]): void {
    for (const e of added) {
      this.ctx.storage.sql.exec(
        "INSERT OR IGNORE INTO chain_events (id, name, block_number, log_index, amount) VALUES (?, ?, ?, ?, ?)",
        e.id,
        e.name,
        e.blockNumber,
        e.logIndex,
        e.amount.toString(),
      );
    }
    for (const id of removedIds) this.ctx.storage.sql.exec("DELETE FROM chain_events WHERE id = ?", id);
  }

  override async alarm(): Promise<void> {
    this.alarmAt = null;
    if (this.legacy) return;
    this.expire();
    const s = this.state;
    if (!s) return;
    const expiry = nextReservationExpiry(s);
    if (expiry) this.scheduleAlarm(expiry);
    const row = {
      id: channelId(s.sender, s.openBlock),
      sender: s.sender.toLowerCase(),
      openBlock: s.openBlock,
      state: s.status,
      deposit: s.deposit.toString(),
      balance: s.balance.toString(),
      charged: s.charged.toString(),
      withdrawn: s.withdrawn.toString(),
      withdrawable: (s.withdrawable?.balance ?? s.withdrawn).toString(),
      closingBalance: s.closingBalance?.toString() ?? null,
      settleBlock: s.settleBlock,
      closeRequested: s.closeRequested,
      payments: s.payments,
      version: s.version,
      createdAt: s.createdAt,
      updatedAt: s.updatedAt,
    };
    const { id: _id, createdAt: _c, ...update } = row;
    await drizzle(this.env.DB)
      .insert(channels)
      .values(row)
      .onConflictDoUpdate({ target: channels.id, set: update, setWhere: sql`${channels.version} < ${row.version}` });
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
      return { ok: false, code: decision.code, channel: this.state ? snapshot(this.state) : undefined, flow, retryAfterMs };
    }
    if (decision.state !== this.state) this.persist(decision.state);
    return { ok: true, cost: decision.cost, channel: snapshot(decision.state), flow: decision.flow };
  }

  /** Writes the state to storage (durable before the reply) and schedules the D1 projection. */
  private persist(next: ChannelState): void {
    this.ctx.storage.sql.exec("INSERT OR REPLACE INTO channel (id, data) VALUES (1, ?)", encodeState(next));
    this.state = next;
    this.scheduleAlarm(Date.now() + PROJECTION_DELAY_MS);
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

  /** The channel's state, learned from the chain if this object has never seen it. Whether it
   *  may serve is for the rules to say (state.ts), not for this look-up. */
  private async known(
    sender: Address,
    openBlock: number,
  ): Promise<{ ok: true; state: ChannelState } | { ok: false; code: ErrorCode; message?: string; channel?: ChannelSnapshot }> {
    if (this.legacy) return { ok: false, code: "internal_error", message: "a pre-1.1 channel object serves nothing; its state moved" };
    if (!this.state) {
      const neg = this.negative;
      const result = neg && Date.now() - neg.at < NEGATIVE_CACHE_MS ? neg.result : await this.lookupOnce(sender, openBlock);
      if (result instanceof Error) return { ok: false, code: "chain_unavailable", message: result.message };
      // Another request may have learned the channel while we waited: decide from now.
      if (!this.state) {
        if (result.status === "found") {
          this.persist(newChannelState(sender, openBlock, result.channel, Date.now()));
        } else {
          this.negative = { result, at: Date.now() };
          return { ok: false, code: result.status === "missing" ? "nonexisting_channel" : "insufficient_confirmations" };
        }
      }
    }
    const s = this.state!;
    if (s.sender.toLowerCase() !== sender.toLowerCase() || s.openBlock !== openBlock) {
      return { ok: false, code: "internal_error", message: "channel object addressed with another channel's identity" };
    }
    return { ok: true, state: s };
  }

  /** Re-reads the confirmed deposit once (single-flight) and applies it. */
  private async refresh(
    sender: Address,
    openBlock: number,
  ): Promise<{ ok: true } | { ok: false; code: ErrorCode; message?: string; channel?: ChannelSnapshot }> {
    const result = await this.lookupOnce(sender, openBlock);
    if (result instanceof Error) return { ok: false, code: "chain_unavailable", message: result.message };
    if (result.status === "found" && this.state) {
      const next = withDeposit(this.state, result.channel.deposit, Date.now());
      if (next !== this.state) this.persist(next);
    }
    return { ok: true };
  }

  private async lookupOnce(sender: Address, openBlock: number): Promise<ChannelLookup | Error> {
    this.lookup ??= lookupChannel(getConfig(this.env), sender, openBlock).finally(() => {
      this.lookup = null;
    });
    try {
      return await this.lookup;
    } catch (err) {
      return err instanceof ChainUnavailableError ? err : new ChainUnavailableError(String(err));
    }
  }
}
