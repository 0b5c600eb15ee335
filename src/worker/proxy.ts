// Proxy mode: forwards a (paid) request to ORIGIN_URL with its method, headers, body and
// query, and streams the origin's answer back. Hop-by-hop headers and the client's payment
// headers and cookies are dropped; the origin learns who paid from `X-Edge402-*` headers that
// only the paywall sets (any the client sent are removed), signed off with ORIGIN_SECRET when
// one is configured so the origin can refuse requests that did not come through the paywall.
import type { Context } from "hono";
import { paymentHeaderNames } from "../protocol/headers.js";
import { getConfig, type Env } from "./config.js";
import { errorResponse } from "./http/responses.js";

const HOP_BY_HOP = ["connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "host"];

export const ORIGIN_HEADERS = {
  sender: "X-Edge402-Sender",
  openBlock: "X-Edge402-Open-Block",
  cost: "X-Edge402-Cost",
  secret: "X-Edge402-Secret",
} as const;

function forwardHeaders(incoming: Headers): Headers {
  const out = new Headers(incoming);
  const connectionListed = (incoming.get("connection") ?? "").split(",").map((s) => s.trim().toLowerCase());
  for (const name of [...HOP_BY_HOP, ...connectionListed, ...paymentHeaderNames.map((n) => n.toLowerCase())]) out.delete(name);
  for (const name of [...out.keys()]) if (name.toLowerCase().startsWith("x-edge402-")) out.delete(name);
  const cookies = (incoming.get("cookie") ?? "")
    .split(";")
    .map((s) => s.trim())
    .filter((s) => s && !/^rdn-/i.test(s));
  if (cookies.length) out.set("cookie", cookies.join("; "));
  else out.delete("cookie");
  return out;
}

/** The handler that forwards to ORIGIN_URL, keeping the path below `stripPrefix`. */
export function proxyToOrigin(stripPrefix = "") {
  return async (c: Context<{ Bindings: Env }>) => {
    const config = getConfig(c.env);
    if (!config.originUrl) return errorResponse(c, "internal_error", { message: "Proxy mode needs ORIGIN_URL." });
    const incoming = new URL(c.req.url);
    const path = stripPrefix && incoming.pathname.startsWith(stripPrefix) ? incoming.pathname.slice(stripPrefix.length) || "/" : incoming.pathname;
    const target = new URL(path + incoming.search, config.originUrl);
    const headers = forwardHeaders(c.req.raw.headers);
    const paid = c.get("edge402Payment");
    if (paid) {
      headers.set(ORIGIN_HEADERS.sender, paid.sender);
      headers.set(ORIGIN_HEADERS.openBlock, String(paid.openBlock));
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
      return errorResponse(c, "internal_error", { message: `The origin could not be reached: ${err instanceof Error ? err.message : String(err)}` });
    }
    const out = new Headers(res.headers);
    for (const name of HOP_BY_HOP) out.delete(name);
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers: out });
  };
}
