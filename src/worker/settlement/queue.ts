// The dispute queue in D1 `dispute_queue`: every close request the sync reads is written in the
// same batch as its event row, and the settlement step drains the queue, most urgent settle
// block first, until each close is settled on chain (`done`) or gone from it (`moot`). So a
// cheating close is looked at in every run until it is answered, however many channels the
// `channels` projection holds and whatever order it keeps them in.
import type { Address } from "viem";
import { channelId } from "../../protocol/channel-key.js";
import type { ChainEvent } from "../channel/events.js";

/** Queue rows looked at per run, most urgent settle block first; the rest wait one run. */
export const MAX_QUEUE_ROWS = 50;

export type QueueStatus = "pending" | "honest" | "done" | "moot";

export type QueueRow = {
  id: string;
  sender: Address;
  openBlock: number;
  closingBalance: bigint;
  settleBlock: number;
  status: QueueStatus;
  attempts: number;
};

/** The statements that queue the close requests among `events` (for the sync's event batch).
 *  The same close read again changes nothing; another close of the channel (a reorg mined a
 *  different one) is queued afresh. */
export function queueCloses(db: D1Database, events: readonly ChainEvent[], now: number): D1PreparedStatement[] {
  return events
    .filter((e) => e.name === "ChannelCloseRequested")
    .map((e) =>
      db
        .prepare(
          `INSERT INTO dispute_queue (id, sender, open_block, closing_balance, settle_block, close_block, status, attempts, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)
           ON CONFLICT(id) DO UPDATE SET closing_balance = excluded.closing_balance, settle_block = excluded.settle_block,
             close_block = excluded.close_block, status = 'pending', updated_at = excluded.updated_at
           WHERE dispute_queue.close_block != excluded.close_block OR dispute_queue.settle_block != excluded.settle_block
             OR dispute_queue.closing_balance != excluded.closing_balance`,
        )
        .bind(
          channelId(e.sender, e.openBlock),
          e.sender.toLowerCase(),
          e.openBlock,
          e.amount.toString(),
          e.settleBlock ?? 0,
          e.blockNumber,
          now,
          now,
        ),
    );
}

type Stored = {
  id: string;
  sender: string;
  open_block: number;
  closing_balance: string;
  settle_block: number;
  status: QueueStatus;
  attempts: number;
};

async function select(db: D1Database, where: string, head: bigint, limit: number): Promise<QueueRow[]> {
  const { results } = await db
    .prepare(
      `SELECT id, sender, open_block, closing_balance, settle_block, status, attempts FROM dispute_queue WHERE ${where} ORDER BY settle_block, id LIMIT ?2`,
    )
    .bind(Number(head), limit)
    .all<Stored>();
  return results.map((r) => ({
    id: r.id,
    sender: r.sender as Address,
    openBlock: r.open_block,
    closingBalance: BigInt(r.closing_balance),
    settleBlock: r.settle_block,
    status: r.status,
    attempts: r.attempts,
  }));
}

/** Rows that need a look now: every pending close, and honest ones whose challenge is over. */
export function dueCloses(db: D1Database, head: bigint, limit = MAX_QUEUE_ROWS): Promise<QueueRow[]> {
  return select(db, "status = 'pending' OR (status = 'honest' AND settle_block < ?1)", head, limit);
}

/** Honest closes whose challenge is over (`settle` may be called in the next block). */
export function settleableCloses(db: D1Database, head: bigint, limit = MAX_QUEUE_ROWS): Promise<QueueRow[]> {
  return select(db, "status = 'honest' AND settle_block < ?1", head, limit);
}

/** The statement that records what the settlement step learned of a queued close. */
export function markClose(
  db: D1Database,
  id: string,
  p: {
    status: QueueStatus;
    closingBalance?: bigint;
    settleBlock?: number;
    error?: string | null;
    attempted?: boolean;
    now: number;
  },
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE dispute_queue SET status = ?, closing_balance = COALESCE(?, closing_balance), settle_block = COALESCE(?, settle_block),
         last_error = ?, attempts = attempts + ?, updated_at = ? WHERE id = ?`,
    )
    .bind(
      p.status,
      p.closingBalance?.toString() ?? null,
      p.settleBlock ?? null,
      p.error ?? null,
      p.attempted ? 1 : 0,
      p.now,
      id,
    );
}
