// The paywall middleware: `app.get("/weather/:city", paywall({ price: 5n }), handler)`.
//
// Per request it prices the route, parses the payment headers (or cookies), verifies a fresh
// proof's signature statelessly here in the Worker, and only then asks the channel's object to
// apply it (one RPC: compare, write, answer). A session token spends credit instead. Refusals
// answer before the handler runs and change nothing; a served request gets the terms, the
// channel's state, its cost and a fresh session token. A metered route reserves its maximum,
// serves, then is charged the measured cost and the rest returns to credit.
import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import type { Address, Hex } from "viem";
import { parsePaymentHeaders } from "../protocol/codec.js";
import { isProtocolError } from "../protocol/errors.js";
import { RdnHeaders } from "../protocol/headers.js";
import { verifyBalanceProof } from "../protocol/verify.js";
import { channelStub } from "./channel/stub.js";
import type { PayResult } from "./channel/object.js";
import { getConfig, type Config, type Env } from "./config.js";
import { channelHeaders, errorResponse, termsHeaders } from "./http/responses.js";
import { issueSession, verifySession } from "./session.js";

type Amount = bigint | number | string;

export type MeterOptions = {
  /** Cost units charged per millisecond of serving time (default 1). */
  perMs?: number;
  /** Cost units charged per KiB of response body (default 0). */
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

function withHeaders(res: Response, headers: Record<string, string>): Response {
  const out = new Response(res.body, res);
  for (const [k, v] of Object.entries(headers)) out.headers.set(k, v);
  return out;
}

async function measuredCost(meter: MeterOptions, startedAt: number, res: Response): Promise<{ cost: bigint; res: Response }> {
  const perMs = meter.perMs ?? 1;
  const perKiB = meter.perKiB ?? 0;
  let bytes = 0;
  if (perKiB > 0 && res.body) {
    const body = await res.arrayBuffer();
    bytes = body.byteLength;
    res = new Response(body, res);
  }
  const ms = Date.now() - startedAt;
  const cost = Math.ceil(Math.max(ms * perMs, (bytes / 1024) * perKiB));
  return { cost: BigInt(cost), res };
}

export function paywall(opts: PaywallOptions): MiddlewareHandler<{ Bindings: Env }> {
  // Validate a fixed price at start-up rather than on the first request.
  if (typeof opts.price !== "function" && opts.price !== undefined) toAmount(opts.price, "price");
  if (opts.metered) toAmount(opts.metered.maxPrice, "metered.maxPrice");

  return async (c, next) => {
    const config = getConfig(c.env);
    const price = await resolvePrice(opts, c);
    const terms = termsHeaders(config, price);
    if (price === 0n) {
      await next();
      c.res = withHeaders(c.res, terms);
      return;
    }

    let payment;
    try {
      payment = parsePaymentHeaders((name) => c.req.header(name) ?? getCookie(c, name));
    } catch (err) {
      if (!isProtocolError(err)) throw err;
      return errorResponse(c, err.code, { message: err.message, details: err.details, headers: terms });
    }
    if (!payment) return errorResponse(c, "payment_required", { headers: terms });

    const reserveId = opts.metered ? crypto.randomUUID() : undefined;
    let sender: Address;
    let openBlock: number;
    let result: PayResult;
    if (payment.kind === "proof") {
      ({ sender, openBlock } = payment);
      const named = { [RdnHeaders.senderAddress]: sender, [RdnHeaders.openBlock]: String(openBlock) };
      if (!(await proofIsValid(config, payment))) {
        return errorResponse(c, "invalid_balance_proof", { headers: { ...terms, ...named } });
      }
      result = await channelStub(c.env, sender, openBlock).pay({
        sender,
        openBlock,
        balance: payment.balance,
        signature: payment.signature,
        price,
        reserveId,
      });
    } else {
      const claims = await verifySession(config.sessionSecret, payment.token);
      if (!claims) return errorResponse(c, "invalid_session", { headers: terms });
      ({ sender, openBlock } = claims);
      result = await channelStub(c.env, sender, openBlock).spend({ sender, openBlock, price, reserveId });
    }
    if (!result.ok) {
      const named = result.channel
        ? channelHeaders(result.channel)
        : { [RdnHeaders.senderAddress]: sender, [RdnHeaders.openBlock]: String(openBlock) };
      return errorResponse(c, result.code, { message: result.message, headers: { ...terms, ...named } });
    }

    c.set("edge402Payment", { sender, openBlock, cost: result.cost, kind: payment.kind });
    const startedAt = Date.now();
    await next();
    let { cost, channel } = result;
    let res = c.res;
    if (opts.metered && reserveId) {
      const measured = await measuredCost(opts.metered, startedAt, res);
      res = measured.res;
      // A failed serve (5xx) is not charged beyond zero; the reservation returns to credit.
      const settled = await channelStub(c.env, sender, openBlock).settle(reserveId, res.status >= 500 ? 0n : measured.cost);
      if (settled.ok) ({ cost, channel } = settled);
    }
    const session = await issueSession(config.sessionSecret, { sender, openBlock }, config.sessionTtlSeconds);
    c.res = withHeaders(res, {
      ...terms,
      ...channelHeaders(channel),
      [RdnHeaders.cost]: cost.toString(),
      [RdnHeaders.session]: session,
    });
  };
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
