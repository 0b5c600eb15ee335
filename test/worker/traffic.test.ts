// Traffic counters (src/worker/traffic) on the D1 store, as local runs and the tests use them: a
// paid request counts with its earnings and a refusal by its code, written per minute from the
// isolate's buffer (never a row per request), read back as one entry per minute.
import { env } from "cloudflare:test";
import { drizzle } from "drizzle-orm/d1";
import { describe, expect, it, vi } from "vitest";
import { trafficMinutes } from "../../src/worker/db/schema.js";
import { flushTraffic, trafficSeries } from "../../src/worker/traffic/index.js";
import { adminRequest, freshAccount, openChannel, pay, request } from "./helpers.js";

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe("traffic counters", () => {
  it("counts paid requests, their earnings and refusals by code, a few rows per minute", async () => {
    const since = Date.now();
    const a = await freshAccount();
    const { openBlock } = await openChannel(a, 1000n);
    for (let i = 1; i <= 6; i++) expect((await pay(a, openBlock, 5n * BigInt(i))).status).toBe(200);
    expect((await pay(a, openBlock, 5n)).status).toBe(402); // invalid_amount: not above B
    expect((await pay(a, openBlock, 5000n)).status).toBe(402); // insufficient_deposit
    expect((await request("/echofix/x", { headers: { "RDN-Session": "nope" } })).status).toBe(402); // no flag
    await vi.waitFor(
      async () => {
        await flushTraffic(env as never);
        const minutes = await trafficSeries(env as never, { from: since });
        expect(sum(minutes.map((m) => m.paid))).toBe(6);
        expect(sum(minutes.map((m) => m.earnings))).toBe(30);
        expect(sum(minutes.map((m) => m.refused.invalid_amount ?? 0))).toBe(1);
        expect(sum(minutes.map((m) => m.refused.insufficient_deposit ?? 0))).toBe(1);
      },
      { timeout: 15_000, interval: 100 },
    );
    // Never a row per request: one row per minute, kind and code.
    const rows = await drizzle(env.DB).select().from(trafficMinutes);
    expect(rows.length).toBeLessThanOrEqual(3 * 2);
  });

  it("answers a day of minutes, zeros included, on the admin API", async () => {
    const res = await adminRequest("/traffic");
    expect(res.status).toBe(200);
    const { minutes } = (await res.json()) as { minutes: { at: number; paid: number }[] };
    expect(minutes).toHaveLength(24 * 60);
    expect(minutes[1]!.at - minutes[0]!.at).toBe(60_000);
    const bad = await adminRequest("/traffic?from=yesterday");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("bad_request");
  });
});
