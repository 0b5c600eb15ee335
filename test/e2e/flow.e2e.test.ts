// Flow control and metered pricing end to end: the `npm start` stack (anvil, wrangler dev)
// with TRIAL_SECONDS=5, FREE_CAPACITY=5 (a free buffer of 30) and PAID_CAPACITY=200 (a paid
// buffer of 1200), driven over HTTP. A flood of a free route meets 429 and is served again after
// its Retry-After; a paying client gets its larger allowance, on free routes too; the trial runs out; a metered
// route charges more for longer work, within its maximum, and the credit falls by exactly that.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../../scripts/stack.js";
import { E2EClient, errorCode } from "./client.js";

const FREE_BUFFER = 30;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let stack: Stack;
let client: E2EClient;

beforeAll(async () => {
  stack = await startStack({ env: { TRIAL_SECONDS: "5", FREE_CAPACITY: "5", PAID_CAPACITY: "200" } });
  client = new E2EClient(stack);
});

afterAll(async () => {
  await stack?.stop();
});

describe("flow control over HTTP", () => {
  it("meets 120 parallel free requests with 429, Retry-After and RateLimit, and serves again after waiting", async () => {
    const started = Date.now();
    const responses = await Promise.all(Array.from({ length: 120 }, () => client.fetch("/free/x")));
    const elapsedMs = Date.now() - started;
    const served = responses.filter((r) => r.status === 200);
    const limited = responses.filter((r) => r.status === 429);
    expect(served.length + limited.length).toBe(120);
    expect(limited.length).toBeGreaterThan(0);
    // One bucket: never more than its buffer plus what refilled meanwhile (5 units/s).
    expect(served.length).toBeLessThanOrEqual(FREE_BUFFER + Math.ceil((5 * elapsedMs) / 1000));
    for (const r of served) expect(r.headers.get("RateLimit")).toMatch(/^"free";r=\d+;t=\d+$/);
    let wait = 0;
    for (const r of limited) {
      expect(r.headers.get("Retry-After")).toMatch(/^[1-9][0-9]*$/);
      expect(r.headers.get("RateLimit-Policy")).toBe(`"free";q=${FREE_BUFFER};w=6`);
      // r is 0 when the bucket is empty; a client frozen for sending too early may be refused
      // while a unit has already refilled, so r can be above 0 but never a full buffer.
      const m = /^"free";r=(\d+);t=\d+$/.exec(r.headers.get("RateLimit") ?? "");
      expect(m, r.headers.get("RateLimit") ?? "no RateLimit").not.toBeNull();
      expect(Number(m![1])).toBeLessThan(FREE_BUFFER);
      wait = Math.max(wait, Number(r.headers.get("Retry-After")));
    }
    expect(limited.some((r) => /;r=0;/.test(r.headers.get("RateLimit") ?? ""))).toBe(true);
    expect(await errorCode(limited[0]!)).toBe("rate_limited");
    await sleep(wait * 1000);
    const again = await client.fetch("/free/x");
    expect(again.status).toBe(200);
    expect(await again.text()).toBe("x");
  });

  it("lets a client with a session through with the paid allowance, charging exactly the served requests", async () => {
    const ch = await client.newChannel(2000n);
    const first = await client.pay(ch, 1000n, "/echofix/x");
    expect(first.status).toBe(200);
    expect(first.headers.get("RateLimit-Policy")).toBe('"paid";q=1200;w=6');
    const credit = BigInt(first.headers.get("RDN-Credit")!);
    const token = first.headers.get("RDN-Session")!;
    const responses = await Promise.all(Array.from({ length: 60 }, () => client.fetch("/echofix/x", { headers: { "RDN-Session": token } })));
    const served = responses.filter((r) => r.status === 200);
    expect(served.length).toBeGreaterThanOrEqual(50);
    for (const r of served) expect(r.headers.get("RateLimit")).toMatch(/^"paid";r=\d+;t=\d+$/);
    const info = (await (await client.fetch(`/api/1/channels/${ch.sender}/${ch.openBlock}`)).json()) as { credit: string };
    expect(BigInt(info.credit)).toBe(credit - 5n * BigInt(served.length));
  });

  it("gives a client with a session more than the free share on a free route, from its channel's bucket, for nothing", async () => {
    const ch = await client.newChannel(1000n);
    const first = await client.pay(ch, 100n, "/echofix/f");
    expect(first.status).toBe(200);
    const token = first.headers.get("RDN-Session")!;
    const ip = "198.51.100.77";
    const withSession = await Promise.all(Array.from({ length: 90 }, () => client.fetch("/free/p", { headers: { "CF-Connecting-IP": ip, "RDN-Session": token } })));
    // Three times the free buffer, all served: the paid bucket (1200) carries them.
    expect(withSession.map((r) => r.status)).toEqual(withSession.map(() => 200));
    for (const r of withSession) {
      expect(r.headers.get("RateLimit-Policy")).toBe('"paid";q=1200;w=6');
      expect(r.headers.get("RDN-Cost")).toBe("0");
    }
    const info = (await (await client.fetch(`/api/1/channels/${ch.sender}/${ch.openBlock}`)).json()) as { credit: string };
    expect(info.credit).toBe("95");
    // The same address without a session gets the free share only.
    const started = Date.now();
    const strangers = await Promise.all(Array.from({ length: 90 }, () => client.fetch("/free/s", { headers: { "CF-Connecting-IP": ip } })));
    const served = strangers.filter((r) => r.status === 200).length;
    expect(served).toBeLessThan(90);
    expect(served).toBeLessThanOrEqual(FREE_BUFFER + Math.ceil((5 * (Date.now() - started)) / 1000));
    expect(strangers.find((r) => r.status === 429)!.headers.get("RateLimit-Policy")).toBe(`"free";q=${FREE_BUFFER};w=6`);
  });

  it("serves a trial route free to a new client, then asks for payment once the trial is over", async () => {
    const ip = "198.51.100.23";
    const first = await client.fetch("/trial/a", { headers: { "CF-Connecting-IP": ip } });
    expect(first.status).toBe(200);
    expect(await first.text()).toBe("a");
    expect(Number(first.headers.get("RDN-Trial-Remaining"))).toBeGreaterThan(0);
    expect(Number(first.headers.get("RDN-Trial-Remaining"))).toBeLessThanOrEqual(5);
    await sleep(6000);
    const later = await client.fetch("/trial/a", { headers: { "CF-Connecting-IP": ip } });
    expect(later.status).toBe(402);
    expect(later.headers.get("RDN-Trial-Remaining")).toBe("0");
    expect(later.headers.get("RDN-Price")).toBe("5");
    expect(await errorCode(later)).toBe("payment_required");
  });

  it("charges a metered route its measured cost within the maximum, more for longer work", async () => {
    const ch = await client.newChannel(1000n);
    const first = await client.pay(ch, 500n, "/echofix/m");
    let credit = BigInt(first.headers.get("RDN-Credit")!);
    let token = first.headers.get("RDN-Session")!;
    const costs: bigint[] = [];
    for (const ms of [50, 200]) {
      const res = await client.fetch(`/metered/${ms}`, { headers: { "RDN-Session": token } });
      expect(res.status).toBe(200);
      expect(res.headers.get("RDN-Price")).toBe("100");
      const cost = BigInt(res.headers.get("RDN-Cost")!);
      expect(cost).toBeGreaterThan(0n);
      expect(cost).toBeLessThanOrEqual(100n);
      const after = BigInt(res.headers.get("RDN-Credit")!);
      expect(credit - after).toBe(cost);
      credit = after;
      token = res.headers.get("RDN-Session")!;
      costs.push(cost);
    }
    expect(costs[1]!).toBeGreaterThan(costs[0]!);
  });

  it("announces the allowances, the trial and every route's pricing", async () => {
    const pricing = (await (await client.fetch("/api/1/pricing")).json()) as {
      allowances: unknown;
      trialSeconds: number;
      routes: { path: string; mode: string; trial: boolean; costUnits: number }[];
    };
    expect(pricing.allowances).toEqual({ free: { capacity: 5, buffer: 30 }, paid: { capacity: 200, buffer: 1200 } });
    expect(pricing.trialSeconds).toBe(5);
    const trial = pricing.routes.find((r) => r.path === "/trial/:param");
    expect(trial).toMatchObject({ mode: "fixed", trial: true, costUnits: 1 });
    expect(pricing.routes.find((r) => r.path === "/metered/:ms")).toMatchObject({ mode: "metered" });
  });
});
