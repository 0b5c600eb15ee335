// The projection queues' consumer: a batch of channel messages (at most one per channel per
// projection interval, from each channel's object) becomes ONE D1 batch per shard it touches
// (one, unless PROJECTION_SHARDS changed under queued messages): the newest row of each channel
// in multi-row, version-guarded upserts, plus that shard's per-minute record. Each message is
// routed by its channel (shards.ts), so any projection queue may carry it. A shard's batch that
// fails to write is retried by the queue (its messages only); a repeated message changes nothing
// (the version guard), so redelivery is safe. A message that is not a projection is dropped with
// a log line, never retried.
import { drizzle } from "drizzle-orm/d1";
import { runBatch } from "../db/batch.js";
import type { Env } from "../env.js";
import { readProjectionMessage, type ProjectionMessage } from "./message.js";
import { projectionShards, shardOf, type Shard } from "./shards.js";
import { statsStatements } from "./stats.js";
import { newestRows, upsertStatements } from "./write.js";
import { log, LogEvents } from "../log.js";

/** What one queue batch did to D1 (summed over the shards it wrote). */
export type ProjectionBatchResult = { messages: number; rows: number; statements: number; dropped: number };

type Routed = { message: ProjectionMessage; queued: Message<unknown> };

/** The queue handler of the projection queues (`queue()` of the Worker routes them here). */
export async function consumeProjection(batch: MessageBatch<unknown>, env: Env): Promise<ProjectionBatchResult> {
  const shards = projectionShards(env);
  const byShard = new Map<number, Routed[]>();
  let dropped = 0;
  for (const m of batch.messages) {
    const message = readProjectionMessage(m.body);
    if (!message) {
      dropped++;
      log.warn(LogEvents.projectionMessageDropped, { messageId: m.id });
      m.ack();
      continue;
    }
    const shard = shardOf(message.row.id, shards.length);
    const routed = byShard.get(shard) ?? [];
    routed.push({ message, queued: m });
    byShard.set(shard, routed);
  }
  if (byShard.size === 0) return { messages: 0, rows: 0, statements: 0, dropped };
  const groups = [...byShard].map(([shard, routed]) => ({ shard: shards[shard]!, routed }));
  const written = await Promise.allSettled(groups.map((g) => writeShard(g.shard, g.routed)));
  const result = { messages: 0, rows: 0, statements: 0, dropped };
  written.forEach((w, i) => {
    if (w.status === "rejected") return;
    result.messages += w.value.messages;
    result.rows += w.value.rows;
    result.statements += w.value.statements;
    // Several shards: acknowledge each written one's messages, so a failed shard retries alone.
    if (groups.length > 1) for (const r of groups[i]!.routed) r.queued.ack();
  });
  const failed = written.find((w) => w.status === "rejected");
  // If a write threw, the queue delivers the unacknowledged messages again.
  if (failed) throw failed.reason;
  batch.ackAll();
  return result;
}

/** One shard's messages as ONE D1 batch (one round trip, one transaction) on its database. */
async function writeShard(shard: Shard, routed: Routed[]) {
  const db = drizzle(shard.db);
  const rows = newestRows(routed.map((r) => r.message.row));
  const upserts = upsertStatements(db, rows);
  const now = Date.now();
  const stats = statsStatements(db, now, {
    messages: routed.length,
    rows: rows.length,
    statements: upserts.length,
    lagsMs: rows.map((r) => Math.max(0, now - r.updatedAt)),
  });
  await runBatch(db, [...upserts, ...stats]);
  return { messages: routed.length, rows: rows.length, statements: upserts.length };
}
