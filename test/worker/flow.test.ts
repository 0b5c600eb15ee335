// Flow control for clients without a channel, in workerd: the free bucket per IP (FREE_CAPACITY
// is 5 here, a buffer of 30), 429 with Retry-After and the RateLimit fields, recovery, the
// freeze, concurrency on one bucket, the trial and its durable first-seen time, and the
// pricing announcement.
import { abortAllDurableObjects, env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { flowStubForKey } from "../../src/worker/flow/stub.js";
import { freshAccount, openChannel, pay, request } from "./helpers.js";

const FREE_BUFFER = 30;
const FREE_CAPACITY = 5;
let nextIp = 1;
/** A client address of its own (TEST-NET-3), so every test has fresh buckets and trials. */
const newClient = () => `203.0.113.${nextIp++}`;
const from = (ip: string, path: string, headers: Record<string, string> = {}) =>
  request(path, { headers: { "CF-Connecting-IP": ip, ...headers } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function flood(ip: string, n: number, path = "/free/x") {
  const started = Date.now();
  const responses = await Promise.all(Array.from({ length: n }, () => from(ip, path)));
  const elapsedMs = Date.now() - started;
  return {
    responses,
    elapsedMs,
    served: responses.filter((r) => r.status === 200),
    limited: responses.filter((r) => r.status === 429),
  };
}

describe("the free allowance", () => {
  it("serves a free route with the RateLimit fields, counting down the buffer", async () => {
    const ip = newClient();
    const first = await from(ip, "/free/a");
    expect(first.status).toBe(200);
    expect(first.headers.get("RateLimit-Policy")).toBe(`"free";q=${FREE_BUFFER};w=6`);
    expect(first.headers.get("RateLimit")).toMatch(/^"free";r=29;t=1$/);
    expect(first.headers.get("RDN-Price")).toBe("0");
    const second = await from(ip, "/free/b");
    expect(second.headers.get("RateLimit")).toMatch(/^"free";r=(28|29);t=\d+$/);
  });

  it("meets a flood with 429, Retry-After and the RateLimit fields, and serves it again after waiting", async () => {
    const ip = newClient();
    const { served, limited, elapsedMs, responses } = await flood(ip, 120);
    expect(served.length).toBeGreaterThanOrEqual(FREE_BUFFER);
    // One bucket, many concurrent requests: never more than the buffer plus what refilled.
    expect(served.length).toBeLessThanOrEqual(FREE_BUFFER + Math.ceil((FREE_CAPACITY * elapsedMs) / 1000));
    expect(limited.length + served.length).toBe(responses.length);
    expect(limited.length).toBeGreaterThan(0);
    let wait = 0;
    for (const r of limited) {
      const retryAfter = r.headers.get("Retry-After");
      expect(retryAfter).toMatch(/^[1-9][0-9]*$/);
      wait = Math.max(wait, Number(retryAfter));
      expect(r.headers.get("RateLimit-Policy")).toBe(`"free";q=${FREE_BUFFER};w=6`);
      expect(r.headers.get("RateLimit")).toMatch(/^"free";r=0;t=\d+$/);
    }
    // A flood that kept coming before its Retry-After is frozen for a short while, not banned.
    expect(wait).toBeLessThanOrEqual(2);
    const body = (await limited[0]!.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("rate_limited");
    // Another client is not affected.
    expect((await from(newClient(), "/free/x")).status).toBe(200);
    await sleep(wait * 1000);
    const again = await from(ip, "/free/x");
    expect(again.status).toBe(200);
    expect(await again.text()).toBe("x");
  });

  it("counts a refusal but charges nothing for it", async () => {
    const ip = newClient();
    await flood(ip, 60);
    const info = await flowStubForKey(env, ip).info();
    expect(info.bucket!.served + info.bucket!.refused).toBe(60);
    expect(info.bucket!.refused).toBeGreaterThan(0);
    expect(info.bucket!.level).toBeGreaterThanOrEqual(0);
  });

  it("keys clients by CF-Connecting-IP, then X-Forwarded-For, and an IPv6 client by its /64", async () => {
    const { served } = await flood("2001:db8:77:1::1", 40);
    expect(served.length).toBeLessThan(40);
    // Another address in the same /64 shares the exhausted bucket; another /64 does not.
    expect((await from("2001:db8:77:1:ffff::9", "/free/x")).status).toBe(429);
    expect((await from("2001:db8:77:2::1", "/free/x")).status).toBe(200);
    const xff = await request("/free/x", { headers: { "X-Forwarded-For": "198.51.100.200, 10.0.0.1" } });
    expect(xff.status).toBe(200);
    expect((await flowStubForKey(env, "198.51.100.200").info()).firstSeen).not.toBeNull();
  });

  it("limits a priced route's unpaid requests nowhere but names the paid allowance", async () => {
    const res = await from(newClient(), "/echofix/x");
    expect(res.status).toBe(402);
    expect(res.headers.get("RateLimit-Policy")).toBe('"paid";q=120;w=6');
  });
});

describe("the trial", () => {
  it("is free from the client's first request, reports its time left, then the route is priced", async () => {
    const ip = newClient();
    const first = await from(ip, "/trial/a");
    expect(first.status).toBe(200);
    expect(await first.text()).toBe("a");
    expect(first.headers.get("RDN-Trial-Remaining")).toBe("180");
    expect(first.headers.get("RDN-Price")).toBe("5");
    expect(first.headers.get("RateLimit")).toMatch(/^"free";r=29;/);
    expect(first.headers.get("RDN-Cost")).toBeNull();

    // The first-seen time is durable: it survives the object leaving memory, and only time
    // ends the trial. Move it back by 179.5 s, then by the rest.
    const stub = flowStubForKey(env, ip);
    const firstSeen = (await stub.info()).firstSeen!;
    await abortAllDurableObjects();
    expect((await flowStubForKey(env, ip).info()).firstSeen).toBe(firstSeen);
    await runInDurableObject(flowStubForKey(env, ip), (_instance, state) => {
      state.storage.sql.exec("UPDATE flow_client SET first_seen = first_seen - 179500");
    });
    const last = await from(ip, "/trial/b");
    expect(last.status).toBe(200);
    expect(last.headers.get("RDN-Trial-Remaining")).toBe("1");
    await runInDurableObject(flowStubForKey(env, ip), (_instance, state) => {
      state.storage.sql.exec("UPDATE flow_client SET first_seen = first_seen - 1000");
    });
    const over = await from(ip, "/trial/c");
    expect(over.status).toBe(402);
    expect(over.headers.get("RDN-Trial-Remaining")).toBe("0");
    expect(((await over.json()) as { error: { code: string } }).error.code).toBe("payment_required");
    // Waiting does not renew it, and the priced route is then served for its price.
    expect((await from(ip, "/trial/d")).status).toBe(402);
    const a = await freshAccount();
    const { openBlock } = await openChannel(a, 100n);
    const paid = await pay(a, openBlock, 5n, "/trial/e", { "CF-Connecting-IP": ip });
    expect(paid.status).toBe(200);
    expect(paid.headers.get("RDN-Cost")).toBe("5");
    expect(paid.headers.get("RDN-Trial-Remaining")).toBe("0");
  });

  it("starts with a client's first request of any kind, and is separate per client", async () => {
    const ip = newClient();
    await from(ip, "/free/x");
    await runInDurableObject(flowStubForKey(env, ip), (_instance, state) => {
      state.storage.sql.exec("UPDATE flow_client SET first_seen = first_seen - 200000");
    });
    expect((await from(ip, "/trial/a")).status).toBe(402);
    expect((await from(newClient(), "/trial/a")).status).toBe(200);
  });

  it("is flow-controlled like a free route while it lasts", async () => {
    const ip = newClient();
    const { served, limited } = await flood(ip, 50, "/trial/x");
    expect(served.length).toBeLessThan(50);
    expect(limited[0]!.headers.get("Retry-After")).toMatch(/^[1-9]/);
    expect(limited[0]!.headers.get("RDN-Trial-Remaining")).toMatch(/^1[0-9]{2}$/);
  });
});

describe("announcements", () => {
  it("GET /api/1/pricing lists every route's mode, price or maximum, cost units, trial and the allowances", async () => {
    const body = (await (await request("/api/1/pricing")).json()) as {
      allowances: Record<string, { capacity: number; buffer: number }>;
      trialSeconds: number;
      flowControl: { enabled: boolean; bufferSeconds: number };
      routes: Record<string, unknown>[];
    };
    expect(body.allowances).toEqual({ free: { capacity: 5, buffer: 30 }, paid: { capacity: 20, buffer: 120 } });
    expect(body.trialSeconds).toBe(180);
    expect(body.flowControl).toMatchObject({ enabled: true, bufferSeconds: 6 });
    const byPath = Object.fromEntries(body.routes.map((r) => [r.path, r]));
    expect(byPath["/free/:param"]).toMatchObject({ mode: "fixed", price: "0", costUnits: 1, trial: false });
    expect(byPath["/trial/:param"]).toMatchObject({ mode: "fixed", price: "5", trial: true });
    expect(byPath["/echodyn/:n"]).toMatchObject({ mode: "dynamic", costUnits: 1 });
    expect(byPath["/metered/:ms"]).toMatchObject({
      mode: "metered",
      maxPrice: "100",
      meter: { perMs: 0.4, perKiB: 0 },
    });
  });

  it("GET /api/1/stats carries the server-wide flow-control figures", async () => {
    const stats = (await (await request("/api/1/stats")).json()) as { flowControl: Record<string, unknown> };
    expect(stats.flowControl).toMatchObject({
      enabled: true,
      freeCapacity: 5,
      paidCapacity: 20,
      bufferSeconds: 6,
      trialSeconds: 180,
    });
  });
});
