// CORS inside workerd, through the Worker's own fetch with CORS_ORIGINS set on a copy of the
// test env (the shared env has none, which is the default: no CORS headers at all). A listed
// origin gets its preflights answered on priced routes and the management and admin APIs, with
// the payment request headers allowed, and reads the payment headers of real answers (402 and a
// paid 200); an unlisted origin gets no Access-Control-Allow-Origin; credentials are never allowed.
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { encodeProofHeaders } from "../../src/protocol/codec.js";
import worker from "../../src/worker/index.js";
import { freshAccount, openChannel, signProof } from "./helpers.js";

const APP = "https://app.example";
const corsEnv = { ...env, CORS_ORIGINS: `${APP}, https://other.example` };
const anyOriginEnv = { ...env, CORS_ORIGINS: "*" };

async function send(path: string, init: RequestInit = {}, vars: object = corsEnv): Promise<Response> {
  const ctx = createExecutionContext();
  const request = new Request(`http://paywall.test${path}`, init) as Parameters<typeof worker.fetch>[0];
  const res = await worker.fetch(request, vars as typeof env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

function preflight(path: string, method: string, origin = APP, vars: object = corsEnv): Promise<Response> {
  return send(
    path,
    {
      method: "OPTIONS",
      headers: {
        Origin: origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "rdn-balance-signature, rdn-session",
      },
    },
    vars,
  );
}

const list = (res: Response, name: string) =>
  (res.headers.get(name) ?? "")
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);

const PAYMENT_REQUEST_HEADERS = [
  "RDN-Sender-Address",
  "RDN-Open-Block",
  "RDN-Balance",
  "RDN-Balance-Signature",
  "RDN-Session",
  "RDN-Close-Signature",
  "RDN-Close-Deadline",
  "PAYMENT-SIGNATURE",
  "Authorization",
];

describe("CORS", () => {
  it("answers a priced route's preflight with the payment request headers allowed, before the paywall", async () => {
    const res = await preflight("/echofix/hello", "GET");
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(APP);
    expect(list(res, "access-control-allow-methods")).toEqual(expect.arrayContaining(["get", "post", "delete"]));
    expect(list(res, "access-control-allow-headers")).toEqual(
      expect.arrayContaining(PAYMENT_REQUEST_HEADERS.map((h) => h.toLowerCase())),
    );
    expect(res.headers.get("access-control-max-age")).toBe("600");
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
    expect(list(res, "vary")).toContain("origin");
    // No terms: the paywall never saw it.
    expect(res.headers.get("rdn-price")).toBeNull();
  });

  it("answers preflights of the management API and of admin routes without the admin token", async () => {
    const close = await preflight("/api/1/channels/0x0000000000000000000000000000000000000001/1", "DELETE");
    expect(close.status).toBe(204);
    expect(close.headers.get("access-control-allow-origin")).toBe(APP);
    const admin = await preflight("/api/1/admin/withdraw", "POST", "https://other.example");
    expect(admin.status).toBe(204);
    expect(admin.headers.get("access-control-allow-origin")).toBe("https://other.example");
    // The real admin request still needs the token, and its 401 is readable by the listed origin.
    const denied = await send("/api/1/admin/earnings", { headers: { Origin: APP } });
    expect(denied.status).toBe(401);
    expect(denied.headers.get("access-control-allow-origin")).toBe(APP);
    expect(list(denied, "access-control-expose-headers")).toContain("www-authenticate");
  });

  it("exposes the terms, the refusal flags and x402's headers on a 402", async () => {
    const res = await send("/echofix/hello", { headers: { Origin: APP, Accept: "application/json" } });
    expect(res.status).toBe(402);
    expect(res.headers.get("rdn-price")).toBe("5");
    expect(res.headers.get("access-control-allow-origin")).toBe(APP);
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
    const exposed = list(res, "access-control-expose-headers");
    for (const h of [
      "RDN-Gateway-Path",
      "RDN-Receiver-Address",
      "RDN-Contract-Address",
      "RDN-Token-Address",
      "RDN-Chain-Id",
      "RDN-Price",
      "RDN-Invalid-Amount",
      "RDN-Insufficient-Credit",
      "RDN-Nonexisting-Channel",
      "PAYMENT-REQUIRED",
      "PAYMENT-RESPONSE",
      "Retry-After",
      "RateLimit",
      "RateLimit-Policy",
    ])
      expect(exposed).toContain(h.toLowerCase());
    expect(list(res, "vary")).toContain("origin");
  });

  it("exposes the channel headers on a paid 200, and a listed origin reads them", async () => {
    const a = await freshAccount();
    const { openBlock } = await openChannel(a, 100n);
    const signature = await signProof(a, openBlock, 5n);
    const res = await send("/echofix/hello", {
      headers: { Origin: APP, ...encodeProofHeaders({ sender: a.address, openBlock, balance: 5n, signature }) },
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("hello");
    expect(res.headers.get("access-control-allow-origin")).toBe(APP);
    const exposed = list(res, "access-control-expose-headers");
    for (const h of [
      "RDN-Cost",
      "RDN-Session",
      "RDN-Sender-Balance",
      "RDN-Balance-Signature",
      "RDN-Deposit",
      "RDN-Credit",
    ]) {
      expect(res.headers.get(h)).not.toBeNull();
      expect(exposed).toContain(h.toLowerCase());
    }
  });

  it("gives an unlisted origin no Access-Control-Allow-Origin, on a preflight or a 402", async () => {
    const pre = await preflight("/echofix/hello", "GET", "https://evil.example");
    expect(pre.headers.get("access-control-allow-origin")).toBeNull();
    const res = await send("/echofix/hello", { headers: { Origin: "https://evil.example" } });
    expect(res.status).toBe(402);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    // An origin that only starts like a listed one is another origin.
    const prefix = await send("/api/1/stats", { headers: { Origin: `${APP}.evil.example` } });
    expect(prefix.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("with CORS_ORIGINS=* lets every origin read, still without credentials", async () => {
    const res = await send("/api/1/pricing", { headers: { Origin: "https://any.example" } }, anyOriginEnv);
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
    const pre = await preflight("/echofix/hello", "GET", "https://any.example", anyOriginEnv);
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("adds no CORS headers when CORS_ORIGINS is unset (the default)", async () => {
    const res = await send("/echofix/hello", { headers: { Origin: APP } }, env);
    expect(res.status).toBe(402);
    for (const [name] of res.headers) expect(name).not.toMatch(/^access-control-/);
    const pre = await preflight("/echofix/hello", "GET", APP, env);
    expect(pre.status).not.toBe(204);
    for (const [name] of pre.headers) expect(name).not.toMatch(/^access-control-/);
  });
});
