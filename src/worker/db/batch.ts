// One D1 batch (one round trip, one transaction) of any number of drizzle statements, typed the
// way drizzle's `batch` wants a non-empty list.
import type { BatchItem } from "drizzle-orm/batch";
import type { DrizzleD1Database } from "drizzle-orm/d1";

/** Runs `statements` as one D1 batch; resolves to each statement's D1 result (none when empty). */
export async function runBatch(db: DrizzleD1Database, statements: BatchItem<"sqlite">[]): Promise<unknown[]> {
  const [first, ...rest] = statements;
  return first ? db.batch([first, ...rest]) : [];
}
