// Reorgs, for the sync: find the newest block the sync knew that the chain still has, and undo
// what the removed blocks taught (each touched channel is told which events are gone and what
// the chain says at the ancestor, read here so the object needs no chain call). Every step
// repeats safely if the run dies half-way: the removed rows go last.
import { and, desc, eq, gt, lte, ne } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { BaseError, BlockNotFoundError, type Address, type Hex, type PublicClient } from "viem";
import { channelId } from "../../protocol/channel-key.js";
import { readChannelInfo } from "../chain.js";
import { eventId, type OnChainRecord } from "../channel/events.js";
import { channelStub } from "../channel/stub.js";
import type { Config } from "../config.js";
import { chainEvents, disputeQueue, syncCheckpoints } from "../db/schema.js";
import type { Env } from "../env.js";
import { advanceCursor, type Cursor, type Lease } from "./cursor.js";

/** Candidates compared per batched request while walking back. */
const WALK_PAGE = 16;
/** Pages walked before giving up and resyncing from the deploy block. */
const WALK_MAX_PAGES = 64;

export type RewindReport = { from: Cursor; to: Cursor; removedEvents: number; channels: number };

async function blockHash(client: PublicClient, n: number): Promise<Hex | null> {
  if (n < 0) return null;
  try {
    return (await client.getBlock({ blockNumber: BigInt(n) })).hash;
  } catch (err) {
    if (err instanceof BaseError && err.walk((e) => e instanceof BlockNotFoundError)) return null;
    throw err;
  }
}

/** True when the chain still has `cursor`'s block (a cursor without a hash is not checked). */
export async function cursorOnChain(client: PublicClient, cursor: Cursor): Promise<boolean> {
  if (!cursor.blockHash) return true;
  const hash = await blockHash(client, cursor.blockNumber);
  return hash !== null && hash.toLowerCase() === cursor.blockHash.toLowerCase();
}

/** The newest known block (a checkpoint or a stored event's block) still on the chain at or
 *  below `below`, else `floor`. */
export async function findAncestor(
  client: PublicClient,
  d1: D1Database,
  below: number,
  floor: Cursor,
): Promise<Cursor> {
  const db = drizzle(d1);
  for (let page = 0; page < WALK_MAX_PAGES; page++) {
    const results = await db
      .select({ blockNumber: syncCheckpoints.blockNumber, blockHash: syncCheckpoints.blockHash })
      .from(syncCheckpoints)
      .where(lte(syncCheckpoints.blockNumber, below))
      .union(
        db
          .selectDistinct({ blockNumber: chainEvents.blockNumber, blockHash: chainEvents.blockHash })
          .from(chainEvents)
          .where(lte(chainEvents.blockNumber, below)),
      )
      .orderBy(desc(syncCheckpoints.blockNumber))
      .limit(WALK_PAGE)
      .offset(page * WALK_PAGE);
    const hashes = await Promise.all(results.map((r) => blockHash(client, r.blockNumber)));
    for (let i = 0; i < results.length; i++) {
      const r = results[i]!;
      if (r.blockNumber <= floor.blockNumber) return floor;
      if (hashes[i]?.toLowerCase() === r.blockHash.toLowerCase()) return r;
    }
    if (results.length < WALK_PAGE) break;
  }
  return floor;
}

/** The channel's on-chain record at `blockNumber`, null when it has none there. */
export async function channelAt(
  client: PublicClient,
  config: Pick<Config, "contract" | "receiverAddress">,
  sender: Address,
  openBlock: number,
  blockNumber: number,
): Promise<OnChainRecord> {
  if (blockNumber < openBlock) return null;
  return readChannelInfo(client, config, sender, openBlock, BigInt(blockNumber));
}

/** Undoes everything after `ancestor`: rewinds each channel with an event there, reopens its
 *  queued close, deletes the events and checkpoints after it, and moves the cursor back to it. */
export async function rewindTo(
  env: Env,
  config: Config,
  client: PublicClient,
  lease: Lease,
  from: Cursor,
  ancestor: Cursor,
  p: { headBlock: number; now: number },
): Promise<RewindReport | null> {
  const db = drizzle(env.DB);
  const removed = gt(chainEvents.blockNumber, ancestor.blockNumber);
  const results = await db
    .select({
      blockHash: chainEvents.blockHash,
      logIndex: chainEvents.logIndex,
      sender: chainEvents.sender,
      openBlock: chainEvents.openBlock,
    })
    .from(chainEvents)
    .where(removed)
    .orderBy(chainEvents.blockNumber, chainEvents.logIndex);
  const byChannel = new Map<string, { sender: Address; openBlock: number; ids: string[] }>();
  for (const r of results) {
    const key = channelId(r.sender as Address, r.openBlock);
    let entry = byChannel.get(key);
    if (!entry) {
      entry = { sender: r.sender as Address, openBlock: r.openBlock, ids: [] };
      byChannel.set(key, entry);
    }
    entry.ids.push(eventId(r.blockHash, r.logIndex));
  }
  for (const ch of byChannel.values()) {
    const onChain = await channelAt(client, config, ch.sender, ch.openBlock, ancestor.blockNumber);
    await channelStub(env, ch.sender, ch.openBlock).rewind(ch.ids, onChain);
  }
  // A queued close of a channel the reorg touched is looked at again (its settlement may be gone).
  const reopen = [...byChannel.keys()].map((key) =>
    db
      .update(disputeQueue)
      .set({ status: "pending", updatedAt: p.now })
      .where(and(eq(disputeQueue.id, key), ne(disputeQueue.status, "pending"))),
  );
  await db.batch([
    db.delete(chainEvents).where(removed),
    db.delete(syncCheckpoints).where(gt(syncCheckpoints.blockNumber, ancestor.blockNumber)),
    ...reopen,
  ]);
  const moved = await advanceCursor(env.DB, lease, ancestor, {
    events: 0,
    headBlock: p.headBlock,
    reorg: true,
  });
  if (!moved) return null;
  return { from, to: ancestor, removedEvents: results.length, channels: byChannel.size };
}
