// The paywall middleware: `app.get("/weather/:city", paywall({ price: 5n }), handler)`.
//
// Per request it prices the route, parses the payment headers (or cookies), verifies a fresh
// proof's signature statelessly here in the Worker, and only then asks the channel's object to
// apply it (one RPC: flow check, compare, write, answer). A session token spends credit instead.
// Refusals answer before the handler runs and change nothing; a served request gets the terms,
// the channel's state, its cost and a fresh session token. A metered route reserves its maximum,
// serves, then is charged the measured cost and the rest returns to credit; a reservation never
// settled (the Worker died mid-request) expires after the route's longest serving time.
//
// Every route is flow-controlled (src/worker/flow): a free request (price 0), and a trial
// route's request during the client's trial, take from the client's free bucket in its
// FlowObject (keyed by IP); a paid request takes from its channel's bucket inside the same
// ChannelObject call that takes the payment. Paying clients are priority clients everywhere:
// a free or trial request with a valid session or an accepted proof takes from its channel's
// bucket, at price 0 (priorityPayer). Over the allowance: 429 with Retry-After.
import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import type { Address, Hex } from "viem";
import { parsePaymentHeaders, type Payment } from "../protocol/codec.js";
import { isProtocolError } from "../protocol/errors.js";
import { paymentHeaderNames, RdnHeaders } from "../protocol/headers.js";
import { verifyBalanceProof } from "../protocol/verify.js";
import { channelStub } from "./channel/stub.js";
import type { ChannelSnapshot } from "./channel/codec.js";
import type { PayResult } from "./channel/object.js";
import { DEFAULT_MAX_SERVING_MS } from "./channel/state.js";
import { getConfig, type Config } from "./config.js";
import type { Env } from "./env.js";
import type { FlowCharge, FlowStatus } from "./flow/bucket.js";
import { limitedHeaders, policyHeader, rateLimitHeaders, trialHeader } from "./flow/headers.js";
import { flowStub } from "./flow/stub.js";
import { channelHeaders, errorResponse, termsHeaders } from "./http/responses.js";
import { sessionCookie } from "./http/session-cookie.js";
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
  /** The longest a request is served, in ms: its reservation of `maxPrice` ends this long (plus
   *  RESERVATION_MARGIN_MS) after it was taken, charged at `maxPrice`, if no settle came. Default:
   *  the serving time whose charge reaches `maxPrice` (`maxPrice / perMs`, so expiring costs
   *  nothing the meter would not have charged), at most MAX_DERIVED_SERVING_MS; with `perMs` 0,
   *  DEFAULT_MAX_SERVING_MS. */
  maxServingMs?: number;
};

/** The cap of a metered route's derived longest serving time (an hour). */
export const MAX_DERIVED_SERVING_MS = 3_600_000;

/** How long a metered route's request may be served before its reservation expires (see
 *  MeterOptions.maxServingMs). */
export function maxServingMs(meter: MeterOptions & { maxPrice: Amount }): number {
  if (meter.maxServingMs !== undefined) return meter.maxServingMs;
  const perMs = meter.perMs ?? 1;
  if (!(perMs > 0)) return DEFAULT_MAX_SERVING_MS;
  return Math.min(Math.ceil(Number(toAmount(meter.maxPrice, "metered.maxPrice")) / perMs), MAX_DERIVED_SERVING_MS);
}

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
  const n =
    typeof v === "bigint" ? v : typeof v === "number" ? BigInt(v) : /^(0|[1-9][0-9]*)$/.test(v) ? BigInt(v) : NaN;
  if (typeof n !== "bigint" || n < 0n)
    throw new Error(`edge402: ${what} must be a non-negative integer amount, got ${String(v)}`);
  return n;
}

/** The price of this request (for a metered route, its maximum). */
export async function resolvePrice(opts: PaywallOptions, c: Context): Promise<bigint> {
  if (opts.metered) return toAmount(opts.metered.maxPrice, "metered.maxPrice");
  const p = typeof opts.price === "function" ? await opts.price(c) : (opts.price ?? 0n);
  return toAmount(p, "price");
}

/**
 * Makes `res` (the handler's answer, or a rebuilt one) the context's response with `headers`
 * set on it: the paywall's headers win over any of the same name the handler (or a proxied
 * origin) set, so a response can never speak for the paywall. The headers are set in place, so
 * the response is not rebuilt when it is already `c.res` and its headers are mutable; immutable
 * headers (a `fetch` answer) fall back to one rebuild.
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

/** Later records win over earlier ones, and all of them over the response's own headers. */
function addHeaders(into: Headers, headers: Array<Record<string, string>>): void {
  for (const h of headers) for (const k in h) into.set(k, h[k]!);
}

/** The value of each cookie of the request (the Cookie header parsed once). */
function cookieReader(c: Context): (name: string) => string | undefined {
  let jar: Record<string, string> | undefined;
  return (name) => {
    jar ??= getCookie(c);
    return jar[name];
  };
}

