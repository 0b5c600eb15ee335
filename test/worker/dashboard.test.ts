// The operator's dashboard in workerd: the login form and its cookie (signed, expiring, HttpOnly,
// SameSite=Strict, one per path, not the token), the admin API taking that cookie as well as the
// bearer token, the CSRF refusal of a cookie-authenticated action from another origin (which
// changes nothing: no withdraw is sent), logout, the dashboard's own admin routes (/overview with
// the traffic counters' paid requests, /chain, the channel search, a channel's last payment) and
// its script asset.
import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { issueAdminCookie } from "../../src/worker/http/admin-cookie.js";
import { DASHBOARD_SCRIPT } from "../../src/worker/http/dashboard-asset.js";
import { flushTraffic } from "../../src/worker/traffic/index.js";
import {
  adminToken,
  flushProjection,
  freshAccount,
  openChannel,
  pay,
  publicClient,
  receiver,
  request,
} from "./helpers.js";

const ORIGIN = "http://paywall.test";
const bearer = { authorization: `Bearer ${adminToken}` };

/** POST /admin/login with `token` from `origin`. */
function login(token: string, origin = ORIGIN): Promise<Response> {
  return request("/admin/login", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin },
    body: new URLSearchParams({ token }).toString(),
    redirect: "manual",
  });
}

/** Logs in and answers the cookie's `name=value`. */
async function loggedIn(): Promise<string> {
  const res = await login(adminToken);
  expect(res.status).toBe(303);
  return res.headers.getSetCookie()[0]!.split(";")[0]!;
}

/** A channel that has earned 5 and has not withdrawn it, projected to D1. */
async function earningChannel() {
  const a = await freshAccount();
  const { openBlock } = await openChannel(a, 100n);
  expect((await pay(a, openBlock, 5n)).status).toBe(200);
  await flushProjection(a.address, openBlock);
  return { sender: a.address, openBlock };
}

const withdrawsOf = async (sender: string) =>
  (
    await env.DB.prepare("SELECT hash FROM receiver_txs WHERE kind = 'withdraw' AND sender = ?")
      .bind(sender.toLowerCase())
      .all()
  ).results;

