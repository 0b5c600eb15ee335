// The operator's login cookie, so the dashboard asks for the admin token once and never keeps it
// in the browser: `edge402-admin` holds `a1.<expiry unix s>.<nonce>.<HMAC-SHA256>`, signed with a
// key derived from ADMIN_TOKEN (rotating the token logs every browser out). It is HttpOnly,
// SameSite=Strict and set twice, once per path it is sent to (/admin, the dashboard, and
// /api/1/admin, the admin API), Secure except on localhost. SameSite=Strict keeps other sites'
// requests from carrying it; on top, a state-changing request that authenticates by the cookie
// must carry an `Origin` equal to the Worker's own (and no cross-site `Sec-Fetch-Site`), so a
// request forged from anywhere else is refused even by a browser that ignores SameSite.
import { GATEWAY_PATH } from "../../protocol/headers.js";
import { fromBase64Url, toBase64Url } from "../session.js";
import { secureAttribute } from "./session-cookie.js";

export const ADMIN_COOKIE = "edge402-admin";
/** Where the dashboard is served. */
export const DASHBOARD_PATH = "/admin";
/** The paths the cookie is sent to: the dashboard and the admin API. */
export const ADMIN_COOKIE_PATHS = [DASHBOARD_PATH, `${GATEWAY_PATH}/admin`] as const;
/** How long a login lasts. */
export const ADMIN_COOKIE_TTL_SECONDS = 12 * 60 * 60;

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

/** The cookie's HMAC key: HMAC-SHA256(ADMIN_TOKEN, a fixed label), never the token itself. */
function cookieKey(adminToken: string): Promise<CryptoKey> {
  let key = keys.get(adminToken);
  if (!key) {
    key = (async () => {
      const base = await crypto.subtle.importKey(
        "raw",
        encoder.encode(adminToken),
        { name: "HMAC", hash: "SHA-256" },
        false,
        ["sign"],
      );
      const derived = await crypto.subtle.sign("HMAC", base, encoder.encode("edge402 admin cookie v1"));
      return crypto.subtle.importKey("raw", derived, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    })();
    keys.set(adminToken, key);
  }
  return key;
}

/** A fresh signed value, valid `ttlSeconds` from `now` (unix seconds). */
export async function issueAdminCookie(
  adminToken: string,
  now = Math.floor(Date.now() / 1000),
  ttlSeconds = ADMIN_COOKIE_TTL_SECONDS,
): Promise<string> {
  const payload = `a1.${now + ttlSeconds}.${toBase64Url(crypto.getRandomValues(new Uint8Array(12)))}`;
  const mac = await crypto.subtle.sign("HMAC", await cookieKey(adminToken), encoder.encode(payload));
  return `${payload}.${toBase64Url(mac)}`;
}

/** True when `value` is a value `issueAdminCookie` made under this token and it has not expired. */
export async function verifyAdminCookie(
  adminToken: string,
  value: string,
  now = Math.floor(Date.now() / 1000),
): Promise<boolean> {
  const m = /^(a1\.([0-9]{1,12})\.[A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (!m || Number(m[2]) <= now) return false;
  const mac = fromBase64Url(m[3]!);
  if (!mac) return false;
  return crypto.subtle.verify("HMAC", await cookieKey(adminToken), mac, encoder.encode(m[1]!));
}

/** The admin cookie's value in a Cookie header, if any. */
export function readAdminCookie(cookieHeader: string | undefined): string | undefined {
  for (const part of (cookieHeader ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === ADMIN_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The Set-Cookie values that log a browser in with `value`, one per path, for a request to `url`. */
export function adminCookieHeaders(value: string, url: string): string[] {
  return ADMIN_COOKIE_PATHS.map(
    (path) =>
      `${ADMIN_COOKIE}=${value}; Max-Age=${ADMIN_COOKIE_TTL_SECONDS}; Path=${path}; HttpOnly; SameSite=Strict${secureAttribute(url)}`,
  );
}

/** The Set-Cookie values that log a browser out (both paths). */
export function clearAdminCookieHeaders(url: string): string[] {
  return ADMIN_COOKIE_PATHS.map(
    (path) => `${ADMIN_COOKIE}=; Max-Age=0; Path=${path}; HttpOnly; SameSite=Strict${secureAttribute(url)}`,
  );
}

/**
 * Whether a state-changing request comes from the Worker's own pages: its `Origin` is the
 * origin of `url` (the request's own), and `Sec-Fetch-Site`, when the browser sends it, says
 * same-origin. A request without `Origin` is refused: every browser sends it on a POST.
 */
export function sameOrigin(url: string, origin: string | undefined, fetchSite: string | undefined): boolean {
  if (fetchSite !== undefined && fetchSite !== "same-origin") return false;
  return origin !== undefined && origin === new URL(url).origin;
}
