// The traffic counters in Workers Analytics Engine, for production: each isolate adds its events
// up (tally.ts) and writes one data point per minute, kind and code at most once a second, not
// one per request (each data point is billed: at 100,000 requests/s one per request would cost
// about $65,000 a month, docs/scale.md). The per-minute series is read back through Analytics
// Engine's SQL API with the account id and an API token (Account Analytics: Read). A data point
// is filed under the time it is written, so a count may land in the next minute when its second
// straddles the minute's end. Analytics Engine samples at high rates: each row carries
// `_sample_interval`, and the sums below weigh by it.
import type { TrafficCount } from "./counts.js";
import { tallyPer } from "./tally.js";

/** Data points one flush writes at most (an invocation may write 250). */
export const POINTS_PER_FLUSH = 200;

const tallyOf = tallyPer<AnalyticsEngineDataset>();

/** Adds `count` to this isolate's counts; the first one of a second schedules their write. */
export function addToAnalytics(
  dataset: AnalyticsEngineDataset,
  count: TrafficCount,
  waitUntil?: (p: Promise<unknown>) => void,
): void {
  tallyOf(dataset).add(count, async () => flushAnalytics(dataset), waitUntil);
}

/** Writes the counts this isolate holds as data points (index and blob1 the kind, blob2 the
 *  code, double1 the requests, double2 the earnings), at most POINTS_PER_FLUSH (a second holds
 *  a few dozen keys at most); any more go with the next request's flush. */
export function flushAnalytics(dataset: AnalyticsEngineDataset): void {
  for (const count of tallyOf(dataset).take(POINTS_PER_FLUSH)) {
    dataset.writeDataPoint({
      indexes: [count.kind],
      blobs: [count.kind, count.code],
      doubles: [count.requests, count.earnings],
    });
  }
}

/** The SQL that sums a dataset's data points per minute, kind and code over [from, to]. */
export function analyticsSql(dataset: string, fromMinute: number, toMinute: number): string {
  return [
    "SELECT intDiv(toUInt32(timestamp), 60) AS minute, blob1 AS kind, blob2 AS code,",
    "SUM(_sample_interval * double1) AS requests, SUM(_sample_interval * double2) AS earnings",
    `FROM ${dataset}`,
    `WHERE timestamp >= toDateTime(${fromMinute * 60}) AND timestamp < toDateTime(${(toMinute + 1) * 60})`,
    "GROUP BY minute, kind, code ORDER BY minute",
  ].join(" ");
}

/** Reads the per-minute counts from the SQL API; throws on an HTTP or query error. */
export async function readAnalytics(
  a: { accountId: string; apiToken: string; dataset: string },
  fromMinute: number,
  toMinute: number,
): Promise<TrafficCount[]> {
  const res = await fetch(`https://api.cloudflare.com/client/v4/accounts/${a.accountId}/analytics_engine/sql`, {
    method: "POST",
    headers: { Authorization: `Bearer ${a.apiToken}` },
    body: analyticsSql(a.dataset, fromMinute, toMinute),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`Analytics Engine SQL API: HTTP ${res.status}: ${text.slice(0, 200)}`);
  const body = JSON.parse(text) as { data?: Array<Record<string, unknown>> };
  return (body.data ?? []).map((r) => ({
    minute: Number(r.minute),
    kind: r.kind === "paid" ? "paid" : "refused",
    code: String(r.code ?? ""),
    requests: Number(r.requests),
    earnings: Number(r.earnings),
  }));
}
