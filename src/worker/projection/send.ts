// The producer side of the projection: a channel object hands its row to the projection queue
// (PROJECTION), whose consumer writes rows in batches (consumer.ts). A deployment without the
// queue binding (one configured before it existed) writes the one row straight to D1, as
// every version before did.
import { drizzle } from "drizzle-orm/d1";
import type { ChannelState } from "../channel/state.js";
import { runBatch } from "../db/batch.js";
import type { Env } from "../env.js";
import { projectionRow, type ProjectionMessage } from "./message.js";
import { upsertStatements } from "./write.js";

/** Sends `s` to the D1 projection: through the queue, or straight to D1 without one. */
export async function sendProjection(env: Pick<Env, "DB" | "PROJECTION">, s: ChannelState): Promise<void> {
  const message: ProjectionMessage = { row: projectionRow(s), sentAt: Date.now() };
  if (env.PROJECTION) {
    await env.PROJECTION.send(message, { contentType: "json" });
    return;
  }
  const db = drizzle(env.DB);
  await runBatch(db, upsertStatements(db, [message.row]));
}
