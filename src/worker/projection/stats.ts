// The projection consumer's per-minute record (D1 `projection_stats`): written in the same D1
// batch as the rows it describes (so each projection shard keeps its own), read back by the admin
// API merged over the shards. Lag is how old a row's newest change was when D1 took it: the
// object's decision time to the consumer's write.
import { asc, gte, lt, sql } from "drizzle-orm";
import type { DrizzleD1Database } from "drizzle-orm/d1";
import { projectionStats } from "../db/schema.js";
import type { Env } from "../env.js";
import { eachShard } from "./shards.js";

/** The histogram's upper bounds (ms), and the column each one counts in. */
export const LAG_BUCKETS = [
  [250, "lagLe250"],
  [500, "lagLe500"],
  [1000, "lagLe1000"],
  [2000, "lagLe2000"],
  [5000, "lagLe5000"],
  [10000, "lagLe10000"],
  [30000, "lagLe30000"],
  [Number.POSITIVE_INFINITY, "lagOver"],
] as const;
type BucketKey = (typeof LAG_BUCKETS)[number][1];

/** How long the consumer keeps its minutes. */
const KEEP_MINUTES = 24 * 60;

/** The statements that add one batch's figures to its minute, and drop minutes past a day. */
export function statsStatements(
  db: DrizzleD1Database,
  at: number,
  batch: { messages: number; rows: number; statements: number; lagsMs: number[] },
) {
  const minute = Math.floor(at / 60_000);
  const counts = Object.fromEntries(LAG_BUCKETS.map(([, key]) => [key, 0])) as Record<BucketKey, number>;
  for (const lag of batch.lagsMs) counts[LAG_BUCKETS.find(([bound]) => lag <= bound)![1]]++;
  const row = {
    minute,
    batches: 1,
    messages: batch.messages,
    rows: batch.rows,
    statements: batch.statements,
    lagSumMs: batch.lagsMs.reduce((a, b) => a + b, 0),
    lagMaxMs: Math.max(0, ...batch.lagsMs),
    ...counts,
  };
  const add = (column: keyof typeof row) =>
    sql.raw(`"${projectionStats[column].name}" + excluded."${projectionStats[column].name}"`);
  const summed = ["batches", "messages", "rows", "statements", "lagSumMs", ...LAG_BUCKETS.map(([, k]) => k)] as const;
  return [
    db
      .insert(projectionStats)
      .values(row)
      .onConflictDoUpdate({
        target: projectionStats.minute,
        set: {
          ...Object.fromEntries(summed.map((k) => [k, add(k)])),
          lagMaxMs: sql`max(${projectionStats.lagMaxMs}, excluded."lag_max_ms")`,
        },
      }),
    db.delete(projectionStats).where(lt(projectionStats.minute, minute - KEEP_MINUTES)),
  ];
}

type Minute = typeof projectionStats.$inferSelect;

/** The minutes of several shards as one consumer's: counts added, the greatest lag kept. */
function mergeMinutes(shards: Minute[][]): Minute[] {
  const byMinute = new Map<number, Minute>();
  for (const m of shards.flat()) {
    const held = byMinute.get(m.minute);
    if (!held) {
      byMinute.set(m.minute, { ...m });
      continue;
    }
    for (const key of Object.keys(m) as (keyof Minute)[]) {
      if (key === "lagMaxMs") held.lagMaxMs = Math.max(held.lagMaxMs, m.lagMaxMs);
      else if (key !== "minute") held[key] += m[key];
    }
  }
  return [...byMinute.values()].sort((a, b) => a.minute - b.minute);
}

/** The consumer's minutes since `sinceMs` over every projection shard, and the lag percentiles
 *  over them (each percentile is the upper bound of the histogram bucket it falls in, so "≤ that
 *  many ms"). */
export async function readProjectionStats(env: Env, sinceMs: number) {
  const minutes = mergeMinutes(
    await eachShard(env, (db) =>
      db
        .select()
        .from(projectionStats)
        .where(gte(projectionStats.minute, Math.floor(sinceMs / 60_000)))
        .orderBy(asc(projectionStats.minute)),
    ),
  );
  const total = (k: keyof (typeof minutes)[number]) => minutes.reduce((n, m) => n + (m[k] as number), 0);
  const rows = total("rows");
  const percentile = (p: number): number | null => {
    if (rows === 0) return null;
    let seen = 0;
    for (const [bound, key] of LAG_BUCKETS) {
      seen += total(key);
      if (seen >= (p / 100) * rows) return Number.isFinite(bound) ? bound : Math.max(...minutes.map((m) => m.lagMaxMs));
    }
    return null;
  };
  return {
    minutes,
    totals: {
      batches: total("batches"),
      messages: total("messages"),
      rows,
      statements: total("statements"),
      lagMeanMs: rows ? total("lagSumMs") / rows : null,
      lagMaxMs: Math.max(0, ...minutes.map((m) => m.lagMaxMs)),
      lagP50AtMostMs: percentile(50),
      lagP99AtMostMs: percentile(99),
    },
  };
}
