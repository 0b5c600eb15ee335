// The protocol's HTTP header names, spelled once, as PROTOCOL.md spells them (the wire is
// case-insensitive). `RdnHeaders` rather than `Headers`, so it never shadows the global class.

/** The management API and payment terms live under this path. */
export const GATEWAY_PATH = "/api/1";

/**
 * The `RDN-*` headers: the terms a priced route announces, the payment a client sends, the
 * channel state the server echoes, and the close request.
 *
 * @example
 * ```ts
 * const price = BigInt(res.headers.get(RdnHeaders.price) ?? "0");
 * ```
 */
export const RdnHeaders = {
  gatewayPath: "RDN-Gateway-Path",
  receiverAddress: "RDN-Receiver-Address",
  contractAddress: "RDN-Contract-Address",
  tokenAddress: "RDN-Token-Address",
  chainId: "RDN-Chain-Id",
  price: "RDN-Price",
  senderAddress: "RDN-Sender-Address",
  openBlock: "RDN-Open-Block",
  balance: "RDN-Balance",
  balanceSignature: "RDN-Balance-Signature",
  session: "RDN-Session",
  senderBalance: "RDN-Sender-Balance",
  deposit: "RDN-Deposit",
  credit: "RDN-Credit",
  cost: "RDN-Cost",
  closeSignature: "RDN-Close-Signature",
  closeDeadline: "RDN-Close-Deadline",
} as const;

/** One of the `RDN-*` header names. */
export type RdnHeaderName = (typeof RdnHeaders)[keyof typeof RdnHeaders];

/**
 * The refusal flag headers of a 402 (value `1`, at most one per response).
 *
 * @example
 * ```ts
 * if (res.headers.get(RdnFlags.insufficientCredit) === "1") await payWithProof();
 * ```
 */
export const RdnFlags = {
  invalidBalanceProof: "RDN-Invalid-Balance-Proof",
  nonexistingChannel: "RDN-Nonexisting-Channel",
  insufficientConfirmations: "RDN-Insufficient-Confirmations",
  channelClosing: "RDN-Channel-Closing",
  insufficientDeposit: "RDN-Insufficient-Deposit",
  invalidAmount: "RDN-Invalid-Amount",
  insufficientCredit: "RDN-Insufficient-Credit",
} as const;

/** One of the refusal flag header names. */
export type RdnFlagName = (typeof RdnFlags)[keyof typeof RdnFlags];

/** The headers (and cookie names) a client pays with. */
export const paymentHeaderNames = [
  RdnHeaders.senderAddress,
  RdnHeaders.openBlock,
  RdnHeaders.balance,
  RdnHeaders.balanceSignature,
  RdnHeaders.session,
] as const;