describe("the dashboard's login", () => {
  it("GET /admin without a login is the login form, never cached or framed", async () => {
    const res = await request("/admin");
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<form method="post" action="/admin/login">');
    expect(html).not.toContain(DASHBOARD_SCRIPT.name);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
  });

  it("a wrong token gets the form again with a message, and no cookie", async () => {
    for (const token of ["nope", `${adminToken}x`, ""]) {
      const res = await login(token);
      expect(res.status).toBe(401);
      expect(res.headers.getSetCookie()).toEqual([]);
      const html = await res.text();
      expect(html).toContain("That is not the admin token.");
      expect(html).toContain('action="/admin/login"');
    }
  });

  it("a login posted from another origin is refused, even with the right token", async () => {
    const res = await login(adminToken, "https://evil.example");
    expect(res.status).toBe(403);
    expect(res.headers.getSetCookie()).toEqual([]);
  });

  it("the right token sets a signed, expiring, HttpOnly, SameSite=Strict cookie on /admin and /api/1/admin", async () => {
    const res = await login(adminToken);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin");
    const cookies = res.headers.getSetCookie();
    expect(cookies).toHaveLength(2);
    const value = cookies[0]!.split(";")[0]!.split("=")[1]!;
    expect(value).toMatch(/^a1\.[0-9]+\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}$/);
    expect(value).not.toContain(adminToken);
    expect(cookies).toEqual([
      `edge402-admin=${value}; Max-Age=43200; Path=/admin; HttpOnly; SameSite=Strict; Secure`,
      `edge402-admin=${value}; Max-Age=43200; Path=/api/1/admin; HttpOnly; SameSite=Strict; Secure`,
    ]);
    // Two logins, two values.
    expect(await loggedIn()).not.toBe(`edge402-admin=${value}`);
  });

  it("with the cookie, GET /admin is the dashboard and the admin API answers", async () => {
    const cookie = await loggedIn();
    const page = await request("/admin", { headers: { cookie } });
    expect(await page.text()).toContain(`/admin/assets/${DASHBOARD_SCRIPT.name}`);
    const res = await request("/api/1/admin/earnings", { headers: { cookie } });
    expect(res.status).toBe(200);
  });

  it("refuses a tampered, expired or foreign cookie", async () => {
    const good = (await loggedIn()).split("=")[1]!;
    const tampered = `${good.slice(0, -1)}${good.endsWith("A") ? "B" : "A"}`;
    const longer = good.replace(/^a1\.([0-9]+)\./, (_m, exp: string) => `a1.${Number(exp) + 3600}.`);
    const expired = await issueAdminCookie(adminToken, Math.floor(Date.now() / 1000) - 7200, 3600);
    const foreign = await issueAdminCookie("another-admin-token-0123456789");
    for (const value of [tampered, longer, expired, foreign, adminToken, ""]) {
      const res = await request("/api/1/admin/earnings", { headers: { cookie: `edge402-admin=${value}` } });
      expect(res.status, value).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
      expect(await (await request("/admin", { headers: { cookie: `edge402-admin=${value}` } })).text()).toContain(
        'action="/admin/login"',
      );
    }
  });

  it("a wrong bearer token is refused even beside a good cookie", async () => {
    const cookie = await loggedIn();
    const res = await request("/api/1/admin/earnings", { headers: { cookie, authorization: "Bearer nope" } });
    expect(res.status).toBe(401);
  });

  it("logout clears the cookie on both paths", async () => {
    const crossSite = await request("/admin/logout", {
      method: "POST",
      headers: { origin: "https://evil.example" },
      redirect: "manual",
    });
    expect(crossSite.status).toBe(403);
    expect(crossSite.headers.getSetCookie()).toEqual([]);
    const res = await request("/admin/logout", { method: "POST", headers: { origin: ORIGIN }, redirect: "manual" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin");
    expect(res.headers.getSetCookie()).toEqual([
      "edge402-admin=; Max-Age=0; Path=/admin; HttpOnly; SameSite=Strict; Secure",
      "edge402-admin=; Max-Age=0; Path=/api/1/admin; HttpOnly; SameSite=Strict; Secure",
    ]);
  });
});

describe("CSRF: a cookie-authenticated admin action must come from the Worker's own origin", () => {
  it("refuses a withdraw with no Origin, another Origin or a cross-site fetch, and sends nothing", async () => {
    const { sender } = await earningChannel();
    const cookie = await loggedIn();
    const body = JSON.stringify({ minimum: "1" });
    const forged: Record<string, string>[] = [
      {},
      { origin: "https://evil.example" },
      { origin: "null" },
      { origin: ORIGIN, "sec-fetch-site": "cross-site" },
      { origin: ORIGIN, "sec-fetch-site": "same-site" },
    ];
    for (const headers of forged) {
      const res = await request("/api/1/admin/withdraw", {
        method: "POST",
        headers: { cookie, "content-type": "application/json", ...headers },
        body,
      });
      expect(res.status, JSON.stringify(headers)).toBe(401);
      const error = ((await res.json()) as { error: { code: string; message: string } }).error;
      expect(error.code).toBe("unauthorized");
      expect(error.message).toContain("Cross-site request refused");
    }
    expect(await withdrawsOf(sender)).toEqual([]);

    // The same request from the dashboard's origin withdraws.
    const res = await request("/api/1/admin/withdraw", {
      method: "POST",
      headers: { cookie, "content-type": "application/json", origin: ORIGIN, "sec-fetch-site": "same-origin" },
      body,
    });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { sent: { sender: string }[] };
    expect(answer.sent.map((s) => s.sender.toLowerCase())).toContain(sender.toLowerCase());
    expect(await withdrawsOf(sender)).toHaveLength(1);
  });

  it("a cookie-authenticated GET needs no Origin; the bearer token needs none for a POST", async () => {
    const cookie = await loggedIn();
    expect((await request("/api/1/admin/sync", { headers: { cookie } })).status).toBe(200);
    const res = await request("/api/1/admin/withdraw", {
      method: "POST",
      headers: { ...bearer, "content-type": "application/json" },
      body: JSON.stringify({ minimum: "1000000000000000000000" }),
    });
    expect(res.status).toBe(200);
  });
});

describe("the dashboard's admin routes", () => {
  it("GET /overview: the earnings totals and the channels by state, as GET /earnings has them", async () => {
    await earningChannel();
    const overview = (await (await request("/api/1/admin/overview", { headers: bearer })).json()) as Record<
      string,
      unknown
    >;
    const earnings = (await (await request("/api/1/admin/earnings", { headers: bearer })).json()) as Record<
      string,
      unknown
    >;
    for (const key of ["earned", "withdrawn", "withdrawableNow", "outstandingCredit", "deposits"])
      expect(overview[key], key).toBe(earnings[key]);
    const states = overview.channels as Record<"open" | "closing" | "settled" | "removed", number>;
    const byState = earnings.byState as Record<string, number>;
    expect(states.open + states.closing + states.settled + states.removed).toBe(earnings.channels);
    expect(states.settled).toBe(byState.settled ?? 0);
    expect(states.open).toBeGreaterThanOrEqual(1);
  });

  it("GET /overview: the paid requests of the last hour and day, as GET /traffic counts them", async () => {
    const read = async () => {
      await flushTraffic(env as never);
      const { payments } = (await (await request("/api/1/admin/overview", { headers: bearer })).json()) as {
        payments: { lastHour: number; lastDay: number } | null;
      };
      const { minutes } = (await (await request("/api/1/admin/traffic", { headers: bearer })).json()) as {
        minutes: { paid: number }[];
      };
      const paid = minutes.map((m) => m.paid);
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      expect(payments).toEqual({ lastHour: sum(paid.slice(-60)), lastDay: sum(paid) });
      return payments!;
    };
    const before = await read();
    await earningChannel();
    await vi.waitFor(async () => expect((await read()).lastHour).toBe(before.lastHour + 1), {
      timeout: 15_000,
      interval: 100,
    });
  });

  it("GET /chain: the receiver's gas and token balances as the chain has them, and the dispute queue", async () => {
    const res = await request("/api/1/admin/chain", { headers: bearer });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      receiver: { address: string; gasBalance: string; tokenBalance: string; pendingTransactions: number };
      disputes: unknown[];
    };
    expect(body.receiver.address).toBe(receiver.address);
    expect(BigInt(body.receiver.gasBalance)).toBe(await publicClient.getBalance({ address: receiver.address }));
    expect(BigInt(body.receiver.tokenBalance)).toBeGreaterThanOrEqual(0n);
    expect(body.receiver.pendingTransactions).toBeGreaterThanOrEqual(0);
    expect(Array.isArray(body.disputes)).toBe(true);
    expect((await request("/api/1/admin/chain")).status).toBe(401);
  });

  it("GET /channels?search= finds a sender by part of its address", async () => {
    const { sender, openBlock } = await earningChannel();
    const fragment = sender.slice(10, 20).toUpperCase();
    for (const search of [fragment, sender.slice(0, 12)]) {
      const res = await request(`/api/1/admin/channels?search=${search}`, { headers: bearer });
      const { channels } = (await res.json()) as { channels: { sender: string; openBlock: number }[] };
      expect(channels.map((c) => `${c.sender}-${c.openBlock}`)).toContain(`${sender.toLowerCase()}-${openBlock}`);
      for (const c of channels) expect(c.sender).toContain(search.toLowerCase());
    }
    for (const search of ["%", "0x_", "zz", "0x".padEnd(43, "a")]) {
      const res = await request(`/api/1/admin/channels?search=${encodeURIComponent(search)}`, { headers: bearer });
      expect(res.status, search).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("bad_request");
    }
  });

  it("GET /channels/{sender}/{openBlock} and GET /channels: when the object last accepted a payment", async () => {
    const before = Date.now();
    const { sender, openBlock } = await earningChannel();
    const res = await request(`/api/1/admin/channels/${sender}/${openBlock}`, { headers: bearer });
    const { lastPaymentAt, payments } = (await res.json()) as { lastPaymentAt: number | null; payments: number };
    expect(payments).toBe(1);
    expect(lastPaymentAt).toBeGreaterThanOrEqual(before);
    expect(lastPaymentAt).toBeLessThanOrEqual(Date.now());
    // The D1 row (the Channels table) carries the same time.
    await vi.waitFor(
      async () => {
        const list = await request(`/api/1/admin/channels?sender=${sender}`, { headers: bearer });
        const { channels } = (await list.json()) as { channels: { openBlock: number; lastPaymentAt: number | null }[] };
        expect(channels.find((c) => c.openBlock === openBlock)?.lastPaymentAt).toBe(lastPaymentAt);
      },
      { timeout: 15_000, interval: 100 },
    );
  });

  it("serves the dashboard's script under its content-hashed name, immutable", async () => {
    const res = await request(`/admin/assets/${DASHBOARD_SCRIPT.name}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(await res.text()).toBe(DASHBOARD_SCRIPT.body);
    expect((await request("/admin/assets/dashboard.000000000000.js")).status).toBe(404);
  });
});
