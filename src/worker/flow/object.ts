// FlowObject: one Durable Object per client without a channel (keyed by IP, client-key.ts): its
// free token bucket and the start of its trial. The bucket lives in memory only (it refills
// faster than an idle object is evicted), so a free request costs no storage write; the
// first-seen time is written once, so waiting never renews a trial.
import { DurableObject } from "cloudflare:workers";
import { getConfig } from "../config.js";
import type { Env } from "../env.js";
import { admit, type Bucket, type FlowCharge, type FlowStatus } from "./bucket.js";

/** A client is forgotten after this long without a request (at least ten trials). */
export const IDLE_EXPIRY_MS = 30 * 24 * 3600 * 1000;
/** The stored last-seen time is refreshed at most this often (it only drives the expiry). */
const LAST_SEEN_RESOLUTION_MS = 3600 * 1000;

export type FlowRequest = FlowCharge & {
  /** False when flow control is off: only the trial is looked at. */
  limit: boolean;
  /** Set on a trial route: the trial's length. */
  trialSeconds?: number;
};

export type FlowAnswer =
  /** Served: the bucket paid the cost (status absent when flow control is off). */
  | { ok: true; status?: FlowStatus; trialRemainingMs?: number }
  /** Over the allowance: nothing was taken. */
  | { ok: false; reason: "rate_limited"; status: FlowStatus; retryAfterMs: number; trialRemainingMs?: number }
  /** A trial route after the client's trial: nothing was taken; the request must be paid. */
  | { ok: false; reason: "trial_over"; trialRemainingMs: 0 };

export type FlowInfo = { firstSeen: number | null; bucket: Bucket | null };

/**
 * The Durable Object of one free client (keyed by its IP): its free token bucket and the start
 * of its trial. Each call decides synchronously, so concurrent requests on one bucket are
 * serialised and never overspend it. Bind it as `FLOW` and export it from the Worker's entry.
 *
 * @example
 * ```ts
 * // wrangler.jsonc: "durable_objects": { "bindings": [{ "name": "FLOW", "class_name": "FlowObject" }] }
 * export { FlowObject } from "edge402/worker";
 * ```
 */
export class FlowObject extends DurableObject<Env> {
  private bucket: Bucket | null = null;
  private lastSeenStored = 0;
  private tableReady = false;

  /** One request of this client: the trial, then the bucket. */
  async admit(req: FlowRequest): Promise<FlowAnswer> {
    const now = Date.now();
    const firstSeen = this.seen(now);
    let trialRemainingMs: number | undefined;
    if (req.trialSeconds !== undefined) {
      trialRemainingMs = Math.max(0, firstSeen + req.trialSeconds * 1000 - now);
      if (trialRemainingMs === 0) return { ok: false, reason: "trial_over", trialRemainingMs: 0 };
    }
    if (!req.limit) return { ok: true, trialRemainingMs };
    const decision = admit(this.bucket, req, now, Math.random());
    this.bucket = decision.bucket;
    if (!decision.ok)
      return {
        ok: false,
        reason: "rate_limited",
        status: decision.status,
        retryAfterMs: decision.retryAfterMs,
        trialRemainingMs,
      };
    return { ok: true, status: decision.status, trialRemainingMs };
  }

  /** Test and admin view. */
  async info(): Promise<FlowInfo> {
    return { firstSeen: this.row()?.first_seen ?? null, bucket: this.bucket };
  }

  override async alarm(): Promise<void> {
    const row = this.row();
    if (!row) return;
    const expiry = Math.max(IDLE_EXPIRY_MS, 10 * getConfig(this.env).trialSeconds * 1000);
    const lastSeen = Math.max(row.last_seen, this.lastSeenStored);
    if (Date.now() - lastSeen >= expiry) {
      this.bucket = null;
      this.lastSeenStored = 0;
      this.tableReady = false;
      await this.ctx.storage.deleteAll();
      return;
    }
    await this.ctx.storage.setAlarm(lastSeen + expiry);
  }

  private row(): { first_seen: number; last_seen: number } | undefined {
    if (!this.tableReady) {
      this.ctx.storage.sql.exec(
        "CREATE TABLE IF NOT EXISTS flow_client (id INTEGER PRIMARY KEY CHECK (id = 1), first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL)",
      );
      this.tableReady = true;
    }
    return this.ctx.storage.sql
      .exec<{ first_seen: number; last_seen: number }>("SELECT first_seen, last_seen FROM flow_client WHERE id = 1")
      .toArray()[0];
  }

  /** The client's first-seen time, recording it (and its expiry alarm) on its first request. */
  private seen(now: number): number {
    const row = this.row();
    if (!row) {
      this.ctx.storage.sql.exec("INSERT INTO flow_client (id, first_seen, last_seen) VALUES (1, ?, ?)", now, now);
      this.lastSeenStored = now;
      void this.ctx.storage.setAlarm(now + IDLE_EXPIRY_MS);
      return now;
    }
    if (now - Math.max(row.last_seen, this.lastSeenStored) > LAST_SEEN_RESOLUTION_MS) {
      this.ctx.storage.sql.exec("UPDATE flow_client SET last_seen = ? WHERE id = 1", now);
      this.lastSeenStored = now;
    }
    return row.first_seen;
  }
}
