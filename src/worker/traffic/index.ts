// Traffic for the operator: paid requests, what they earned, and refusals by their code, per
// minute. Counting a request is fire-and-forget and costs no write of its own: the counts are
// added up per isolate and written at most once a second, in production as Workers Analytics
// Engine data points (ANALYTICS, read back through its SQL API when ANALYTICS_ACCOUNT_ID and
// ANALYTICS_API_TOKEN are set), anywhere else to D1. `trafficSeries` reads either back as one
// row per minute, for charts (a day at most).
import type { Context } from "hono";
import type { ErrorCode } from "../../protocol/errors.js";
import { getConfig } from "../config.js";
import { waitUntilOf } from "../http/wait-until.js";
import type { Env } from "../env.js";
import { addToAnalytics, flushAnalytics, readAnalytics } from "./analytics-store.js";
import { countOf, type TrafficCount, type TrafficEvent } from "./counts.js";
import { addToD1, flushD1, readD1 } from "./d1-store.js";
import { errorText, log, LogEvents } from "../log.js";

export type { TrafficEvent } from "./counts.js";

/** One minute of traffic: its start (ms), the paid requests and their earnings (token base units,
 *  a double), and the refused requests by code. */
export type TrafficMinute = {
  at: number;
  paid: number;
  earnings: number;
  refused: Partial<Record<ErrorCode, number>>;
};

/** Where the counts live: Analytics Engine when the Worker can read it back, else D1. */
function usesAnalytics(env: Env): env is Env & { ANALYTICS: AnalyticsEngineDataset } {
  return env.ANALYTICS !== undefined && getConfig(env).analytics !== undefined;
}

/**
 * Counts one request: a paid one with its earnings, or a refusal with its code. Never throws and
 * never waits; `waitUntil` (the request's) keeps the D1 store's deferred write alive.
 *
 * @example
 * ```ts
 * recordTraffic(c.env, { kind: "paid", earnings: 5n }, (p) => c.executionCtx.waitUntil(p));
 * ```
 */
export function recordTraffic(env: Env, event: TrafficEvent, waitUntil?: (p: Promise<unknown>) => void): void {
  try {
    const count = countOf(event, Date.now());
    if (usesAnalytics(env)) addToAnalytics(env.ANALYTICS, count, waitUntil);
    else addToD1(env.DB, count, waitUntil);
  } catch (err) {
    log.error(LogEvents.trafficCountFailed, { step: "count", error: errorText(err) });
  }
}

/** `recordTraffic` from a request's Hono context (its env and waitUntil); nothing without a D1
 *  binding (an app run without the Worker's env). */
export function countRequest(c: Context, event: TrafficEvent): void {
  const env = c.env as Env | undefined;
  if (!env?.DB) return;
  recordTraffic(env, event, waitUntilOf(c));
}

/** Writes the counts this isolate holds to its store now. */
export async function flushTraffic(env: Env): Promise<void> {
  if (usesAnalytics(env)) flushAnalytics(env.ANALYTICS);
  else await flushD1(env.DB);
}

/** The longest series `trafficSeries` returns. */
export const MAX_SERIES_MINUTES = 24 * 60;

/**
 * The traffic of every minute from `from` to `to` (ms; default the last 24 hours, at most 24
 * hours), oldest first, minutes without traffic included as zeros.
 */
export async function trafficSeries(env: Env, range: { from?: number; to?: number } = {}): Promise<TrafficMinute[]> {
  const toMinute = Math.floor((range.to ?? Date.now()) / 60_000);
  const fromMinute = Math.max(
    toMinute - MAX_SERIES_MINUTES + 1,
    Math.floor((range.from ?? (toMinute - MAX_SERIES_MINUTES + 1) * 60_000) / 60_000),
  );
  const analytics = usesAnalytics(env) ? getConfig(env).analytics : undefined;
  const counts = analytics
    ? await readAnalytics(analytics, fromMinute, toMinute)
    : await readD1(env.DB, fromMinute, toMinute);
  return series(counts, fromMinute, toMinute);
}

function series(counts: TrafficCount[], fromMinute: number, toMinute: number): TrafficMinute[] {
  const out: TrafficMinute[] = [];
  for (let m = fromMinute; m <= toMinute; m++) out.push({ at: m * 60_000, paid: 0, earnings: 0, refused: {} });
  for (const c of counts) {
    const row = out[c.minute - fromMinute];
    if (!row) continue;
    if (c.kind === "paid") {
      row.paid += c.requests;
      row.earnings += c.earnings;
    } else {
      const code = c.code as ErrorCode;
      row.refused[code] = (row.refused[code] ?? 0) + c.requests;
    }
  }
  return out;
}
