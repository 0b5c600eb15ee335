// The token bucket's arithmetic: buffer, continuous refill, cost, Retry-After, the freeze of a
// client that keeps sending too early, and the status the RateLimit fields report.
import { describe, expect, it } from "vitest";
import {
  admit,
  BUFFER_SECONDS,
  EARLY_LIMIT,
  FREEZE_BASE_MS,
  FREEZE_JITTER_MS,
  newBucket,
  peek,
  refill,
  retryAfterSeconds,
  type Bucket,
} from "./bucket.js";

const T0 = 1_700_000_000_000;

/** Takes `n` requests of `cost` at time `now`, returning the bucket and how many were served. */
function flood(b: Bucket | null, n: number, cost: number, capacity: number, now: number) {
  let served = 0;
  let bucket = b;
  for (let i = 0; i < n; i++) {
    const a = admit(bucket, { capacity, cost }, now, 0.5);
    bucket = a.bucket;
    if (a.ok) served++;
  }
  return { bucket: bucket!, served };
}

describe("token bucket", () => {
  it("starts full with six seconds of capacity and serves exactly that much at once", () => {
    expect(newBucket(5, T0).level).toBe(5 * BUFFER_SECONDS);
    const { served, bucket } = flood(null, 100, 1, 5, T0);
    expect(served).toBe(30);
    expect(bucket.served).toBe(30);
    expect(bucket.refused).toBe(70);
    expect(bucket.level).toBe(0);
  });

  it("refills continuously at capacity per second, never above the buffer", () => {
    const empty = flood(null, 30, 1, 5, T0).bucket;
    expect(refill(empty, 5, T0 + 200).level).toBeCloseTo(1);
    expect(refill(empty, 5, T0 + 3000).level).toBeCloseTo(15);
    expect(refill(empty, 5, T0 + 60_000).level).toBe(30);
    // A clock that goes back refills nothing.
    expect(refill(empty, 5, T0 - 5000).level).toBe(0);
  });

  it("charges a route's cost units, and treats a cost above the buffer as the whole buffer", () => {
    const a = admit(null, { capacity: 2, cost: 5 }, T0, 0);
    expect(a.ok && a.bucket.level).toBe(7);
    const huge = admit(null, { capacity: 2, cost: 1000 }, T0, 0);
    expect(huge.ok).toBe(true);
    expect(huge.bucket.level).toBe(0);
  });

  it("a refusal costs nothing and says when the buffer will hold the cost, rounded up", () => {
    const empty = flood(null, 30, 1, 5, T0).bucket;
    const r = admit(refill(empty, 5, T0 + 100), { capacity: 5, cost: 3 }, T0 + 100, 0.5);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.bucket.level).toBeCloseTo(0.5);
    // 2.5 units missing at 5 units/s: 500 ms, which Retry-After rounds up to 1 s.
    expect(r.retryAfterMs).toBe(500);
    expect(retryAfterSeconds(r.retryAfterMs)).toBe(1);
    const slow = admit(newBucket(1, T0), { capacity: 1, cost: 6 }, T0, 0);
    const again = admit(slow.bucket, { capacity: 1, cost: 6 }, T0 + 1, 0);
    expect(again.ok).toBe(false);
    if (!again.ok) expect(retryAfterSeconds(again.retryAfterMs)).toBe(6);
    // After waiting Retry-After the request is served.
    expect(admit(again.bucket, { capacity: 5, cost: 3 }, T0 + 100 + 1000, 0.5).ok).toBe(true);
  });

  it("freezes a client that keeps sending before its Retry-After for 0.7 to 1.3 s, then serves it", () => {
    for (const random of [0, 0.5, 0.999]) {
      let b = flood(null, 30, 1, 5, T0).bucket;
      let a = admit(b, { capacity: 5, cost: 1 }, T0, random);
      for (let i = 0; i < EARLY_LIMIT; i++) a = admit(a.bucket, { capacity: 5, cost: 1 }, T0 + 10 + i, random);
      expect(a.ok).toBe(false);
      if (a.ok) return;
      expect(a.frozen).toBe(true);
      const freeze = a.bucket.frozenUntil - (T0 + 10 + EARLY_LIMIT - 1);
      expect(freeze).toBeGreaterThanOrEqual(FREEZE_BASE_MS);
      expect(freeze).toBeLessThan(FREEZE_BASE_MS + FREEZE_JITTER_MS);
      expect(a.retryAfterMs).toBe(freeze);
      // Frozen: refused even though the buffer has refilled enough for one request.
      b = a.bucket;
      const during = admit(b, { capacity: 5, cost: 1 }, b.frozenUntil - 1, random);
      expect(during.ok).toBe(false);
      if (!during.ok) expect(during.retryAfterMs).toBe(1);
      // The freeze ends by itself; the client is not banned.
      const after = admit(during.bucket, { capacity: 5, cost: 1 }, b.frozenUntil, random);
      expect(after.ok).toBe(true);
      expect(after.bucket.early).toBe(0);
      expect(after.bucket.frozenUntil).toBe(0);
    }
  });

  it("does not freeze a client that waits for its Retry-After", () => {
    let b = flood(null, 30, 1, 5, T0).bucket;
    let now = T0;
    for (let i = 0; i < 10; i++) {
      const r = admit(b, { capacity: 5, cost: 6 }, now, 0.5);
      if (!r.ok) {
        expect(r.frozen).toBe(false);
        now += retryAfterSeconds(r.retryAfterMs) * 1000;
      } else now += 1;
      b = r.bucket;
    }
    expect(b.served).toBeGreaterThan(30);
  });

  it("reports remaining units and the time until full, and peeks without taking", () => {
    const a = admit(null, { capacity: 5, cost: 7 }, T0, 0);
    expect(a.status).toEqual({ capacity: 5, buffer: 30, remaining: 23, fullInMs: 1400 });
    expect(peek(a.bucket, 5, T0 + 1400)).toEqual({ capacity: 5, buffer: 30, remaining: 30, fullInMs: 0 });
    expect(peek(a.bucket, 5, T0 + 1400)).toEqual(peek(a.bucket, 5, T0 + 1400));
  });

  it("refuses a zero capacity as a programming error", () => {
    expect(() => admit(null, { capacity: 0, cost: 1 }, T0, 0)).toThrow(/capacity/);
  });
});
