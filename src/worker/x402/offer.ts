// What a priced route offers in x402 v2 (PROTOCOL.md section 5): the `channel` requirement
// always, first, and the `exact` one when the deployment names a facilitator. Every 402 of a
// priced route carries them as `PAYMENT-REQUIRED`, with the refusal's code as x402's `error` and,
// when the refused payment named a channel, that channel's state in the channel requirement (as
// the `RDN-*` headers of the same 402 carry it), so an x402 client can resynchronise. The
// paywall registers the offer on the request's context; the one error response builder calls it
// on each 402, so no 402 of a priced route goes out without it.
import { encodePaymentRequiredHeader } from "@x402/core/http";
import type { PaymentRequired, PaymentRequirements } from "@x402/core/types";
import type { Context } from "hono";
import type { ErrorCode } from "../../protocol/errors.js";
import { GATEWAY_PATH } from "../../protocol/headers.js";
import {
  caip2Network,
  CHANNEL_SCHEME,
  channelReportHeaders,
  X402Headers,
  type ChannelReportWire,
  type ChannelRequirementExtra,
} from "../../protocol/x402.js";
import type { Config } from "../config.js";

/** How long a payment for a requirement stays good (x402's default; an `exact` authorization's window). */
export const MAX_TIMEOUT_SECONDS = 300;

/** Adds `PAYMENT-REQUIRED` to a 402's headers, for its refusal `code`. */
export type X402Offer = (code: ErrorCode, headers: Headers) => void;

declare module "hono" {
  interface ContextVariableMap {
    edge402Offer?: X402Offer;
  }
}

/** The `channel` requirement of a request of `price` (a metered route's maximum). */
export function channelRequirement(config: Config, price: bigint, channel?: ChannelReportWire): PaymentRequirements {
  const extra: ChannelRequirementExtra = {
    contract: config.contract,
    gatewayPath: GATEWAY_PATH,
    ...(config.challengePeriod !== undefined ? { challengePeriod: config.challengePeriod } : {}),
    minConfirmations: config.minConfirmations,
    ...(channel ? { channel } : {}),
  };
  return {
    scheme: CHANNEL_SCHEME,
    network: caip2Network(config.chainId),
    amount: price.toString(),
    asset: config.token,
    payTo: config.receiverAddress,
    maxTimeoutSeconds: MAX_TIMEOUT_SECONDS,
    extra,
  };
}

/** The `exact` (EIP-3009) requirement, when the deployment names a facilitator. */
export function exactRequirement(config: Config, price: bigint): PaymentRequirements | undefined {
  const exact = config.x402Exact;
  if (!exact) return undefined;
  return {
    scheme: "exact",
    network: caip2Network(config.chainId),
    amount: price.toString(),
    asset: config.token,
    payTo: config.receiverAddress,
    maxTimeoutSeconds: MAX_TIMEOUT_SECONDS,
    extra: { name: exact.tokenName, version: exact.tokenVersion },
  };
}

/** The channel state a response's `RDN-*` headers carry, or undefined when they name no channel. */
export function channelReportOf(headers: Headers): ChannelReportWire | undefined {
  if (!headers.has(channelReportHeaders.sender)) return undefined;
  const report: ChannelReportWire = {};
  for (const [field, name] of Object.entries(channelReportHeaders) as Array<[keyof ChannelReportWire, string]>) {
    const value = headers.get(name);
    if (value !== null) report[field] = value;
  }
  return report;
}

/** The `PaymentRequired` of a refused request. */
export function paymentRequired(
  config: Config,
  price: bigint,
  resource: { url: string; description: string },
  code: ErrorCode,
  channel?: ChannelReportWire,
): PaymentRequired {
  const exact = exactRequirement(config, price);
  return {
    x402Version: 2,
    error: code,
    resource: { url: resource.url, description: resource.description, mimeType: "" },
    accepts: [channelRequirement(config, price, channel), ...(exact ? [exact] : [])],
  };
}

/** Registers the route's offer on the request, for its error responses (see the module comment). */
export function offerX402(c: Context, config: Config, price: bigint, description: string | undefined): void {
  const resource = { url: c.req.url, description: description ?? "" };
  c.set("edge402Offer", (code, headers) => {
    const required = paymentRequired(config, price, resource, code, channelReportOf(headers));
    headers.set(X402Headers.paymentRequired, encodePaymentRequiredHeader(required));
  });
}
