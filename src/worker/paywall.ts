// The paywall middleware. A request goes through named steps, each its own function: the terms
// (price, flow control), the unpriced step (a free route, or a trial route in the client's
// trial: the free allowance, or the channel's bucket for a paying client), then the paid step
// (read the payment, verify and apply it to the channel, serve, settle a metered reservation,
// answer with the channel's headers and a session token). Reading and applying a payment live
// in payment/, so other carriers of a payment can reuse them: x402's `PAYMENT-SIGNATURE` is
// read there too, and a `channel` payment goes on as any other, its answer adding x402's
// receipt; an `exact` payment is x402/exact.ts's. Every 402 also carries the route's x402 offer
// (x402/offer.ts). Refusals answer before the handler runs and change nothing.
import type { Context, MiddlewareHandler, Next } from "hono";
import type { Address } from "viem";
import { isProtocolError } from "../protocol/errors.js";
import type { PayResult } from "./channel/object.js";
import { channelStub } from "./channel/stub.js";
import { getConfig, type Config } from "./config.js";
import type { Env } from "./env.js";
import type { FlowCharge } from "./flow/bucket.js";
import { limitedHeaders, policyHeader, rateLimitHeaders, trialHeader } from "./flow/headers.js";
import { flowStub } from "./flow/stub.js";
import { answerPaid, refusalResponse, setResponse } from "./http/paid.js";
import { errorResponse, termsHeaders } from "./http/responses.js";
import { waitUntilOf } from "./http/wait-until.js";
import { settleMetered, streamMetered } from "./metered.js";
import { applyPayment, applyPriority, verifyPayer, type Payer } from "./payment/apply.js";
import { quietPayment, readPayment } from "./payment/read.js";
import { resolvePrice, routeSettings, type PaywallOptions, type RouteSettings } from "./pricing.js";
import { countRequest } from "./traffic/index.js";
import { serveExact } from "./x402/exact.js";
import { offerX402 } from "./x402/offer.js";
import { answerX402Channel } from "./x402/receipt.js";

export type { PaywallOptions } from "./pricing.js";

/** What the paywall tells downstream handlers (and the origin, in proxy mode) about the payer
 *  (`openBlock` 0 for an x402 `exact` payment, which no channel pays). */
export type PaymentInfo = { sender: Address; openBlock: number; cost: bigint; kind: "proof" | "session" | "exact" };

declare module "hono" {
  interface ContextVariableMap {
    edge402Payment?: PaymentInfo;
  }
}

type HeaderRecord = Record<string, string>;
type PaywallHandler = MiddlewareHandler<{ Bindings: Env }>;

/** One request's terms: its price, the headers every answer to it carries (shared: copy, never
 *  change), and its paid flow-control charge (undefined with flow control off). */
type Terms = { config: Config; price: bigint; headers: Readonly<HeaderRecord>; flow?: FlowCharge; trial: boolean };

/**
 * The paywall middleware for one route: `app.get("/weather/:city", paywall({ price: 5n }), handler)`.
 *
 * @param opts - How the route is priced: a fixed or dynamic `price`, a `metered` maximum, a
 *   `trial`, its flow-control `costUnits`, a `description` for the pricing announcement.
 * @returns The middleware. The handler runs only for a request that was paid for (or is free);
 *   it can read the payer from `c.get("edge402Payment")`.
 * @throws Error at once, naming the option, when a fixed price, the meter or `costUnits` is not
 *   a valid amount or number.
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { paywall, type Env } from "edge402/worker";
 *
 * const app = new Hono<{ Bindings: Env }>();
 * app.get("/weather/:city", paywall({ price: 5n, description: "Today's weather" }), (c) =>
 *   c.json({ city: c.req.param("city"), sky: "clear" }),
 * );
 * app.get("/render", paywall({ metered: { maxPrice: 100n, perMs: 0.5 } }), async (c) => c.text("done"));
 * ```
 */
