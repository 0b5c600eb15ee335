// The producer side of the projection: a channel object hands its row to its shard's projection
// queue (PROJECTION, or PROJECTION_<i> when sharded: shards.ts), whose consumer writes rows in
// batches (consumer.ts). A single-shard deployment without the queue binding (one configured
// before it existed) writes the one row straight to D1, as every version before did.
import { drizzle } from "drizzle-orm/d1";
import type { ChannelState } from "../channel/state.js";
import { runBatch } from "../db/batch.js";
import type { Env } from "../env.js";
import { projectionRow, type ProjectionMessage } from "./message.js";
import { shardFor } from "./shards.js";
import { upsertStatements } from "./write.js";

/** Sends `s` to the D1 projection: through its shard's queue, or straight to D1 without one. */
export async function sendProjection(env: Env, s: ChannelState): Promise<void> {
  const message: ProjectionMessage = { row: projectionRow(s), sentAt: Date.now() };
  const shard = shardFor(env, message.row.id);
  if (shard.queue) {
    await shard.queue.send(message, { contentType: "json" });
    return;
  }
  const db = drizzle(shard.db);
  await runBatch(db, upsertStatements(db, [message.row]));
}
