// The sync's row in D1 `sync_state`: the cursor (last synced block and its hash, and the log
// index inside that block when a run stopped in the middle of it), the lease that
// lets only one sync run at a time (a conditional UPDATE of `lock_until`; every later write of
// the run is conditional on still holding it), the run's health (last error, reorgs, head), and
// the recent checkpoints (block hashes) a reorg walk compares with the chain.
export const SYNC_ID = "main";
/** How long a run holds the lease unless it renews it (each chunk renews). */
export const LEASE_MS = 120_000;
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

/** The lease a run holds: the `lock_until` value it wrote (renewals replace it). */
export type Lease = { until: number };

/** Creates the row on first use: the cursor just before the contract's deploy block. */
export async function ensureSyncRow(db: D1Database, deployBlock: bigint): Promise<void> {
  await db
    .prepare("INSERT OR IGNORE INTO sync_state (id, block_number, block_hash) VALUES (?, ?, '')")
    .bind(SYNC_ID, Number(deployBlock) - 1)
    .run();
}

export async function readSyncRow(db: D1Database): Promise<SyncRow | null> {
  const r = await db.prepare("SELECT * FROM sync_state WHERE id = ?").bind(SYNC_ID).first<Record<string, unknown>>();
  if (!r) return null;
  return {
    blockNumber: r.block_number as number,
    blockHash: r.block_hash as string,
    logIndex: (r.log_index as number | null) ?? null,
    headBlock: (r.head_block as number | null) ?? null,
    eventsApplied: r.events_applied as number,
    reorgs: r.reorgs as number,
    lastRunAt: (r.last_run_at as number | null) ?? null,
    lastError: (r.last_error as string | null) ?? null,
    lastErrorAt: (r.last_error_at as number | null) ?? null,
    lockUntil: (r.lock_until as number | null) ?? null,
  };
}

/** Takes the lease when nobody holds an unexpired one; null when another run has it. */
export async function acquireLease(db: D1Database, now: number, ms = LEASE_MS): Promise<Lease | null> {
  const until = now + ms;
  const r = await db
    .prepare("UPDATE sync_state SET lock_until = ? WHERE id = ? AND (lock_until IS NULL OR lock_until <= ?)")
    .bind(until, SYNC_ID, now)
    .run();
  return r.meta.changes === 1 ? { until } : null;
}

export async function releaseLease(db: D1Database, lease: Lease): Promise<void> {
  await db
    .prepare("UPDATE sync_state SET lock_until = NULL WHERE id = ? AND lock_until = ?")
    .bind(SYNC_ID, lease.until)
    .run();
}

/**
 * Moves the cursor to `to` (and renews the lease) if this run still holds the lease, records
 * the checkpoint and prunes old ones, all in one batch. False when the lease was lost: the run
 * must stop, another run owns the sync now.
 */
export async function advanceCursor(
  db: D1Database,
  lease: Lease,
  to: Cursor,
  p: { events: number; headBlock: number; now: number; reorg?: boolean },
): Promise<boolean> {
  const until = p.now + LEASE_MS;
  const [update] = await db.batch([
    db
      .prepare(
        `UPDATE sync_state SET block_number = ?, block_hash = ?, log_index = ?, events_applied = events_applied + ?, head_block = ?,
           reorgs = reorgs + ?, lock_until = ? WHERE id = ? AND lock_until = ?`,
      )
      .bind(
        to.blockNumber,
        to.blockHash,
        to.logIndex ?? null,
        p.events,
        p.headBlock,
        p.reorg ? 1 : 0,
        until,
        SYNC_ID,
        lease.until,
      ),
    db
      .prepare(
        "INSERT OR REPLACE INTO sync_checkpoints (block_number, block_hash) SELECT ?, ? WHERE EXISTS (SELECT 1 FROM sync_state WHERE id = ? AND lock_until = ?)",
      )
      .bind(to.blockNumber, to.blockHash, SYNC_ID, until),
    db
      .prepare(
        "DELETE FROM sync_checkpoints WHERE block_number <= (SELECT block_number FROM sync_checkpoints ORDER BY block_number DESC LIMIT 1 OFFSET ?)",
      )
      .bind(CHECKPOINTS_KEPT),
  ]);
  if (update!.meta.changes !== 1) return false;
  lease.until = until;
  return true;
}

/** Records how the run ended: its time, the head it saw, and its error (null clears it). */
export async function recordRun(
  db: D1Database,
  p: { now: number; headBlock: number | null; error: string | null },
): Promise<void> {
  await db
    .prepare(
      `UPDATE sync_state SET last_run_at = ?, head_block = COALESCE(?, head_block), last_error = ?,
         last_error_at = CASE WHEN ? IS NULL THEN last_error_at ELSE ? END WHERE id = ?`,
    )
    .bind(p.now, p.headBlock, p.error, p.error, p.now, SYNC_ID)
    .run();
}

/** Records an alert (e.g. the receiver lacks gas) where `stats` and the admin view show it. */
export async function recordAlert(db: D1Database, text: string, now: number): Promise<void> {
  await db
    .prepare("UPDATE sync_state SET last_error = ?, last_error_at = ? WHERE id = ?")
    .bind(text, now, SYNC_ID)
    .run();
}
