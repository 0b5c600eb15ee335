// Proxy mode: forwards a paid request to ORIGIN_URL and streams the answer back. The request is
// hostile: the client's payment headers and cookies and any `X-Edge402-*` header are dropped,
// the target never leaves ORIGIN_URL's origin and base path (else 400 `invalid_proxy_target`).
// The origin is told who paid by `X-Edge402-*` headers signed with ORIGIN_SECRET, and its answer
// cannot speak for the paywall (its `RDN-*`, `PAYMENT-*` headers and `rdn-` cookies are dropped).
import type { Context } from "hono";
import { paymentHeaderNames } from "../protocol/headers.js";
import { getConfig } from "./config.js";
import type { Env } from "./env.js";
import { errorResponse } from "./http/responses.js";

const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
];

export const ORIGIN_HEADERS = {
  sender: "X-Edge402-Sender",
  openBlock: "X-Edge402-Open-Block",
  cost: "X-Edge402-Cost",
  secret: "X-Edge402-Secret",
} as const;

function forwardHeaders(incoming: Headers): Headers {
  const out = new Headers(incoming);
  const connectionListed = (incoming.get("connection") ?? "").split(",").map((s) => s.trim().toLowerCase());
  for (const name of [...HOP_BY_HOP, ...connectionListed, ...paymentHeaderNames.map((n) => n.toLowerCase())])
    out.delete(name);
  for (const name of [...out.keys()]) if (name.toLowerCase().startsWith("x-edge402-")) out.delete(name);
  const cookies = (incoming.get("cookie") ?? "")
    .split(";")
    .map((s) => s.trim())
    .filter((s) => s && !/^rdn-/i.test(s));
  if (cookies.length) out.set("cookie", cookies.join("; "));
  else out.delete("cookie");
  return out;
}

/** Characters no forwarded path may hold: `\\` (a slash to URL parsers) and the C0 controls,
 *  space and DEL (tabs and newlines are silently dropped by URL parsers). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
const UNSAFE_PATH = /[\\\u0000-\u0020\u007f]/;

/**
 * The URL to forward `path` (which starts with `/`) and `search` to: ORIGIN_URL's origin, its
 * base path, then `path`, by concatenation. Null when the result would not be on ORIGIN_URL's
 * origin, below its base path, or the path holds characters parsers read differently.
 */
export function originTarget(originUrl: string, path: string, search = ""): URL | null {
  const base = new URL(originUrl);
  const basePath = base.pathname.replace(/\/+$/, "");
  if (!path.startsWith("/") || UNSAFE_PATH.test(path) || (search !== "" && !search.startsWith("?"))) return null;
  let target: URL;
  try {
    target = new URL(`${base.origin}${basePath}${path}${search}`);
  } catch {
    return null;
  }
  if (target.origin !== base.origin || target.username !== "" || target.password !== "") return null;
  if (basePath !== "" && target.pathname !== basePath && !target.pathname.startsWith(`${basePath}/`)) return null;
  return target;
}

/** The origin's response headers the client may see: hop-by-hop headers, anything that would
 *  speak for the paywall (`RDN-*`, x402's `PAYMENT-*`) and `rdn-` cookies are dropped. */
function responseHeaders(incoming: Headers): Headers {
  const out = new Headers(incoming);
  for (const name of HOP_BY_HOP) out.delete(name);
  for (const name of [...out.keys()]) if (/^(rdn|payment)-/i.test(name)) out.delete(name);
  const cookies = incoming.getSetCookie();
  if (cookies.length > 0) {
    out.delete("set-cookie");
    for (const cookie of cookies) if (!/^\s*rdn-/i.test(cookie)) out.append("set-cookie", cookie);
  }
  return out;
}

/** The handler that forwards to ORIGIN_URL, keeping the path below `stripPrefix` (a whole
 *  path segment: `/api` strips `/api/x` to `/x`, not `/apix`). */
export function proxyToOrigin(stripPrefix = "") {
  const prefix = stripPrefix.replace(/\/+$/, "");
  return async (c: Context<{ Bindings: Env }>) => {
    const config = getConfig(c.env);
    if (!config.originUrl) return errorResponse(c, "internal_error", { message: "Proxy mode needs ORIGIN_URL." });
    const incoming = new URL(c.req.url);
    const { pathname } = incoming;
    const path =
      prefix && (pathname === prefix || pathname.startsWith(`${prefix}/`))
        ? pathname.slice(prefix.length) || "/"
        : pathname;
    const target = originTarget(config.originUrl, path, incoming.search);
    if (!target)
      return errorResponse(c, "invalid_proxy_target", { message: "This path cannot be forwarded to the origin." });
    const headers = forwardHeaders(c.req.raw.headers);
    const paid = c.get("edge402Payment");
    if (paid) {
      headers.set(ORIGIN_HEADERS.sender, paid.sender);
      if (paid.kind !== "exact") headers.set(ORIGIN_HEADERS.openBlock, String(paid.openBlock));
      headers.set(ORIGIN_HEADERS.cost, paid.cost.toString());
    }
    if (config.originSecret) headers.set(ORIGIN_HEADERS.secret, config.originSecret);
    const method = c.req.method;
    let res: Response;
    try {
      res = await fetch(target, {
        method,
        headers,
        body: method === "GET" || method === "HEAD" ? undefined : c.req.raw.body,
        redirect: "manual",
      });
    } catch (err) {
      return errorResponse(c, "internal_error", {
        message: `The origin could not be reached: ${err instanceof Error ? err.message : String(err)}`,
      });
    }
    return new Response(res.body, {
      status: res.status,
      statusText: res.statusText,
      headers: responseHeaders(res.headers),
    });
  };
}
