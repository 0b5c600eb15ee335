// Proxy mode in workerd against two real HTTP origins (test/helpers/recording-origin.ts): the
// configured one (ORIGIN_URL, with a base path) and another host that must never be reached,
// however the request's path is spelled. The origin answers with headers that try to speak for
// the paywall; the client must only ever see the paywall's.
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/worker/app.js";
import { proxyToOrigin } from "../../src/worker/proxy.js";
import { verifySession } from "../../src/worker/session.js";
import { encodeProofHeaders } from "../../src/protocol/codec.js";
import { freshAccount, openChannel, signProof } from "./helpers.js";

const origins = (env as unknown as { TEST_ORIGINS: { origin: string; other: string } }).TEST_ORIGINS;
const ORIGIN_SECRET = "origin-secret-0123456789";
const proxyEnv = { ...env, ORIGIN_URL: `${origins.origin}/base`, ORIGIN_SECRET };
const app = createApp({
  routes: [
    { method: "GET", path: "/paid/*", options: { price: 3n }, handler: proxyToOrigin("/paid") },
    { method: "GET", path: "/*", options: { price: 0n }, handler: proxyToOrigin() },
  ],
});

type Received = { method: string; target: string; headers: Record<string, string> };
const received = async (url: string) => (await (await fetch(`${url}/__received`)).json()) as Received[];

async function send(url: string, headers: Record<string, string> = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(
    new Request(url, { headers: { "CF-Connecting-IP": "192.0.2.77", ...headers } }),
    proxyEnv,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

describe("proxy mode", () => {
  it("never sends a request, its secret or its credentials to another host, however the path is spelled", async () => {
    const other = new URL(origins.other).host;
    const hostile = [
      `//${other}/steal`,
      `/\\${other}/steal`,
      `/\\/${other}/steal`,
      `//user:pw@${other}/steal`,
      `/%2F%2F${other}/steal`,
      `/%5C${other}/steal`,
      `/\t/${other}/steal`,
      `/\n/${other}/steal`,
    ];
    const before = (await received(origins.origin)).length;
    const credentials = { authorization: "Bearer user-token", cookie: "sid=abc" };
    for (const path of hostile) {
      const res = await send(`http://paywall.test${path}`, credentials);
      await res.arrayBuffer();
      expect(res.status, path).toBe(200);
    }
    // The priced route strips its prefix, leaving `//host/...`: paid, it still goes to the origin.
    const a = await freshAccount();
    const { openBlock } = await openChannel(a, 100n);
    let balance = 0n;
    for (const path of [`/paid//${other}/steal`, `/paid/\\${other}/steal`]) {
      balance += 3n;
      const proof = encodeProofHeaders({
        sender: a.address,
        openBlock,
        balance,
        signature: await signProof(a, openBlock, balance),
      });
      const res = await send(`http://paywall.test${path}`, { ...credentials, ...proof });
      await res.arrayBuffer();
      expect(res.status, path).toBe(200);
    }
    expect(await received(origins.other)).toEqual([]);
    const reached = (await received(origins.origin)).slice(before);
    expect(reached.length).toBe(hostile.length + 2);
    for (const r of reached) {
      expect(r.target.startsWith("/base/"), r.target).toBe(true);
      expect(r.headers["x-edge402-secret"]).toBe(ORIGIN_SECRET);
    }
  });

  it("forwards below ORIGIN_URL's base path, with the query, and strips a route prefix at a segment", async () => {
    const before = (await received(origins.origin)).length;
    expect((await send("http://paywall.test/report/x?q=1&q=2")).status).toBe(200);
    expect((await send("http://paywall.test/paidx/y")).status).toBe(200);
    const targets = (await received(origins.origin)).slice(before).map((r) => r.target);
    expect(targets).toEqual(["/base/report/x?q=1&q=2", "/base/paidx/y"]);
  });

  it("keeps the paywall's headers over the origin's, drops its RDN-*, PAYMENT-* and rdn- cookies, and marks a paid answer private", async () => {
    const a = await freshAccount();
    const { openBlock } = await openChannel(a, 100n);
    const signature = await signProof(a, openBlock, 5n);
    const res = await send(
      "http://paywall.test/paid/report",
      encodeProofHeaders({ sender: a.address, openBlock, balance: 5n, signature }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("RDN-Sender-Balance")).toBe("5");
    expect(res.headers.get("RDN-Credit")).toBe("2");
    expect(res.headers.get("RDN-Cost")).toBe("3");
    expect(await verifySession(env.SESSION_SECRET as string, res.headers.get("RDN-Session")!)).toMatchObject({
      openBlock,
    });
    expect(res.headers.get("PAYMENT-RESPONSE")).toBeNull();
    // The origin's own cookie stays, its rdn- cookie does not; the paywall adds the session's.
    const [theme, session, ...more] = res.headers.getSetCookie();
    expect(theme).toBe("theme=dark; Path=/");
    expect(session).toMatch(/^RDN-Session=s1\./);
    expect(more).toEqual([]);
    expect(res.headers.get("Cache-Control")).toBe("private, no-store");
    expect(res.headers.get("X-Origin")).toBe("yes");
    expect(((await res.json()) as Received).target).toBe("/base/report");

    // A free answer keeps the origin's caching, but still none of its RDN-* headers.
    const free = await send("http://paywall.test/free-report");
    expect(free.status).toBe(200);
    expect(free.headers.get("RDN-Price")).toBe("0");
    expect(free.headers.get("RDN-Sender-Balance")).toBeNull();
    expect(free.headers.get("RDN-Session")).toBeNull();
    expect(free.headers.get("Cache-Control")).toBe("public, max-age=3600");
  });
});
