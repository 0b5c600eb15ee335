// The `channel` scheme's x402 objects in the client's own terms, read as strictly as the
// `RDN-*` headers they stand for: a payment requirement becomes the route's `Terms` and a
// channel report (a refusal's `extra.channel`, a receipt's `extra.channel`) a `ChannelReport`,
// both through the SDK's own header readers (client/response.ts) over the headers the fields
// name; and a planned payment becomes the scheme's payload.
import type { PaymentRequirements } from "@x402/core/types";
import { RdnHeaders } from "../protocol/headers.js";
import {
  chainIdOfNetwork,
  CHANNEL_SCHEME,
  channelReportHeaders,
  type ChannelProofPayload,
  type ChannelReportWire,
  type ChannelSessionPayload,
} from "../protocol/x402.js";
import { ClientErrorCodes, Edge402Error } from "../client/errors.js";
import type { ChannelReport } from "../client/ledger.js";
import type { Payment } from "../client/payer.js";
import { readChannelReport, readTerms, type Terms } from "../client/response.js";

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/**
 * The terms a `channel` requirement announces for the resource at `url`.
 *
 * @throws Edge402Error `invalid_terms` for a requirement that is not a `channel` one of an EVM
 *   chain, or whose fields do not parse.
 */
export function termsOfRequirement(requirements: PaymentRequirements, url: string): Terms {
  const chainId = chainIdOfNetwork(requirements.network);
  if (requirements.scheme !== CHANNEL_SCHEME || chainId === null) {
    throw new Edge402Error(
      ClientErrorCodes.invalidTerms,
      `Not a channel requirement on an EVM chain: ${requirements.scheme} on ${requirements.network}.`,
    );
  }
  const extra = requirements.extra ?? {};
  const headers = new Headers();
  const fields: Array<[string, string | undefined]> = [
    [RdnHeaders.gatewayPath, str(extra.gatewayPath)],
    [RdnHeaders.receiverAddress, str(requirements.payTo)],
    [RdnHeaders.contractAddress, str(extra.contract)],
    [RdnHeaders.tokenAddress, str(requirements.asset)],
    [RdnHeaders.chainId, String(chainId)],
    [RdnHeaders.price, str(requirements.amount)],
  ];
  for (const [name, value] of fields) if (value !== undefined) headers.set(name, value);
  const terms = readTerms(headers, url);
  if (!terms) throw new Edge402Error(ClientErrorCodes.invalidTerms, "The channel requirement names no terms.");
  return terms;
}

/** The channel report an x402 object carries (`extra.channel`), or null when it carries none that parses. */
export function reportOfExtra(extra: Record<string, unknown> | undefined): ChannelReport | null {
  const wire = extra?.channel;
  if (typeof wire !== "object" || wire === null || Array.isArray(wire)) return null;
  const headers = new Headers();
  for (const [field, name] of Object.entries(channelReportHeaders) as Array<[keyof ChannelReportWire, string]>) {
    const value = str((wire as Record<string, unknown>)[field]);
    if (value !== undefined) headers.set(name, value);
  }
  return readChannelReport(headers);
}

/** The `channel` payload of a planned payment. */
export function payloadOf(payment: Payment): ChannelProofPayload | ChannelSessionPayload {
  if (payment.kind === "session") return { session: payment.token };
  return {
    sender: payment.ledger.sender,
    openBlock: String(payment.ledger.openBlock),
    balance: payment.balance.toString(),
    signature: payment.signature,
  };
}
