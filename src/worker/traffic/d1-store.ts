// The traffic counters in D1, for deployments without Workers Analytics Engine (local runs and
// the tests). Never a row per request: each isolate adds its events up (tally.ts) and writes
// them at most once a second as a few multi-row upserts that add to the minute's counts.
import { and, gte, lt, lte, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { runBatch } from "../db/batch.js";
import { trafficMinutes } from "../db/schema.js";
import type { TrafficCount } from "./counts.js";
import { tallyPer } from "./tally.js";

/** How long D1 keeps the minutes. */
const KEEP_MINUTES = 25 * 60;
/** Rows per upsert: 5 columns, 100 bound parameters at most. */
const ROWS_PER_STATEMENT = 20;

const tallyOf = tallyPer<D1Database>();

/** Adds `count` to this isolate's counts; the first one of a second schedules their write. */
export function addToD1(db: D1Database, count: TrafficCount, waitUntil?: (p: Promise<unknown>) => void): void {
  tallyOf(db).add(count, () => flushD1(db), waitUntil);
}

/** Writes this isolate's counts now (adding them to D1's), and drops minutes past a day. */
export async function flushD1(db: D1Database): Promise<void> {
  const rows = tallyOf(db).take();
  if (rows.length === 0) return;
  const d = drizzle(db);
  const statements = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    statements.push(
      d
        .insert(trafficMinutes)
        .values(rows.slice(i, i + ROWS_PER_STATEMENT))
        .onConflictDoUpdate({
          target: [trafficMinutes.minute, trafficMinutes.kind, trafficMinutes.code],
          set: {
            requests: sql`${trafficMinutes.requests} + excluded."requests"`,
            earnings: sql`${trafficMinutes.earnings} + excluded."earnings"`,
          },
        }),
    );
  }
  const oldest = Math.max(...rows.map((r) => r.minute)) - KEEP_MINUTES;
  await runBatch(d, [...statements, d.delete(trafficMinutes).where(lt(trafficMinutes.minute, oldest))]);
}

/** The counts of the minutes from `fromMinute` to `toMinute` (unix minutes, both included). */
export function readD1(db: D1Database, fromMinute: number, toMinute: number): Promise<TrafficCount[]> {
  return drizzle(db)
    .select()
    .from(trafficMinutes)
    .where(and(gte(trafficMinutes.minute, fromMinute), lte(trafficMinutes.minute, toMinute)));
}
