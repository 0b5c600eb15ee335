// Serving a request paid with x402's `exact` scheme (an EIP-3009 authorization) in x402's own
// order: the payload must echo this request's `exact` requirement, the facilitator's /verify
// must pass, the handler runs, and its whole answer waits while /settle moves the tokens, so
// no byte is served for a payment that did not settle (a failed settle is a 402, as x402's
// middleware answers). A handler that fails (4xx, 5xx) is not settled: nothing is charged. It
// uses x402's resource server (@x402/core) with @x402/evm's `exact` server scheme over
// HTTPFacilitatorClient, so matching, verifying and settling are x402's code. No channel is
// touched: the settlement transaction is the payment, mined before the answer goes out.
import { encodePaymentResponseHeader, HTTPFacilitatorClient } from "@x402/core/http";
import { x402ResourceServer } from "@x402/core/server";
import { SettleError, VerifyError, type PaymentRequirements, type SettleResponse } from "@x402/core/types";
import { ExactEvmScheme } from "@x402/evm/exact/server";
import type { Context, Next } from "hono";
import { getAddress, isAddress } from "viem";
import { RdnHeaders } from "../../protocol/headers.js";
import { caip2Network, X402Headers } from "../../protocol/x402.js";
import type { Config } from "../config.js";
import { PRIVATE, setResponse } from "../http/paid.js";
import { errorResponse } from "../http/responses.js";
import { countRequest } from "../traffic/index.js";
import { exactRequirement } from "./offer.js";
import type { X402ExactPayment } from "./payload.js";

const servers = new WeakMap<Config, x402ResourceServer>();

/** x402's resource server for this deployment's facilitator, one per config. */
function resourceServer(config: Config, facilitatorUrl: string): x402ResourceServer {
  let server = servers.get(config);
  if (!server) {
    server = new x402ResourceServer(new HTTPFacilitatorClient({ url: facilitatorUrl })).register(
      caip2Network(config.chainId),
      new ExactEvmScheme(),
    );
    servers.set(config, server);
  }
  return server;
}

type Verified = { ok: true; required: PaymentRequirements; payer?: string } | { ok: false; res: Response };

/** The payload against this request's requirement, then the facilitator's /verify. */
async function verifyExact(
  c: Context,
  server: x402ResourceServer,
  required: PaymentRequirements,
  offered: X402ExactPayment,
  limits: Record<string, string>,
): Promise<Verified> {
  const matched = server.findMatchingRequirements([required], offered.x402);
  if (!matched) return { ok: false, res: errorResponse(c, "payment_requirements_mismatch", { headers: limits }) };
  let invalid: { reason?: string; message?: string } | undefined;
  let payer: string | undefined;
  try {
    const verdict = await server.verifyPayment(offered.x402, matched);
    if (!verdict.isValid) invalid = { reason: verdict.invalidReason, message: verdict.invalidMessage };
    payer = verdict.payer;
  } catch (err) {
    if (!(err instanceof VerifyError)) {
      const message = `The x402 facilitator could not verify the payment: ${(err as Error).message}`;
      return { ok: false, res: errorResponse(c, "facilitator_unavailable", { message, headers: limits }) };
    }
    invalid = { reason: err.invalidReason, message: err.invalidMessage };
  }
  if (invalid) {
    const message = `The x402 facilitator found the payment invalid: ${invalid.message ?? invalid.reason ?? "no reason given"}.`;
    const details = invalid.reason ? { reason: invalid.reason } : undefined;
    return { ok: false, res: errorResponse(c, "payment_invalid", { message, details, headers: limits }) };
  }
  return { ok: true, required: matched, payer };
}

/** The facilitator's /settle; a throw is a failed settlement like any other. */
async function settleExact(server: x402ResourceServer, offered: X402ExactPayment, required: PaymentRequirements) {
  try {
    return await server.settlePayment(offered.x402, required);
  } catch (err) {
    const reason = err instanceof SettleError ? err.errorReason : undefined;
    const message = err instanceof SettleError ? err.errorMessage : (err as Error).message;
    const failed: SettleResponse = {
      success: false,
      errorReason: reason ?? "settle_failed",
      errorMessage: message,
      transaction: "",
      network: required.network as SettleResponse["network"],
    };
    return failed;
  }
}

/**
 * A priced request paid with x402 `exact` (see the module comment): `price` is the route's price
 * (a metered route's maximum: `exact` pays a fixed amount), `limits` the headers every answer
 * carries. Sets `c.res` and returns nothing once served; returns the refusal otherwise.
 */
export async function serveExact(
  c: Context,
  next: Next,
  config: Config,
  price: bigint,
  offered: X402ExactPayment,
  limits: Record<string, string>,
): Promise<Response | undefined> {
  const required = exactRequirement(config, price);
  if (!required || !config.x402Exact) return errorResponse(c, "unsupported_payment_scheme", { headers: limits });
  const server = resourceServer(config, config.x402Exact.facilitatorUrl);
  const verified = await verifyExact(c, server, required, offered, limits);
  if (!verified.ok) return verified.res;
  const payer = verified.payer && isAddress(verified.payer) ? getAddress(verified.payer) : undefined;
  if (payer) c.set("edge402Payment", { sender: payer, openBlock: 0, cost: price, kind: "exact" });
  await next();
  const answer = c.res;
  // The handler failed: x402 settles nothing for it, and neither do we.
  if (answer.status >= 400) return undefined;
  const body = await answer.arrayBuffer();
  const settled = await settleExact(server, offered, verified.required);
  const receipt = { [X402Headers.paymentResponse]: encodePaymentResponseHeader(settled) };
  if (!settled.success) {
    const message = `The x402 payment did not settle (${settled.errorReason ?? "no reason given"}); nothing was served.`;
    // Past the handler, a returned response would not replace its answer, and assigning one
    // would merge the answer's headers into it (Hono): clear the answer first, as x402's own
    // middleware does.
    c.res = undefined as unknown as Response;
    c.res = errorResponse(c, "settlement_failed", { message, headers: { ...limits, ...receipt } });
    return undefined;
  }
  setResponse(c, new Response(body, answer), limits, PRIVATE, receipt, { [RdnHeaders.cost]: price.toString() });
  countRequest(c, { kind: "paid", earnings: price });
  return undefined;
}
