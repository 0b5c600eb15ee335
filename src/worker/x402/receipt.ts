// The x402 receipt of a request a `channel` payment paid: `PAYMENT-RESPONSE`, a successful
// `SettlementResponse` with no transaction (the channel is the settlement) and, in its `extra`,
// the channel's state exactly as the answer's `RDN-*` headers give it (balance and signature,
// deposit, credit, cost, session token), since an x402 client reads only x402's objects.
import { encodePaymentResponseHeader } from "@x402/core/http";
import type { SettleResponse } from "@x402/core/types";
import type { Context } from "hono";
import type { Address } from "viem";
import { caip2Network, X402Headers } from "../../protocol/x402.js";
import type { Config } from "../config.js";
import { setResponse } from "../http/paid.js";
import { channelReportOf } from "./offer.js";

/** Adds `PAYMENT-RESPONSE` to the served answer of `payer`'s x402 `channel` payment. */
export function answerX402Channel(c: Context, config: Config, payer: Address): void {
  const channel = channelReportOf(c.res.headers);
  const receipt: SettleResponse = {
    success: true,
    payer,
    network: caip2Network(config.chainId),
    transaction: "",
    ...(channel ? { extra: { channel } } : {}),
  };
  setResponse(c, c.res, { [X402Headers.paymentResponse]: encodePaymentResponseHeader(receipt) });
}
