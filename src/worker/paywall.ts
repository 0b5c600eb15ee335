// The paywall middleware: `app.get("/weather/:city", paywall({ price: 5n }), handler)`.
//
// Per request it prices the route, parses the payment headers (or cookies), verifies a fresh
// proof's signature statelessly here in the Worker, and only then asks the channel's object to
// apply it (one RPC: flow check, compare, write, answer). A session token spends credit instead.
// Refusals answer before the handler runs and change nothing; a served request gets the terms,
// the channel's state, its cost and a fresh session token. A metered route reserves its maximum,
// serves, then is charged the measured cost and the rest returns to credit.
//
// Every route is flow-controlled (src/worker/flow): a free request (price 0), and a trial
// route's request during the client's trial, take from the client's free bucket in its
// FlowObject (keyed by IP); a paid request takes from its channel's bucket inside the same
// ChannelObject call that takes the payment. Over the allowance: 429 with Retry-After.
import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import type { Address, Hex } from "viem";
import { parsePaymentHeaders } from "../protocol/codec.js";
import { isProtocolError } from "../protocol/errors.js";
import { paymentHeaderNames, RdnHeaders } from "../protocol/headers.js";
import { verifyBalanceProof } from "../protocol/verify.js";
import { channelStub } from "./channel/stub.js";
import type { ChannelSnapshot } from "./channel/codec.js";
import type { PayResult } from "./channel/object.js";
import { getConfig, type Config, type Env } from "./config.js";
import type { FlowStatus } from "./flow/bucket.js";
import { limitedHeaders, policyHeader, rateLimitHeaders, trialHeader } from "./flow/headers.js";
import { flowStub } from "./flow/stub.js";
import { channelHeaders, errorResponse, termsHeaders } from "./http/responses.js";
import { withLookup } from "./lookup/learn.js";
import { sessionToken, verifySession } from "./session.js";

type Amount = bigint | number | string;

/** A metered route's charge: max(serving ms × perMs, response KiB × perKiB), rounded up,
 *  never above `maxPrice`. Serving time runs from the handler's start until its whole body is
 *  produced (a metered response is buffered, so its cost is known before its headers go out). */
export type MeterOptions = {
  /** Token base units charged per millisecond of serving time (default 1). */
  perMs?: number;
  /** Token base units charged per KiB (1024 bytes) of response body (default 0). */
  perKiB?: number;
};

export type PaywallOptions = {
  /** A fixed price, or a function of the request (a dynamic price). Ignored when metered. */
  price?: Amount | ((c: Context) => Amount | Promise<Amount>);
  /** A metered route: reserves `maxPrice`, then charges the measured cost, never more. */
  metered?: MeterOptions & { maxPrice: Amount };
  /** A trial route: free to a new client for TRIAL_SECONDS, then priced. */
  trial?: boolean;
  /** Flow-control cost units of one request (default 1). */
  costUnits?: number;
  /** One line for the pricing announcement. */
  description?: string;
};

export type PricingMode = "fixed" | "dynamic" | "metered";

export function pricingMode(opts: PaywallOptions): PricingMode {
  if (opts.metered) return "metered";
  return typeof opts.price === "function" ? "dynamic" : "fixed";
}

/** What the paywall tells downstream handlers (and the origin, in proxy mode) about the payer. */
export type PaymentInfo = { sender: Address; openBlock: number; cost: bigint; kind: "proof" | "session" };

declare module "hono" {
  interface ContextVariableMap {
    edge402Payment?: PaymentInfo;
  }
}

function toAmount(v: Amount, what: string): bigint {
  const n = typeof v === "bigint" ? v : typeof v === "number" ? BigInt(v) : /^(0|[1-9][0-9]*)$/.test(v) ? BigInt(v) : NaN;
  if (typeof n !== "bigint" || n < 0n) throw new Error(`edge402: ${what} must be a non-negative integer amount, got ${String(v)}`);
  return n;
}

/** The price of this request (for a metered route, its maximum). */
export async function resolvePrice(opts: PaywallOptions, c: Context): Promise<bigint> {
  if (opts.metered) return toAmount(opts.metered.maxPrice, "metered.maxPrice");
  const p = typeof opts.price === "function" ? await opts.price(c) : opts.price ?? 0n;
  return toAmount(p, "price");
}

/**
 * Makes `res` (the handler's answer, or a rebuilt one) the context's response with `headers`
 * added; a header the response already carries keeps its value, exactly as assigning a rebuilt
 * response to `c.res` did (Hono copies the previous response's headers over the new one). The
 * headers are set in place, so the response is not rebuilt when it is already `c.res` and its
 * headers are mutable; immutable headers (a `fetch` answer) fall back to one rebuild.
 */
