// Reading a payment from a request: the `RDN-*` payment headers, or the same names as cookies
// (a browser's), never a mix, so a stale cookie cannot mix into a fresh payment. Only the shape
// is checked here; whether the payment is any good is apply.ts's job.
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { parsePaymentHeaders, type Payment } from "../../protocol/codec.js";
import { isProtocolError } from "../../protocol/errors.js";
import { paymentHeaderNames } from "../../protocol/headers.js";

/**
 * The request's payment: from its headers if it carries any payment header, else from its
 * cookies; null when it carries none.
 *
 * @throws ProtocolError (`malformed_header` and the like) for a malformed value.
 */
export function readPayment(c: Context): Payment | null {
  const fromHeaders = paymentHeaderNames.some((name) => c.req.header(name) !== undefined);
  return parsePaymentHeaders(fromHeaders ? (name) => c.req.header(name) : cookieReader(c));
}

/** `readPayment` for a request that costs nothing: a malformed payment is no payment. */
export function quietPayment(c: Context): Payment | null {
  try {
    return readPayment(c);
  } catch (err) {
    if (isProtocolError(err)) return null;
    throw err;
  }
}

/** The value of each cookie of the request (the Cookie header parsed once). */
function cookieReader(c: Context): (name: string) => string | undefined {
  let jar: Record<string, string> | undefined;
  return (name) => {
    jar ??= getCookie(c);
    return jar[name];
  };
}
