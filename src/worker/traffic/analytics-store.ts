// The traffic counters in Workers Analytics Engine, for production: one data point per event
// (writeDataPoint does not wait and costs the request nothing to speak of; at most 250 a Worker
// invocation, and a paid request writes one), and the per-minute series read back through
// Analytics Engine's SQL API with the account id and an API token (Account Analytics: Read).
// Analytics Engine samples at high rates: each row carries `_sample_interval`, and the sums
// below weigh by it.
import type { TrafficCount } from "./counts.js";

/** Writes one count as a data point: index and blob1 the kind, blob2 the code, double1 the
 *  requests, double2 the earnings. */
export function writeAnalytics(dataset: AnalyticsEngineDataset, count: TrafficCount): void {
  dataset.writeDataPoint({
    indexes: [count.kind],
    blobs: [count.kind, count.code],
    doubles: [count.requests, count.earnings],
  });
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
