// The protocol's response headers and error bodies, in one place: the terms every priced
// response carries, the channel headers of a paid or refused request, and the JSON error body
// (`{"error": {"code", "message"}}`, one refusal flag, an HTML paywall for browsers on a 402).
import type { Context } from "hono";
import { errorMessages, errorStatus, refusalFlags, type ErrorCode } from "../../protocol/errors.js";
import { GATEWAY_PATH, RdnHeaders } from "../../protocol/headers.js";
import type { ChannelSnapshot } from "../channel/codec.js";
import { getConfig, type Config } from "../config.js";
import { boundedMapPer } from "../bounded-map.js";
import { countRequest } from "../traffic/index.js";
import { pageSettings, paywallPage, type PageSettings } from "./paywall-page.js";

/** How many prices each config's terms cache holds (a dynamic price can take many values). */
const TERMS_CACHE_LIMIT = 1024;
const termsOf = boundedMapPer<Config, bigint, Readonly<Record<string, string>>>(TERMS_CACHE_LIMIT);

/** The terms of a priced route: who to pay, where, and how much this request costs. The
 *  record is shared (cached per config and price, oldest price dropped past the limit):
 *  callers copy it, never change it. */
export function termsHeaders(config: Config, price: bigint): Readonly<Record<string, string>> {
  const byPrice = termsOf(config);
  let terms = byPrice.get(price);
  if (!terms) {
    terms = Object.freeze({
      [RdnHeaders.gatewayPath]: GATEWAY_PATH,
      [RdnHeaders.receiverAddress]: config.receiverAddress,
      [RdnHeaders.contractAddress]: config.contract,
      [RdnHeaders.tokenAddress]: config.token,
      [RdnHeaders.chainId]: String(config.chainId),
      [RdnHeaders.price]: price.toString(),
    });
    byPrice.set(price, terms);
  }
  return terms;
}

/** The channel's state, sent on every paid or refused request that named a channel. */
export function channelHeaders(ch: ChannelSnapshot): Record<string, string> {
  const h: Record<string, string> = {
    [RdnHeaders.senderAddress]: ch.sender,
    [RdnHeaders.openBlock]: String(ch.openBlock),
    [RdnHeaders.senderBalance]: ch.balance.toString(),
    [RdnHeaders.deposit]: ch.deposit.toString(),
    [RdnHeaders.credit]: ch.credit.toString(),
  };
  if (ch.balanceSig) h[RdnHeaders.balanceSignature] = ch.balanceSig;
  return h;
}

/** True when the client prefers an HTML page to JSON (a browser navigating). */
export function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  const html = accept.indexOf("text/html");
  if (html < 0) return false;
  const json = accept.indexOf("application/json");
  return json < 0 || html < json;
}

/** What the 402 page's script needs from the deployment; none (no wallet payment offered) when
 *  the configuration is invalid. */
function browserSettings(c: Context): PageSettings | undefined {
  try {
    return pageSettings(getConfig(c.env));
  } catch {
    return undefined;
  }
}

/**
 * The error response for `code`: the protocol's JSON body (or the HTML paywall for a browser
 * on a 402), its status, its refusal flag if it has one, and any extra headers.
 */
export function errorResponse(
  c: Context,
  code: ErrorCode,
  opts: { message?: string; headers?: Record<string, string>; details?: Record<string, string> } = {},
): Response {
  const status = errorStatus[code];
  const headers = new Headers(opts.headers);
  const flag = refusalFlags[code];
  if (flag) {
    headers.set(flag, "1");
    countRequest(c, { kind: "refused", code });
  }
  const message = opts.message ?? errorMessages[code];
  // A priced route's 402 also speaks x402 (x402/offer.ts).
  if (status === 402) c.get("edge402Offer")?.(code, headers);
  if (status === 402 && prefersHtml(c.req.header("accept"))) {
    headers.set("content-type", "text/html; charset=utf-8");
    // It names the browser's channel (from its session cookie): no shared cache may keep it.
    headers.set("cache-control", "no-store");
    const terms = opts.headers ?? {};
    return new Response(paywallPage({ code, message, url: c.req.url, terms, settings: browserSettings(c) }), {
      status,
      headers,
    });
  }
  headers.set("content-type", "application/json; charset=utf-8");
  const body = { error: { code, message, ...(opts.details ? { details: opts.details } : {}) } };
  return new Response(JSON.stringify(body), { status, headers });
}
