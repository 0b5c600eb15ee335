// The Analytics Engine store adds an isolate's requests up: a burst of requests becomes one data
// point per minute, kind and code (each billed), never one per request, and a flush stays under
// the 250 data points an invocation may write. The dataset records what it is given (there is
// no local Analytics Engine to read back).
import { describe, expect, it } from "vitest";
import { addToAnalytics, flushAnalytics, POINTS_PER_FLUSH } from "./analytics-store.js";
import { countOf } from "./counts.js";

function recordingDataset() {
  const points: AnalyticsEngineDataPoint[] = [];
  const dataset = { writeDataPoint: (p?: AnalyticsEngineDataPoint) => points.push(p!) } as AnalyticsEngineDataset;
  return { dataset, points };
}

describe("Analytics Engine traffic store", () => {
  it("writes 1,015 requests of one minute as three data points with their sums", () => {
    const { dataset, points } = recordingDataset();
    const at = Date.UTC(2026, 10, 29, 12, 0, 30);
    const later: Array<Promise<unknown>> = [];
    for (let i = 0; i < 1000; i++)
      addToAnalytics(dataset, countOf({ kind: "paid", earnings: 5n }, at), (p) => later.push(p));
    for (let i = 0; i < 10; i++) addToAnalytics(dataset, countOf({ kind: "refused", code: "invalid_amount" }, at));
    for (let i = 0; i < 5; i++) addToAnalytics(dataset, countOf({ kind: "refused", code: "rate_limited" }, at));
    // One flush was scheduled (the first request's waitUntil), none per request.
    expect(later).toHaveLength(1);
    expect(points).toHaveLength(0);
    flushAnalytics(dataset);
    expect(points).toEqual([
      { indexes: ["paid"], blobs: ["paid", ""], doubles: [1000, 5000] },
      { indexes: ["refused"], blobs: ["refused", "invalid_amount"], doubles: [10, 0] },
      { indexes: ["refused"], blobs: ["refused", "rate_limited"], doubles: [5, 0] },
    ]);
    flushAnalytics(dataset);
    expect(points).toHaveLength(3);
  });

  it("writes at most POINTS_PER_FLUSH data points a flush and keeps the rest for the next", () => {
    const { dataset, points } = recordingDataset();
    const minutes = POINTS_PER_FLUSH + 50;
    for (let m = 0; m < minutes; m++) addToAnalytics(dataset, countOf({ kind: "paid", earnings: 1n }, m * 60_000));
    flushAnalytics(dataset);
    expect(points).toHaveLength(POINTS_PER_FLUSH);
    flushAnalytics(dataset);
    expect(points).toHaveLength(minutes);
    expect(points.reduce((n, p) => n + (p.doubles?.[0] ?? 0), 0)).toBe(minutes);
  });
});
