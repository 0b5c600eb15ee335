// Following a redirect the way fetch would, but never with payment: a payment is for one URL, so
// the next hop drops the payment headers (and, across origins, the credentials fetch drops), and
// a priced target is paid, if at all, through its own 402 and the budgets.
import { paymentHeaderNames } from "../protocol/headers.js";
import type { RequestTemplate } from "./request.js";

export const MAX_REDIRECTS = 20;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const BODY_HEADERS = ["content-type", "content-length", "content-encoding", "content-language", "content-location"];
const CREDENTIAL_HEADERS = ["authorization", "proxy-authorization", "cookie"];
const PAYMENT_HEADERS = [...paymentHeaderNames, "payment-signature"];

/** True for a response that redirects (a status fetch follows). */
export function isRedirect(res: Response): boolean {
  return REDIRECT_STATUSES.has(res.status);
}

/**
 * The request a redirect leads to, or null when it names no target (the response is then the
 * answer). A 303 (or a 301/302 after a POST) becomes a GET without its body, as in fetch.
 * Throws a TypeError, as fetch does, for a target that is not an http(s) URL.
 */
export function nextHop(req: RequestTemplate, res: Response): RequestTemplate | null {
  const location = res.headers.get("location");
  if (location === null) return null;
  let target: URL;
  try {
    target = new URL(location, req.url);
  } catch (err) {
    throw new TypeError(`fetch failed: the redirect to ${location} is not a URL`, { cause: err });
  }
  if (target.protocol !== "http:" && target.protocol !== "https:") {
    throw new TypeError(`fetch failed: refusing to follow a redirect to ${target.protocol} URL`);
  }
  const headers = req.headerList;
  for (const name of PAYMENT_HEADERS) headers.delete(name);
  if (target.origin !== new URL(req.url).origin) for (const name of CREDENTIAL_HEADERS) headers.delete(name);
  const toGet =
    (res.status === 303 && req.method !== "GET" && req.method !== "HEAD") ||
    ((res.status === 301 || res.status === 302) && req.method === "POST");
  if (toGet) for (const name of BODY_HEADERS) headers.delete(name);
  return req.derive(target.href, toGet ? "GET" : req.method, headers, !toGet && req.hasBody);
}
