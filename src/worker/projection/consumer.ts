// The projection queue's consumer: a batch of channel messages (at most one per channel per
// projection interval, from each channel's object) becomes ONE D1 batch: the newest row of each
// channel in multi-row, version-guarded upserts, plus the consumer's per-minute record. A batch
// that fails to write is retried by the queue as a whole; a repeated message changes nothing
// (the version guard), so redelivery is safe. A message that is not a projection is dropped
// with a log line, never retried.
import { drizzle } from "drizzle-orm/d1";
import { runBatch } from "../db/batch.js";
import type { Env } from "../env.js";
import { readProjectionMessage, type ProjectionMessage } from "./message.js";
import { statsStatements } from "./stats.js";
import { newestRows, upsertStatements } from "./write.js";
import { log, LogEvents } from "../log.js";

/** What one queue batch did to D1. */
export type ProjectionBatchResult = { messages: number; rows: number; statements: number; dropped: number };

/** The queue handler of the projection queue (`queue()` of the Worker routes it here). */
export async function consumeProjection(
  batch: MessageBatch<unknown>,
  env: Pick<Env, "DB">,
): Promise<ProjectionBatchResult> {
  const read: ProjectionMessage[] = [];
  let dropped = 0;
  for (const m of batch.messages) {
    const message = readProjectionMessage(m.body);
    if (message) read.push(message);
    else {
      dropped++;
      log.warn(LogEvents.projectionMessageDropped, { messageId: m.id });
      m.ack();
    }
  }
  if (read.length === 0) return { messages: 0, rows: 0, statements: 0, dropped };
  const db = drizzle(env.DB);
  const rows = newestRows(read.map((m) => m.row));
  const upserts = upsertStatements(db, rows);
  const now = Date.now();
  const stats = statsStatements(db, now, {
    messages: read.length,
    rows: rows.length,
    statements: upserts.length,
    lagsMs: rows.map((r) => Math.max(0, now - r.updatedAt)),
  });
  // One D1 batch (one round trip, one transaction) per queue batch; if it throws, the queue
  // delivers the unacknowledged messages again.
  await runBatch(db, [...upserts, ...stats]);
  batch.ackAll();
  return { messages: read.length, rows: rows.length, statements: upserts.length, dropped };
}
