// Reading a payment from a request: the `RDN-*` payment headers, else x402's `PAYMENT-SIGNATURE`
// (x402/payload.ts), else the `RDN-*` names as cookies (a browser's), never a mix, so a stale
// cookie cannot mix into a fresh payment and `RDN-*` headers win over an x402 payload. Only the
// shape is checked here; whether the payment is any good is apply.ts's job (an x402 `channel`
// payment is the same `Payment` and goes through it unchanged) or, for x402 `exact`, the
// facilitator's (x402/exact.ts).
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { parsePaymentHeaders, type Payment } from "../../protocol/codec.js";
import { isProtocolError } from "../../protocol/errors.js";
import { paymentHeaderNames } from "../../protocol/headers.js";
import { X402Headers } from "../../protocol/x402.js";
import { getConfig } from "../config.js";
import { readX402Payment, type X402ChannelPayment, type X402ExactPayment } from "../x402/payload.js";

/** What a request pays with: a channel payment (from `RDN-*` or x402) or an x402 `exact` one. */
export type OfferedPayment = Payment | X402ChannelPayment | X402ExactPayment;

/**
 * The request's payment: from its `RDN-*` headers if it carries any, else from
 * `PAYMENT-SIGNATURE`, else from its cookies; null when it carries none.
 *
 * @throws ProtocolError (`malformed_header`, `malformed_payment_signature` and the like) for a
 *   malformed value.
 */
export function readPayment(c: Context): OfferedPayment | null {
  if (paymentHeaderNames.some((name) => c.req.header(name) !== undefined))
    return parsePaymentHeaders((name) => c.req.header(name));
  const x402 = c.req.header(X402Headers.paymentSignature);
  if (x402 !== undefined) return readX402Payment(x402, getConfig(c.env));
  return parsePaymentHeaders(cookieReader(c));
}

/** `readPayment` for a request that costs nothing: a malformed payment is no payment, and an
 *  x402 `exact` one pays nothing here (its transfer is settled only for a priced request). */
export function quietPayment(c: Context): Payment | null {
  try {
    const payment = readPayment(c);
    return payment?.kind === "exact" ? null : payment;
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