/** The measured cost of a served metered request, uncapped (the channel caps it at the
 *  reservation), with the response rebuilt from its buffered body. */
export async function measuredCost(
  meter: MeterOptions,
  startedAt: number,
  res: Response,
): Promise<{ cost: bigint; res: Response }> {
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

/** A paid answer carries a session token and is the payer's alone: no shared cache may keep it. */
const PRIVATE: Readonly<Record<string, string>> = Object.freeze({ "Cache-Control": "private, no-store" });

function nonNegative(v: number | undefined, what: string): void {
  if (v !== undefined && !(Number.isFinite(v) && v >= 0))
    throw new Error(`edge402: ${what} must be a finite number >= 0, got ${String(v)}`);
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
    nonNegative(opts.metered.maxServingMs, "metered.maxServingMs");
  }
  const reserveMs = opts.metered ? maxServingMs(opts.metered) : undefined;
  const costUnits = opts.costUnits ?? 1;
  if (!(Number.isFinite(costUnits) && costUnits > 0))
    throw new Error(`edge402: costUnits must be a positive number, got ${String(opts.costUnits)}`);

  return async (c, next) => {
    const config = getConfig(c.env);
    const price = await resolvePrice(opts, c);
    const terms = termsHeaders(config, price);

    const flow = config.flowControl ? { capacity: config.paidCapacity, cost: costUnits } : undefined;
    // A free request, or a trial route's: the client's free allowance and trial (FlowObject),
    // unless a paying client sent it (see priorityPayer): it is charged to its channel's bucket.
    const trial = opts.trial === true && price > 0n;
    let trialHeaders: Record<string, string> = {};
    if (price === 0n || trial) {
      if (!flow && !trial) {
        await next();
        setResponse(c, c.res, terms);
        return;
      }
      const free = {
        capacity: config.freeCapacity,
        cost: costUnits,
        trialSeconds: trial ? config.trialSeconds : undefined,
      };
      const offered = flow ? quietPayment(c) : null;
      let unpriced = true;
      if (offered) {
        if (trial) {
          // A payer's free bucket is not charged: only its trial is looked at.
          const t = await flowStub(c.env, config, c.req.raw).admit({ ...free, limit: false });
          trialHeaders = trialHeader(t.trialRemainingMs ?? 0);
          unpriced = t.ok;
        }
        const payer = unpriced ? await priorityPayer(c.env, config, offered, flow!) : null;
        if (payer) {
          const limits = { ...terms, ...trialHeaders, ...policyHeader("paid", flow!.capacity) };
          const { who, result } = payer;
          if (!result.ok) return refusal(c, result, who, limits);
          c.set("edge402Payment", { sender: who.sender, openBlock: who.openBlock, cost: 0n, kind: who.kind });
          await next();
          await answerPaid(c, config, who, c.res, 0n, result.channel, result.flow, limits);
          return;
        }
      }
      if (unpriced) {
        const answer = await flowStub(c.env, config, c.req.raw).admit({ ...free, limit: config.flowControl });
        if (answer.trialRemainingMs !== undefined) trialHeaders = trialHeader(answer.trialRemainingMs);
        if (!answer.ok && answer.reason === "rate_limited") {
          return errorResponse(c, "rate_limited", {
            headers: { ...terms, ...trialHeaders, ...limitedHeaders("free", answer.status, answer.retryAfterMs) },
          });
        }
        if (answer.ok) {
          // Free, or inside the trial, for a client that is not paying: the free share.
          await next();
          setResponse(c, c.res, terms, trialHeaders, answer.status ? rateLimitHeaders("free", answer.status) : {});
          return;
        }
      }
      // The trial is over: this request is priced like any other.
    }

    const limits = { ...terms, ...trialHeaders, ...(flow ? policyHeader("paid", flow.capacity) : {}) };
    let payment: Payment | null;
    try {
      payment = readPayment(c);
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
        return errorResponse(c, "invalid_balance_proof", {
          headers: { ...limits, ...(held ? channelHeaders(held) : named) },
        });
      }
      const proof = {
        sender,
        openBlock,
        balance: payment.balance,
        signature: payment.signature,
        price,
        reserveId,
        reserveMs,
        flow,
      };
      result = await withLookup(
        c.env,
        config,
        c.req.raw,
        sender,
        openBlock,
        (learned) => channelStub(c.env, sender, openBlock).pay({ ...proof, learned }) as Promise<PayResult>,
      );
    } else {
      const claims = await verifySession(config.sessionSecret, payment.token);
      if (!claims) return errorResponse(c, "invalid_session", { headers: limits });
      ({ sender, openBlock } = claims);
      presented = { token: payment.token, expiresAt: claims.expiresAt };
      const spend = { sender, openBlock, price, reserveId, reserveMs, flow };
      result = await withLookup(
        c.env,
        config,
        c.req.raw,
        sender,
        openBlock,
        (learned) => channelStub(c.env, sender, openBlock).spend({ ...spend, learned }) as Promise<PayResult>,
      );
    }
    if (!result.ok) return refusal(c, result, { sender, openBlock }, limits);

    c.set("edge402Payment", { sender, openBlock, cost: result.cost, kind: payment.kind });
    const startedAt = Date.now();
    await next();
    let { cost, channel } = result;
    let res = c.res;
    if (opts.metered && reserveId) {
      ({ cost, channel, res } = await settleMetered(
        c.env,
        { sender, openBlock },
        reserveId,
        result.cost,
        opts.metered,
        startedAt,
        res,
      ));
    }
    await answerPaid(c, config, { sender, openBlock, presented }, res, cost, channel, result.flow, limits);
  };
}

