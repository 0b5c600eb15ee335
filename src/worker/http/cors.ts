// CORS for the paywall's routes, so that a web app on another origin can pay with headers and
// read the answer's payment headers: Hono's `cors` middleware with the origins of CORS_ORIGINS
// (`*` or a list; unset: no CORS headers at all), the request headers a payment or a close sends,
// and every `RDN-*`, x402 `PAYMENT-*` and flow-control header a response carries, exposed to
// scripts on real answers (402s and 429s included). Preflights are answered before the paywall,
// so they cost nothing and change nothing.
//
// No `Access-Control-Allow-Credentials`, ever: cross-origin clients pay with headers (their own
// proofs or `RDN-Session` token), never with a browser's cookies. The `RDN-Session` cookie belongs
// to the paywall's own origin (the 402 page is same-origin), and allowing credentials would let
// a listed origin's scripts spend a reader's prepaid credit and read what it bought.
import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { RdnFlags, RdnHeaders } from "../../protocol/headers.js";
import { getConfig, type Config } from "../config.js";
import type { Env } from "../env.js";
import { FlowHeaders } from "../flow/headers.js";

/** x402's headers: the client's payment, the server's terms (on a 402) and settlement receipt. */
const X402_HEADERS = { signature: "PAYMENT-SIGNATURE", required: "PAYMENT-REQUIRED", response: "PAYMENT-RESPONSE" };

/** What a cross-origin script may send: a payment, a session, a close request, admin's bearer. */
export const CORS_ALLOW_HEADERS = [
  "Content-Type",
  "Authorization",
  RdnHeaders.senderAddress,
  RdnHeaders.openBlock,
  RdnHeaders.balance,
  RdnHeaders.balanceSignature,
  RdnHeaders.session,
  RdnHeaders.closeSignature,
  RdnHeaders.closeDeadline,
  X402_HEADERS.signature,
];

/** What a cross-origin script may read: the terms, the channel's state, the refusal flags, the
 *  flow-control state and x402's terms and receipt. */
export const CORS_EXPOSE_HEADERS = [
  RdnHeaders.gatewayPath,
  RdnHeaders.receiverAddress,
  RdnHeaders.contractAddress,
  RdnHeaders.tokenAddress,
  RdnHeaders.chainId,
  RdnHeaders.price,
  RdnHeaders.senderAddress,
  RdnHeaders.openBlock,
  RdnHeaders.senderBalance,
  RdnHeaders.balanceSignature,
  RdnHeaders.deposit,
  RdnHeaders.credit,
  RdnHeaders.cost,
  RdnHeaders.session,
  ...Object.values(RdnFlags),
  ...Object.values(FlowHeaders),
  X402_HEADERS.required,
  X402_HEADERS.response,
  "WWW-Authenticate",
];

/** How long a browser may cache a preflight's answer, in seconds. */
const PREFLIGHT_MAX_AGE = 600;

/** Hono's middleware for each config (one per isolate), made on its first request. */
const middlewareOf = new WeakMap<Config, MiddlewareHandler>();

/**
 * CORS for the routes it is mounted on, by the deployment's CORS_ORIGINS: preflights answered
 * (204) and the payment headers exposed; with CORS_ORIGINS unset it adds nothing.
 *
 * @example
 * ```ts
 * app.use("/weather/*", paymentCors());
 * app.get("/weather/:city", paywall({ price: 5n }), handler);
 * ```
 */
export function paymentCors(): MiddlewareHandler<{ Bindings: Env }> {
  return async (c, next) => {
    const config = getConfig(c.env);
    if (config.corsOrigins !== "*" && config.corsOrigins.length === 0) return next();
    let middleware = middlewareOf.get(config);
    if (!middleware) {
      middleware = cors({
        origin: config.corsOrigins,
        allowHeaders: CORS_ALLOW_HEADERS,
        exposeHeaders: CORS_EXPOSE_HEADERS,
        maxAge: PREFLIGHT_MAX_AGE,
        credentials: false,
      });
      middlewareOf.set(config, middleware);
    }
    return middleware(c, next);
  };
}
