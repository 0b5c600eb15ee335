// The answers of a paid route: a served request gets the paywall's headers set over the
// handler's own (the terms, the channel, the paid bucket, its cost, a session token, private to
// the payer, and the same token as the browser's session cookie), and a refused one the
// protocol's error with the channel it named.
import type { Context } from "hono";
import type { Address } from "viem";
import { RdnHeaders } from "../../protocol/headers.js";
import type { ChannelSnapshot } from "../channel/codec.js";
import type { Refusal } from "../channel/object.js";
import type { Config } from "../config.js";
import type { FlowStatus } from "../flow/bucket.js";
import { limitedHeaders, rateLimitHeaders } from "../flow/headers.js";
import type { Payer } from "../payment/apply.js";
import { sessionToken } from "../session.js";
import { channelHeaders, errorResponse } from "./responses.js";
import { sessionCookie } from "./session-cookie.js";

/** A paid answer carries a session token and is the payer's alone: no shared cache may keep it. */
export const PRIVATE: Readonly<Record<string, string>> = Object.freeze({ "Cache-Control": "private, no-store" });

/**
 * Makes `res` (the handler's answer, or a rebuilt one) the context's response with `headers`
 * set on it: the paywall's headers win over any of the same name the handler (or a proxied
 * origin) set, so a response can never speak for the paywall. The headers are set in place, so
 * the response is not rebuilt when it is already `c.res` and its headers are mutable; immutable
 * headers (a `fetch` answer) fall back to one rebuild.
 */
export function setResponse(c: Context, res: Response, ...headers: Array<Record<string, string>>): void {
  let target = res;
  try {
    addHeaders(target.headers, headers);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    target = new Response(res.body, res);
    addHeaders(target.headers, headers);
  }
  if (target !== c.res || !c.finalized) c.res = target;
}

/** Later records win over earlier ones, and all of them over the response's own headers. */
function addHeaders(into: Headers, headers: Array<Record<string, string>>): void {
  for (const h of headers) for (const k in h) into.set(k, h[k]!);
}

/** The paid bucket's headers on a channel's answer: the limit state, plus Retry-After on a 429. */
function paidFlowHeaders(flow: FlowStatus | undefined, retryAfterMs: number | undefined): Record<string, string> {
  if (!flow) return {};
  return retryAfterMs !== undefined ? limitedHeaders("paid", flow, retryAfterMs) : rateLimitHeaders("paid", flow);
}

/** A refused paid request: its code, the channel as the object holds it (or as the request
 *  named it) and, over the allowance, the paid bucket's 429 headers. */
export function refusalResponse(
  c: Context,
  result: Refusal,
  who: { sender: Address; openBlock: number },
  limits: Record<string, string>,
): Response {
  const named = result.channel
    ? channelHeaders(result.channel)
    : { [RdnHeaders.senderAddress]: who.sender, [RdnHeaders.openBlock]: String(who.openBlock) };
  const flowHeaders = paidFlowHeaders(
    result.flow,
    result.code === "rate_limited" ? (result.retryAfterMs ?? 1000) : undefined,
  );
  return errorResponse(c, result.code, {
    message: result.message,
    headers: { ...limits, ...named, ...flowHeaders, ...result.headers },
  });
}

/** A served paid request's headers: the terms, the channel, the paid bucket, its cost (unless
 *  not known yet: a metered stream reports it at its end) and a session token (the one it came
 *  with while fresh), private to the payer. */
export async function answerPaid(
  c: Context,
  config: Config,
  who: Pick<Payer, "sender" | "openBlock" | "presented">,
  served: { res: Response; cost?: bigint; channel: ChannelSnapshot; flow: FlowStatus | undefined },
  limits: Record<string, string>,
): Promise<void> {
  const session = await sessionToken(config.sessionSecret, who, config.sessionTtlSeconds, who.presented);
  const cost: Record<string, string> = served.cost === undefined ? {} : { [RdnHeaders.cost]: served.cost.toString() };
  setResponse(c, served.res, limits, channelHeaders(served.channel), paidFlowHeaders(served.flow, undefined), PRIVATE, {
    ...cost,
    [RdnHeaders.session]: session,
  });
  // The browser's session cookie too; appended, not set, so the handler's own cookies stay.
  c.res.headers.append("Set-Cookie", sessionCookie(session, c.req.url));
}
