// What a paywalled route costs: its options (fixed, dynamic or metered price, trial, flow-control
// units), checked once when the route is mounted, and the price of one request. Kept apart from
// the middleware so the pricing announcement (GET /api/1/pricing) reads the same rules.
import type { Context } from "hono";
import { parseAmount } from "../protocol/amount.js";
import { DEFAULT_MAX_SERVING_MS } from "./channel/state.js";

/** An amount in token base units, as a route's options may give it. */
export type Amount = bigint | number | string;

/** A metered route's charge: max(serving ms × perMs, response KiB × perKiB, SSE events ×
 *  perEvent), rounded up, never above what is reserved. Serving time runs from the handler's
 *  start until its whole body is produced. A buffered response (the default) is charged before
 *  its headers go out, never above `maxPrice`; a streamed one (`stream: true`) as it flows, in
 *  slices of `maxPrice` reserved from credit (src/worker/stream). */
export type MeterOptions = {
  /** Token base units charged per millisecond of serving time (default 1). */
  perMs?: number;
  /** Token base units charged per KiB (1024 bytes) of response body (default 0). */
  perKiB?: number;
  /** Token base units charged per Server-Sent Event of a `text/event-stream` body: a block with
   *  a `data` line, as EventSource dispatches it (default 0). */
  perEvent?: number;
  /** Stream the response through the meter as the handler writes it, instead of buffering it:
   *  charged at its end (or at the client's disconnect), taking more slices from credit while
   *  it flows, ended with an `rdn-payment-required` event when the credit runs out. */
  stream?: boolean;
  /** The longest a request is served, in ms: its reservation of `maxPrice` ends this long (plus
   *  RESERVATION_MARGIN_MS) after it was taken, charged at `maxPrice`, if no settle came. Default:
   *  the serving time whose charge reaches `maxPrice` (`maxPrice / perMs`, so expiring costs
   *  nothing the meter would not have charged), at most MAX_DERIVED_SERVING_MS; with `perMs` 0,
   *  DEFAULT_MAX_SERVING_MS. */
  maxServingMs?: number;
};

/**
 * The options of `paywall()`: how one route is priced.
 *
 * @example
 * ```ts
 * const fixed: PaywallOptions = { price: 5n, description: "A joke" };
 * const dynamic: PaywallOptions = { price: (c) => BigInt(c.req.query("n") ?? "1") };
 * const metered: PaywallOptions = { metered: { maxPrice: 100n, perMs: 0.5 } };
 * const trial: PaywallOptions = { price: 5n, trial: true };
 * ```
 */
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

/** The cap of a metered route's derived longest serving time (an hour). */
export const MAX_DERIVED_SERVING_MS = 3_600_000;

/** How a route is priced, as the pricing announcement names it. */
export function pricingMode(opts: PaywallOptions): PricingMode {
  if (opts.metered) return "metered";
  return typeof opts.price === "function" ? "dynamic" : "fixed";
}

/** An option's amount as a bigint; throws naming the option when it is not a non-negative integer. */
export function toAmount(v: Amount, what: string): bigint {
  const n = parseAmount(v);
  if (n === null) throw new Error(`edge402: ${what} must be a non-negative integer amount, got ${String(v)}`);
  return n;
}

/** How long a metered route's request may be served before its reservation expires (see
 *  MeterOptions.maxServingMs). */
export function maxServingMs(meter: MeterOptions & { maxPrice: Amount }): number {
  if (meter.maxServingMs !== undefined) return meter.maxServingMs;
  const perMs = meter.perMs ?? 1;
  if (!(perMs > 0)) return DEFAULT_MAX_SERVING_MS;
  return Math.min(Math.ceil(Number(toAmount(meter.maxPrice, "metered.maxPrice")) / perMs), MAX_DERIVED_SERVING_MS);
}

/** What a metered request has used so far: serving time, body bytes and SSE events. */
export type MeterReading = { ms: number; bytes: number; events: number };

/** The measured cost of a reading (MeterOptions), rounded up, uncapped. */
export function meterCost(meter: MeterOptions, r: MeterReading): bigint {
  const byTime = r.ms * (meter.perMs ?? 1);
  const bySize = (r.bytes / 1024) * (meter.perKiB ?? 0);
  const byEvents = r.events * (meter.perEvent ?? 0);
  return BigInt(Math.ceil(Math.max(0, byTime, bySize, byEvents)));
}

/** The price of this request (for a metered route, its maximum). */
export async function resolvePrice(opts: PaywallOptions, c: Context): Promise<bigint> {
  if (opts.metered) return toAmount(opts.metered.maxPrice, "metered.maxPrice");
  const p = typeof opts.price === "function" ? await opts.price(c) : (opts.price ?? 0n);
  return toAmount(p, "price");
}

/** A paywalled route's settings, checked once when it is mounted: a bad fixed price or meter
 *  fails at start-up rather than on the first request. */
export type RouteSettings = { opts: PaywallOptions; costUnits: number; reserveMs?: number };

export function routeSettings(opts: PaywallOptions): RouteSettings {
  if (typeof opts.price !== "function" && opts.price !== undefined) toAmount(opts.price, "price");
  if (opts.metered) {
    toAmount(opts.metered.maxPrice, "metered.maxPrice");
    nonNegative(opts.metered.perMs, "metered.perMs");
    nonNegative(opts.metered.perKiB, "metered.perKiB");
    nonNegative(opts.metered.perEvent, "metered.perEvent");
    nonNegative(opts.metered.maxServingMs, "metered.maxServingMs");
  }
  const costUnits = opts.costUnits ?? 1;
  if (!(Number.isFinite(costUnits) && costUnits > 0))
    throw new Error(`edge402: costUnits must be a positive number, got ${String(opts.costUnits)}`);
  return { opts, costUnits, reserveMs: opts.metered ? maxServingMs(opts.metered) : undefined };
}

function nonNegative(v: number | undefined, what: string): void {
  if (v !== undefined && !(Number.isFinite(v) && v >= 0))
    throw new Error(`edge402: ${what} must be a finite number >= 0, got ${String(v)}`);
}
