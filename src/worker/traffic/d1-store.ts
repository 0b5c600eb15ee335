// The traffic counters in D1, for deployments without Workers Analytics Engine (local runs and
// the tests). Never a row per request: each isolate adds its events up in memory by minute and
// kind, and writes them at most once a second (in the request's waitUntil) as a few multi-row
// upserts that add to the minute's counts. Counts still in memory when an isolate is evicted
// are lost: these are a chart's figures, not an account.
import { and, gte, lt, lte, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { runBatch } from "../db/batch.js";
import { trafficMinutes } from "../db/schema.js";
import type { TrafficCount } from "./counts.js";
import { errorText, log, LogEvents } from "../log.js";

/** How long an isolate holds counts before writing them. */
export const FLUSH_EVERY_MS = 1000;
/** How long D1 keeps the minutes. */
const KEEP_MINUTES = 25 * 60;
/** Rows per upsert: 5 columns, 100 bound parameters at most. */
const ROWS_PER_STATEMENT = 20;

type Pending = { counts: Map<string, TrafficCount>; timer: boolean };
const pendingOf = new WeakMap<D1Database, Pending>();

function pending(db: D1Database): Pending {
  let p = pendingOf.get(db);
  if (!p) {
    p = { counts: new Map(), timer: false };
    pendingOf.set(db, p);
  }
  return p;
}

/** Adds `count` to this isolate's counts; the first one of a second schedules their write. */
export function addToD1(db: D1Database, count: TrafficCount, waitUntil?: (p: Promise<unknown>) => void): void {
  const p = pending(db);
  const key = `${count.minute}|${count.kind}|${count.code}`;
  const held = p.counts.get(key);
  if (held) {
    held.requests += count.requests;
    held.earnings += count.earnings;
  } else p.counts.set(key, { ...count });
  if (p.timer) return;
  p.timer = true;
  const write = new Promise((r) => setTimeout(r, FLUSH_EVERY_MS)).then(() => flushD1(db));
  if (waitUntil) waitUntil(write);
  else write.catch((err) => log.error(LogEvents.trafficCountFailed, { step: "write", error: errorText(err) }));
}

/** Writes this isolate's counts now (adding them to D1's), and drops minutes past a day. */
export async function flushD1(db: D1Database): Promise<void> {
  const p = pending(db);
  p.timer = false;
  const rows = [...p.counts.values()];
  p.counts.clear();
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