export function paywall(opts: PaywallOptions): PaywallHandler {
  const route = routeSettings(opts);
  return async function paywallHandler(c, next) {
    const terms = await requestTerms(c, route);
    if (terms.price > 0n) offerX402(c, terms.config, terms.price, route.opts.description);
    let trialHeaders: HeaderRecord = {};
    if (terms.price === 0n || terms.trial) {
      const unpriced = await serveUnpriced(c, next, route, terms);
      if (unpriced.served) return unpriced.response;
      trialHeaders = unpriced.trialHeaders;
    }
    return servePaid(c, next, route, terms, trialHeaders);
  };
}

/** The request's price and terms, and whether it is a trial route's request still to be priced. */
async function requestTerms(c: Context<{ Bindings: Env }>, route: RouteSettings): Promise<Terms> {
  const config = getConfig(c.env);
  const price = await resolvePrice(route.opts, c);
  return {
    config,
    price,
    headers: termsHeaders(config, price),
    flow: config.flowControl ? { capacity: config.paidCapacity, cost: route.costUnits } : undefined,
    trial: route.opts.trial === true && price > 0n,
  };
}

type Unpriced = { served: true; response?: Response } | { served: false; trialHeaders: HeaderRecord };

/**
 * A free request, or a trial route's: the client's free allowance and trial (FlowObject, keyed
 * by IP), unless a paying client sent it: then its channel's bucket pays (applyPriority). Not
 * served when the trial is over: the request is then priced like any other.
 */
async function serveUnpriced(
  c: Context<{ Bindings: Env }>,
  next: Next,
  route: RouteSettings,
  t: Terms,
): Promise<Unpriced> {
  if (!t.flow && !t.trial) {
    await next();
    setResponse(c, c.res, t.headers);
    return { served: true };
  }
  const free = {
    capacity: t.config.freeCapacity,
    cost: route.costUnits,
    trialSeconds: t.trial ? t.config.trialSeconds : undefined,
  };
  let trialHeaders: HeaderRecord = {};
  let inTrial = true;
  const offered = t.flow ? quietPayment(c) : null;
  if (offered) {
    if (t.trial) {
      // A payer's free bucket is not charged: only its trial is looked at.
      const answer = await flowStub(c.env, t.config, c.req.raw).admit({ ...free, limit: false });
      trialHeaders = trialHeader(answer.trialRemainingMs ?? 0);
      inTrial = answer.ok;
    }
    const payer = inTrial ? await applyPriority(c.env, t.config, offered, t.flow!) : null;
    if (payer) return { served: true, response: await servePriority(c, next, t, trialHeaders, payer) };
  }
  if (!inTrial) return { served: false, trialHeaders };
  const answer = await flowStub(c.env, t.config, c.req.raw).admit({ ...free, limit: t.config.flowControl });
  if (answer.trialRemainingMs !== undefined) trialHeaders = trialHeader(answer.trialRemainingMs);
  if (!answer.ok && answer.reason === "rate_limited") {
    const headers = { ...t.headers, ...trialHeaders, ...limitedHeaders("free", answer.status, answer.retryAfterMs) };
    return { served: true, response: errorResponse(c, "rate_limited", { headers }) };
  }
  if (!answer.ok) return { served: false, trialHeaders };
  // Free, or inside the trial, for a client that is not paying: the free share.
  await next();
  setResponse(c, c.res, t.headers, trialHeaders, answer.status ? rateLimitHeaders("free", answer.status) : {});
  return { served: true };
}