/** The payer of a request, as its payment named it (`presented`: the session token it spent). */
type Payer = {
  sender: Address;
  openBlock: number;
  kind: "proof" | "session";
  presented?: { token: string; expiresAt: number };
};

/** The request's payment: from its headers if it carries any payment header, else from its
 *  cookies (never a mix, so a stale cookie cannot mix into a fresh payment); null when none.
 *  Throws the codec's ProtocolError for malformed values. */
function readPayment(c: Context): Payment | null {
  const fromHeaders = paymentHeaderNames.some((name) => c.req.header(name) !== undefined);
  return parsePaymentHeaders(fromHeaders ? (name) => c.req.header(name) : cookieReader(c));
}

/** `readPayment` for a request that costs nothing: a malformed payment is no payment. */
function quietPayment(c: Context): Payment | null {
  try {
    return readPayment(c);
  } catch (err) {
    if (isProtocolError(err)) return null;
    throw err;
  }
}

/**
 * Paying clients are priority clients on every route (PROTOCOL.md, flow control): a request
 * that costs nothing (a free route, a trial route in the client's trial) and carries a valid
 * session, or a proof its channel accepts at price 0 (the surplus becomes credit), is charged to
 * the channel's bucket at PAID_CAPACITY. Null when it is no payer's request: a bad signature, an
 * invalid or expired session, a channel that does not serve, or one this server never met (a
 * proof does not make a free request learn a channel from the chain; it pays a priced route
 * first). Such a request is served from the free share like any stranger's, never refused.
 */
async function priorityPayer(
  env: Env,
  config: Config,
  payment: Payment,
  flow: FlowCharge,
): Promise<{ who: Payer; result: PayResult } | null> {
  let who: Payer;
  let result: PayResult;
  if (payment.kind === "proof") {
    if (!(await proofIsValid(config, payment))) return null;
    who = { sender: payment.sender, openBlock: payment.openBlock, kind: "proof" };
    const { balance, signature } = payment;
    result = await channelStub(env, who.sender, who.openBlock).pay({
      ...who,
      balance,
      signature,
      price: 0n,
      flow,
      knownOnly: true,
    });
  } else {
    const claims = await verifySession(config.sessionSecret, payment.token);
    if (!claims) return null;
    who = {
      sender: claims.sender,
      openBlock: claims.openBlock,
      kind: "session",
      presented: { token: payment.token, expiresAt: claims.expiresAt },
    };
    result = await channelStub(env, who.sender, who.openBlock).chargeCapacity({
      sender: who.sender,
      openBlock: who.openBlock,
      price: 0n,
      flow,
    });
  }
  return result.ok || result.code === "rate_limited" ? { who, result } : null;
}

/** A refused paid request: its code, the channel as the object holds it (or as the request
 *  named it) and, over the allowance, the paid bucket's 429 headers. */
function refusal(
  c: Context,
  result: PayResult & { ok: false },
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

/** A served paid request's headers: the terms, the channel, the paid bucket, its cost and a
 *  session token (the one it came with while fresh, also as the browser's session cookie),
 *  private to the payer. */
async function answerPaid(
  c: Context,
  config: Config,
  who: Pick<Payer, "sender" | "openBlock" | "presented">,
  res: Response,
  cost: bigint,
  channel: ChannelSnapshot,
  flow: FlowStatus | undefined,
  limits: Record<string, string>,
): Promise<void> {
  const session = await sessionToken(config.sessionSecret, who, config.sessionTtlSeconds, who.presented);
  setResponse(c, res, limits, channelHeaders(channel), paidFlowHeaders(flow, undefined), PRIVATE, {
    [RdnHeaders.cost]: cost.toString(),
    [RdnHeaders.session]: session,
  });
  // Appended, not set: the handler's own cookies stay.
  c.res.headers.append("Set-Cookie", sessionCookie(session, c.req.url));
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
  if (!settled.ok || !settled.channel)
    throw new Error(`edge402: settling a metered request failed (${settled.ok ? "no channel" : settled.code})`);
  return { cost: capped, channel: settled.channel, res: measured.res };
}

async function proofIsValid(
  config: Config,
  p: { sender: Address; openBlock: number; balance: bigint; signature: Hex },
) {
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
