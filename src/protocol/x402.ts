// The x402 v2 side of the protocol (PROTOCOL.md section 5), spelled once for the Worker and the
// `channel` scheme client: the three x402 headers, the scheme's name, its CAIP-2 network, the
// shape of its payload and of its requirement's `extra`, and the channel report the scheme
// carries inside x402's own objects. The report is the `RDN-*` channel headers under short
// names, so both sides turn one into the other through `channelReportHeaders` and never
// re-derive a field. Nothing here loads x402's packages.
import { RdnHeaders } from "./headers.js";

/** The x402 v2 HTTP headers. */
export const X402Headers = {
  /** A 402's base64 `PaymentRequired`. */
  paymentRequired: "PAYMENT-REQUIRED",
  /** A request's base64 `PaymentPayload`. */
  paymentSignature: "PAYMENT-SIGNATURE",
  /** A served x402 request's base64 `SettlementResponse`. */
  paymentResponse: "PAYMENT-RESPONSE",
} as const;

/** The x402 scheme that pays through edge402 channels. */
export const CHANNEL_SCHEME = "channel";

/** x402's CAIP-2 network of an EVM chain. */
export function caip2Network(chainId: number): `eip155:${number}` {
  return `eip155:${chainId}`;
}

/** The chain id of an `eip155:<id>` network, or null for any other network. */
export function chainIdOfNetwork(network: string): number | null {
  const m = /^eip155:([1-9][0-9]{0,15})$/.exec(network);
  if (!m) return null;
  const id = Number(m[1]);
  return Number.isSafeInteger(id) ? id : null;
}

/**
 * A channel's state as the server holds it, inside x402's objects: a refused 402's channel
 * requirement (`extra.channel`) and a served request's `SettlementResponse.extra.channel`.
 * Decimal strings, as the `RDN-*` headers of the same names carry them.
 */
export type ChannelReportWire = {
  sender?: string;
  openBlock?: string;
  balance?: string;
  balanceSignature?: string;
  deposit?: string;
  credit?: string;
  cost?: string;
  session?: string;
};

/** Which `RDN-*` header each field of the channel report is. */
export const channelReportHeaders: Readonly<Record<keyof ChannelReportWire, string>> = {
  sender: RdnHeaders.senderAddress,
  openBlock: RdnHeaders.openBlock,
  balance: RdnHeaders.senderBalance,
  balanceSignature: RdnHeaders.balanceSignature,
  deposit: RdnHeaders.deposit,
  credit: RdnHeaders.credit,
  cost: RdnHeaders.cost,
  session: RdnHeaders.session,
};

/** The `extra` of a `channel` payment requirement. */
export type ChannelRequirementExtra = {
  /** The MicroTransferChannels contract (the proofs' EIP-712 verifying contract). */
  contract: string;
  /** `RDN-Gateway-Path`: where the management API lives. */
  gatewayPath: string;
  /** Blocks a sender's uncooperative close waits (when the server knows it). */
  challengePeriod?: number;
  /** Confirmations a new channel or deposit needs before it pays. */
  minConfirmations: number;
  /** The channel the refused payment named, as the server holds it. */
  channel?: ChannelReportWire;
};

/** A `channel` payload: a new balance proof (PROTOCOL.md section 2's `BalanceProof`), ... */
export type ChannelProofPayload = { sender: string; openBlock: string; balance: string; signature: string };
/** ... or a session token spending prepaid credit. */
export type ChannelSessionPayload = { session: string };