function setResponse(c: Context, res: Response, ...headers: Array<Record<string, string>>): void {
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

/** Later records win over earlier ones, and the response's own headers over all of them. */
function addHeaders(into: Headers, headers: Array<Record<string, string>>): void {
  for (let i = headers.length - 1; i >= 0; i--) {
    const h = headers[i]!;
    for (const k in h) if (!into.has(k)) into.set(k, h[k]!);
  }
}

/** The value of each cookie of the request (the Cookie header parsed once). */
function cookieReader(c: Context): (name: string) => string | undefined {
  let jar: Record<string, string> | undefined;
  return (name) => (jar ??= getCookie(c))[name];
}

/** The measured cost of a served metered request, uncapped (the channel caps it at the
 *  reservation), with the response rebuilt from its buffered body. */
export async function measuredCost(meter: MeterOptions, startedAt: number, res: Response): Promise<{ cost: bigint; res: Response }> {
  const perMs = meter.perMs ?? 1;
  const perKiB = meter.perKiB ?? 0;
  let bytes = 0;
  if (res.body) {
    const body = await res.arrayBuffer();
    bytes = body.byteLength;
    res = new Response(body, res);
  }
  const ms = Math.max(0, Date.now() - startedAt);
  const cost = Math.ceil(Math.max(ms * perMs, (bytes / 1024) * perKiB));
  return { cost: BigInt(cost), res };
}

function nonNegative(v: number | undefined, what: string): void {
  if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new Error(`edge402: ${what} must be a finite number >= 0, got ${String(v)}`);
}

/** The paid bucket's headers on a channel's answer: the limit state, plus Retry-After on a 429. */
function paidFlowHeaders(flow: FlowStatus | undefined, retryAfterMs: number | undefined): Record<string, string> {
  if (!flow) return {};
  return retryAfterMs !== undefined ? limitedHeaders("paid", flow, retryAfterMs) : rateLimitHeaders("paid", flow);
}

export function paywall(opts: PaywallOptions): MiddlewareHandler<{ Bindings: Env }> {
  // Validate a fixed price at start-up rather than on the first request.
  if (typeof opts.price !== "function" && opts.price !== undefined) toAmount(opts.price, "price");
  if (opts.metered) {
    toAmount(opts.metered.maxPrice, "metered.maxPrice");
    nonNegative(opts.metered.perMs, "metered.perMs");
    nonNegative(opts.metered.perKiB, "metered.perKiB");
  }
  const costUnits = opts.costUnits ?? 1;
  if (!(Number.isFinite(costUnits) && costUnits > 0)) throw new Error(`edge402: costUnits must be a positive number, got ${String(opts.costUnits)}`);

  return async (c, next) => {
    const config = getConfig(c.env);
    const price = await resolvePrice(opts, c);
    const terms = termsHeaders(config, price);

    // A free request, or a trial route's: the client's free allowance and trial (FlowObject).
    const trial = opts.trial === true && price > 0n;
    let trialHeaders: Record<string, string> = {};
    if (price === 0n || trial) {
      if (!config.flowControl && !trial) {
        await next();
        setResponse(c, c.res, terms);
        return;
      }
      const answer = await flowStub(c.env, config, c.req.raw).admit({
        capacity: config.freeCapacity,
        cost: costUnits,
        limit: config.flowControl,
        trialSeconds: trial ? config.trialSeconds : undefined,
      });
      if (answer.trialRemainingMs !== undefined) trialHeaders = trialHeader(answer.trialRemainingMs);
      if (!answer.ok && answer.reason === "rate_limited") {
        return errorResponse(c, "rate_limited", { headers: { ...terms, ...trialHeaders, ...limitedHeaders("free", answer.status, answer.retryAfterMs) } });
      }
      if (answer.ok) {
        // Free, or inside the trial: served without payment (payment headers are not looked at).
        await next();
        setResponse(c, c.res, terms, trialHeaders, answer.status ? rateLimitHeaders("free", answer.status) : {});
        return;
      }
      // The trial is over: this request is priced like any other.
    }

    const flow = config.flowControl ? { capacity: config.paidCapacity, cost: costUnits } : undefined;
    const limits = { ...terms, ...trialHeaders, ...(flow ? policyHeader("paid", flow.capacity) : {}) };
    let payment;
    try {
      // Headers win over cookies as a whole: a request that carries any payment header is read
      // from its headers only, so a stale cookie can never mix into a fresh payment.
      const fromHeaders = paymentHeaderNames.some((name) => c.req.header(name) !== undefined);
      payment = parsePaymentHeaders(fromHeaders ? (name) => c.req.header(name) : cookieReader(c));
    } catch (err) {
      if (!isProtocolError(err)) throw err;
      return errorResponse(c, err.code, { message: err.message, details: err.details, headers: limits });
    }
    if (!payment) return errorResponse(c, "payment_required", { headers: limits });

    const reserveId = opts.metered ? crypto.randomUUID() : undefined;
    let sender: Address;
    let openBlock: number;
    let result: PayResult;
    let presented: { token: string; expiresAt: number } | undefined;
    if (payment.kind === "proof") {
      ({ sender, openBlock } = payment);
      const named = { [RdnHeaders.senderAddress]: sender, [RdnHeaders.openBlock]: String(openBlock) };
      if (!(await proofIsValid(config, payment))) {
        // Refused before any state is touched; a read-only look tells the client what we hold.
        const held = await channelStub(c.env, sender, openBlock).peek();
        return errorResponse(c, "invalid_balance_proof", { headers: { ...limits, ...(held ? channelHeaders(held) : named) } });
      }
      const proof = { sender, openBlock, balance: payment.balance, signature: payment.signature, price, reserveId, flow };
      result = await withLookup(c.env, config, c.req.raw, sender, openBlock, (learned) => channelStub(c.env, sender, openBlock).pay({ ...proof, learned }) as Promise<PayResult>);
    } else {
      const claims = await verifySession(config.sessionSecret, payment.token);
      if (!claims) return errorResponse(c, "invalid_session", { headers: limits });
      ({ sender, openBlock } = claims);
      presented = { token: payment.token, expiresAt: claims.expiresAt };
      const spend = { sender, openBlock, price, reserveId, flow };
      result = await withLookup(c.env, config, c.req.raw, sender, openBlock, (learned) => channelStub(c.env, sender, openBlock).spend({ ...spend, learned }) as Promise<PayResult>);
    }
    if (!result.ok) {
      const named = result.channel
        ? channelHeaders(result.channel)
        : { [RdnHeaders.senderAddress]: sender, [RdnHeaders.openBlock]: String(openBlock) };
      const flowHeaders = paidFlowHeaders(result.flow, result.code === "rate_limited" ? (result.retryAfterMs ?? 1000) : undefined);
      return errorResponse(c, result.code, { message: result.message, headers: { ...limits, ...named, ...flowHeaders, ...result.headers } });
    }

    c.set("edge402Payment", { sender, openBlock, cost: result.cost, kind: payment.kind });
    const startedAt = Date.now();
    await next();
    let { cost, channel } = result;
    let res = c.res;
    if (opts.metered && reserveId) {
      ({ cost, channel, res } = await settleMetered(c.env, { sender, openBlock }, reserveId, result.cost, opts.metered, startedAt, res));
    }
    const session = await sessionToken(config.sessionSecret, { sender, openBlock }, config.sessionTtlSeconds, presented);
    setResponse(c, res, limits, channelHeaders(channel), paidFlowHeaders(result.flow, undefined), {
      [RdnHeaders.cost]: cost.toString(),
      [RdnHeaders.session]: session,
    });
  };
}

/**
 * Charges a served metered request its measured cost (0 for a failed serve, 5xx) and frees the
 * rest of the reservation. The settle is retried once if the call to the object fails; a
 * settle that already landed is idempotent (an unknown reservation changes nothing), so the
 * cost reported is computed here, capped exactly as the object caps it.
 */
async function settleMetered(
  env: Env,
  ch: { sender: Address; openBlock: number },
  reserveId: string,
  reserved: bigint,
  meter: MeterOptions,
  startedAt: number,
  served: Response,
): Promise<{ cost: bigint; channel: ChannelSnapshot; res: Response }> {
  const stub = () => channelStub(env, ch.sender, ch.openBlock);
  let measured: { cost: bigint; res: Response };
  try {
    measured = await measuredCost(meter, startedAt, served);
  } catch (err) {
    // The body failed while being produced: nothing usable was served, nothing is charged.
    await stub().settle(reserveId, 0n);
    throw err;
  }
  const charge = measured.res.status >= 500 ? 0n : measured.cost;
  const capped = charge > reserved ? reserved : charge;
  let settled: PayResult;
  try {
    settled = await stub().settle(reserveId, charge);
  } catch {
    settled = await stub().settle(reserveId, charge);
  }
  if (!settled.ok || !settled.channel) throw new Error(`edge402: settling a metered request failed (${settled.ok ? "no channel" : settled.code})`);
  return { cost: capped, channel: settled.channel, res: measured.res };
}

async function proofIsValid(config: Config, p: { sender: Address; openBlock: number; balance: bigint; signature: Hex }) {
  try {
    return await verifyBalanceProof({
      chainId: config.chainId,
      contract: config.contract,
      receiver: config.receiverAddress,
      openBlock: p.openBlock,
      balance: p.balance,
      signature: p.signature,
      sender: p.sender,
    });
  } catch (err) {
    if (isProtocolError(err)) return false;
    throw err;
  }
}
