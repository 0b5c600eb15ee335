// The dispute queue in D1 `dispute_queue`: every close request the sync reads is written in the
// same batch as its event row, and the settlement step drains the queue, most urgent settle
// block first, until each close is settled on chain (`done`) or gone from it (`moot`). So a
// cheating close is looked at in every run until it is answered, however many channels the
// `channels` projection holds and whatever order it keeps them in.
import { and, asc, eq, lt, ne, or, type SQL, sql } from "drizzle-orm";
import { drizzle, type DrizzleD1Database } from "drizzle-orm/d1";
import type { Address } from "viem";
import { channelId } from "../../protocol/channel-key.js";
import type { ChainEvent } from "../channel/events.js";
import { disputeQueue } from "../db/schema.js";

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
export function queueCloses(db: DrizzleD1Database, events: readonly ChainEvent[], now: number) {
  const excluded = (column: string) => sql.raw(`excluded.${column}`);
  return events
    .filter((e) => e.name === "ChannelCloseRequested")
    .map((e) =>
      db
        .insert(disputeQueue)
        .values({
          id: channelId(e.sender, e.openBlock),
          sender: e.sender.toLowerCase(),
          openBlock: e.openBlock,
          closingBalance: e.amount.toString(),
          settleBlock: e.settleBlock ?? 0,
          closeBlock: e.blockNumber,
          status: "pending",
          attempts: 0,
          createdAt: now,
          updatedAt: now,
        })
        .onConflictDoUpdate({
          target: disputeQueue.id,
          set: {
            closingBalance: excluded("closing_balance"),
            settleBlock: excluded("settle_block"),
            closeBlock: excluded("close_block"),
            status: "pending",
            updatedAt: excluded("updated_at"),
          },
          setWhere: or(
            ne(disputeQueue.closeBlock, excluded("close_block")),
            ne(disputeQueue.settleBlock, excluded("settle_block")),
            ne(disputeQueue.closingBalance, excluded("closing_balance")),
          ),
        }),
    );
}

/** The queue rows `where` selects, most urgent settle block first. */
async function select(d1: D1Database, where: SQL | undefined, limit: number): Promise<QueueRow[]> {
  const rows = await drizzle(d1)
    .select({
      id: disputeQueue.id,
      sender: disputeQueue.sender,
      openBlock: disputeQueue.openBlock,
      closingBalance: disputeQueue.closingBalance,
      settleBlock: disputeQueue.settleBlock,
      status: disputeQueue.status,
      attempts: disputeQueue.attempts,
    })
    .from(disputeQueue)
    .where(where)
    .orderBy(asc(disputeQueue.settleBlock), asc(disputeQueue.id))
    .limit(limit);
  return rows.map((r) => ({ ...r, sender: r.sender as Address, closingBalance: BigInt(r.closingBalance) }));
}

/** Honest closes whose challenge is over at `head`. */
const challengeOver = (head: bigint) =>
  and(eq(disputeQueue.status, "honest"), lt(disputeQueue.settleBlock, Number(head)));

/** Rows that need a look now: every pending close, and honest ones whose challenge is over. */
export function dueCloses(d1: D1Database, head: bigint, limit = MAX_QUEUE_ROWS): Promise<QueueRow[]> {
  return select(d1, or(eq(disputeQueue.status, "pending"), challengeOver(head)), limit);
}

/** Honest closes whose challenge is over (`settle` may be called in the next block). */
export function settleableCloses(d1: D1Database, head: bigint, limit = MAX_QUEUE_ROWS): Promise<QueueRow[]> {
  return select(d1, challengeOver(head), limit);
}

/** The statement that records what the settlement step learned of a queued close (fields not
 *  given keep their value). */
export function markClose(
  db: DrizzleD1Database,
  id: string,
  p: {
    status: QueueStatus;
    closingBalance?: bigint;
    settleBlock?: number;
    error?: string | null;
    attempted?: boolean;
    now: number;
  },
) {
  return db
    .update(disputeQueue)
    .set({
      status: p.status,
      ...(p.closingBalance !== undefined ? { closingBalance: p.closingBalance.toString() } : {}),
      ...(p.settleBlock !== undefined ? { settleBlock: p.settleBlock } : {}),
      lastError: p.error ?? null,
      ...(p.attempted ? { attempts: sql`${disputeQueue.attempts} + 1` } : {}),
      updatedAt: p.now,
    })
    .where(eq(disputeQueue.id, id));
}
