// The sync's row in D1 `sync_state`: the cursor (last synced block and its hash, and the log
// index inside that block when a run stopped in the middle of it), the lease that
// lets only one sync run at a time (a conditional UPDATE of `lock_until`; every later write of
// the run is conditional on still holding it), the run's health (last error, reorgs, head), and
// the recent checkpoints (block hashes) a reorg walk compares with the chain. The lease is short
// and renewed by a heartbeat while the run lives, so a run killed part-way (an evicted
// invocation, `kill -9`) holds up the next one for LEASE_MS at most.
import { and, desc, eq, isNull, lte, or, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { syncCheckpoints, syncState } from "../db/schema.js";

export const SYNC_ID = "main";
/** How long a run holds the lease unless it renews it: the longest a dead run delays the next. */
export const LEASE_MS = 15_000;
/** How often a live run renews its lease (holdLease), well inside LEASE_MS. */
export const LEASE_RENEW_MS = 5_000;
/** Checkpoints kept: with a chunk per cron run at worst, hours of history to find an ancestor in. */
export const CHECKPOINTS_KEPT = 512;

/** Every event up to block `blockNumber` (hash `blockHash`) is applied; with `logIndex`, only
 *  those of that block up to this log index, and the rest of the block is still to do. */
export type Cursor = { blockNumber: number; blockHash: string; logIndex?: number | null };

export type SyncRow = Cursor & {
  headBlock: number | null;
  eventsApplied: number;
  reorgs: number;
  lastRunAt: number | null;
  lastError: string | null;
  lastErrorAt: number | null;
  lockUntil: number | null;
};

/**
 * The lease a run holds: the `lock_until` value it last wrote. Every write conditional on it
 * (renewals, cursor moves) goes through `exclusive`, one at a time, so a heartbeat's renewal
 * never races a cursor move into believing the lease was lost.
 */
export class Lease {
  private queue: Promise<unknown> = Promise.resolve();
  constructor(public until: number) {}

  /** Runs `write` once the writes before it are done. */
  exclusive<T>(write: () => Promise<T>): Promise<T> {
    const done = this.queue.then(write);
    this.queue = done.catch(() => undefined);
    return done;
  }
}

/** Creates the row on first use: the cursor just before the contract's deploy block. */
export async function ensureSyncRow(d1: D1Database, deployBlock: bigint): Promise<void> {
  await drizzle(d1)
    .insert(syncState)
    .values({ id: SYNC_ID, blockNumber: Number(deployBlock) - 1, blockHash: "" })
    .onConflictDoNothing();
}

export async function readSyncRow(d1: D1Database): Promise<SyncRow | null> {
  const r = await drizzle(d1).select().from(syncState).where(eq(syncState.id, SYNC_ID)).get();
  if (!r) return null;
  const { id: _id, ...row } = r;
  return row;
}

/** Takes the lease when nobody holds an unexpired one; null when another run has it. */
export async function acquireLease(d1: D1Database, now: number, ms = LEASE_MS): Promise<Lease | null> {
  const until = now + ms;
  const r = await drizzle(d1)
    .update(syncState)
    .set({ lockUntil: until })
    .where(and(eq(syncState.id, SYNC_ID), or(isNull(syncState.lockUntil), lte(syncState.lockUntil, now))))
    .run();
  return r.meta.changes === 1 ? new Lease(until) : null;
}

/** Extends the lease to LEASE_MS from now if this run still holds it; false when it was lost. */
export function renewLease(d1: D1Database, lease: Lease): Promise<boolean> {
  return lease.exclusive(async () => {
    const until = Date.now() + LEASE_MS;
    const r = await drizzle(d1)
      .update(syncState)
      .set({ lockUntil: until })
      .where(and(eq(syncState.id, SYNC_ID), eq(syncState.lockUntil, lease.until)))
      .run();
    if (r.meta.changes !== 1) return false;
    lease.until = until;
    return true;
  });
}

/**
 * Renews the lease every `everyMs` while the run lives (its timers die with it, so a killed
 * run's lease simply expires). A renewal D1 fails is tried again at the next beat (three beats
 * fit in the lease); once the lease is lost, renewing stops and the run's next cursor move fails
 * and ends it. Returns the function that stops the heartbeat.
 */
export function holdLease(d1: D1Database, lease: Lease, everyMs = LEASE_RENEW_MS): () => void {
  const timer = setInterval(() => {
    renewLease(d1, lease)
      .then((held) => {
        if (!held) clearInterval(timer);
      })
      .catch(() => undefined);
  }, everyMs);
  return () => clearInterval(timer);
}

export async function releaseLease(d1: D1Database, lease: Lease): Promise<void> {
  await lease.exclusive(() =>
    drizzle(d1)
      .update(syncState)
      .set({ lockUntil: null })
      .where(and(eq(syncState.id, SYNC_ID), eq(syncState.lockUntil, lease.until)))
      .run(),
  );
}

/**
 * Moves the cursor to `to` (and renews the lease) if this run still holds the lease, records
 * the checkpoint and prunes old ones, all in one batch. False when the lease was lost: the run
 * must stop, another run owns the sync now.
 */
export function advanceCursor(
  d1: D1Database,
  lease: Lease,
  to: Cursor,
  p: { events: number; headBlock: number; reorg?: boolean },
): Promise<boolean> {
  return lease.exclusive(() => moveCursor(d1, lease, to, p));
}

async function moveCursor(
  d1: D1Database,
  lease: Lease,
  to: Cursor,
  p: { events: number; headBlock: number; reorg?: boolean },
): Promise<boolean> {
  const db = drizzle(d1);
  const until = Date.now() + LEASE_MS;
  const held = (lockUntil: number) => and(eq(syncState.id, SYNC_ID), eq(syncState.lockUntil, lockUntil));
  const [update] = await db.batch([
    db
      .update(syncState)
      .set({
        blockNumber: to.blockNumber,
        blockHash: to.blockHash,
        logIndex: to.logIndex ?? null,
        eventsApplied: sql`${syncState.eventsApplied} + ${p.events}`,
        headBlock: p.headBlock,
        reorgs: sql`${syncState.reorgs} + ${p.reorg ? 1 : 0}`,
        lockUntil: until,
      })
      .where(held(lease.until)),
    // The checkpoint only while the lease (just renewed) is still this run's.
    db
      .insert(syncCheckpoints)
      .select(
        db
          .select({
            blockNumber: sql<number>`${to.blockNumber}`.as("block_number"),
            blockHash: sql<string>`${to.blockHash}`.as("block_hash"),
          })
          .from(syncState)
          .where(held(until)),
      )
      .onConflictDoUpdate({ target: syncCheckpoints.blockNumber, set: { blockHash: to.blockHash } }),
    db
      .delete(syncCheckpoints)
      .where(
        lte(
          syncCheckpoints.blockNumber,
          db
            .select({ n: syncCheckpoints.blockNumber })
            .from(syncCheckpoints)
            .orderBy(desc(syncCheckpoints.blockNumber))
            .limit(1)
            .offset(CHECKPOINTS_KEPT),
        ),
      ),
  ]);
  if (update.meta.changes !== 1) return false;
  lease.until = until;
  return true;
}

/** Records how the run ended: its time, the head it saw (kept when null), and its error (null
 *  clears it; the time of the last error stays). */
export async function recordRun(
  d1: D1Database,
  p: { now: number; headBlock: number | null; error: string | null },
): Promise<void> {
  await drizzle(d1)
    .update(syncState)
    .set({
      lastRunAt: p.now,
      lastError: p.error,
      ...(p.headBlock !== null ? { headBlock: p.headBlock } : {}),
      ...(p.error !== null ? { lastErrorAt: p.now } : {}),
    })
    .where(eq(syncState.id, SYNC_ID))
    .run();
}

/** Records an alert (e.g. the receiver lacks gas) where `stats` and the admin view show it. */
export async function recordAlert(d1: D1Database, text: string, now: number): Promise<void> {
  await drizzle(d1).update(syncState).set({ lastError: text, lastErrorAt: now }).where(eq(syncState.id, SYNC_ID)).run();
}