/** A paying client's request that costs nothing, charged to its channel's bucket at price 0. */
async function servePriority(
  c: Context<{ Bindings: Env }>,
  next: Next,
  t: Terms,
  trialHeaders: HeaderRecord,
  { who, result }: { who: Payer; result: PayResult },
): Promise<Response | undefined> {
  const limits = { ...t.headers, ...trialHeaders, ...policyHeader("paid", t.flow!.capacity) };
  if (!result.ok) return refusalResponse(c, result, who, limits);
  c.set("edge402Payment", { sender: who.sender, openBlock: who.openBlock, cost: 0n, kind: who.kind });
  await next();
  const served = { res: c.res, cost: 0n, channel: result.channel, flow: result.flow };
  await answerPaid(c, t.config, who, served, limits);
}

/**
 * A priced request: its payment is read, verified and applied to its channel before the handler
 * runs; a metered request's reservation is settled at the measured cost after it.
 */
async function servePaid(
  c: Context<{ Bindings: Env }>,
  next: Next,
  route: RouteSettings,
  t: Terms,
  trialHeaders: HeaderRecord,
): Promise<Response | undefined> {
  const limits = { ...t.headers, ...trialHeaders, ...(t.flow ? policyHeader("paid", t.flow.capacity) : {}) };
  let payment: ReturnType<typeof readPayment>;
  try {
    payment = readPayment(c);
  } catch (err) {
    if (!isProtocolError(err)) throw err;
    return errorResponse(c, err.code, { message: err.message, details: err.details, headers: limits });
  }
  if (!payment) return errorResponse(c, "payment_required", { headers: limits });
  if (payment.kind === "exact") return serveExact(c, next, t.config, t.price, payment, limits);
  const payer = await verifyPayer(t.config, payment);
  if (!payer) {
    if (payment.kind === "session") return errorResponse(c, "invalid_session", { headers: limits });
    // Refused before any state is touched; a read-only look tells the client what we hold.
    const held = await channelStub(c.env, payment.sender, payment.openBlock).peek();
    return refusalResponse(
      c,
      { ok: false, code: "invalid_balance_proof", channel: held ?? undefined },
      payment,
      limits,
    );
  }
  const metered = route.opts.metered;
  const reserveId = metered ? crypto.randomUUID() : undefined;
  const charge = { price: t.price, reserveId, reserveMs: route.reserveMs, flow: t.flow };
  const result = await applyPayment(c.env, t.config, c.req.raw, payment, payer, charge);
  if (!result.ok) return refusalResponse(c, result, payer, limits);

  c.set("edge402Payment", { sender: payer.sender, openBlock: payer.openBlock, cost: result.cost, kind: payer.kind });
  const startedAt = Date.now();
  await next();
  let served: Served = { res: c.res, cost: result.cost, channel: result.channel, flow: result.flow };
  if (metered && reserveId) {
    const reservation = { id: reserveId, amount: result.cost, serveMs: route.reserveMs! };
    served = { ...served, ...(await settleServed(c, payer, reservation, metered, startedAt, served)) };
  }
  await answerPaid(c, t.config, payer, served, limits);
  // A streamed answer is charged as it flows, and counted once settled at its end.
  if (!metered?.stream) countRequest(c, { kind: "paid", earnings: served.cost ?? result.cost });
  if ("x402" in payment) answerX402Channel(c, t.config, payer.sender);
}

type Served = Parameters<typeof answerPaid>[3];

/** A served metered request: settled now at its measured cost (buffered), or charged as its
 *  body flows and settled at its end (`stream: true`; the cost is then not in the headers). */
function settleServed(
  c: Context<{ Bindings: Env }>,
  payer: Payer,
  reservation: { id: string; amount: bigint; serveMs: number },
  meter: NonNullable<PaywallOptions["metered"]>,
  startedAt: number,
  served: Served,
): Promise<Partial<Served>> {
  if (!meter.stream) return settleMetered(c.env, payer, reservation, meter, startedAt, served.res);
  return streamMetered(c.env, payer, reservation, meter, startedAt, served, {
    waitUntil: waitUntilOf(c) ?? ((p) => void p.catch(() => undefined)),
    settled: (cost) => countRequest(c, { kind: "paid", earnings: cost }),
  });
}
