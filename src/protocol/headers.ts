// The names of the protocol's HTTP headers: the terms a priced route announces, the payment a
// client sends, the channel state the server echoes, the close request, and the refusal flags.
// Named `RdnHeaders` so it never shadows the global `Headers` class. Header names are
// case-insensitive on the wire; these are the canonical spellings from PROTOCOL.md.

/** The management API and payment terms live under this path. */
export const GATEWAY_PATH = "/api/1";

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

export type RdnHeaderName = (typeof RdnHeaders)[keyof typeof RdnHeaders];

/** The refusal flag headers of a 402 (value `1`, at most one per response). */
export const RdnFlags = {
  invalidBalanceProof: "RDN-Invalid-Balance-Proof",
  nonexistingChannel: "RDN-Nonexisting-Channel",
  insufficientConfirmations: "RDN-Insufficient-Confirmations",
  channelClosing: "RDN-Channel-Closing",
  insufficientDeposit: "RDN-Insufficient-Deposit",
  invalidAmount: "RDN-Invalid-Amount",
  insufficientCredit: "RDN-Insufficient-Credit",
} as const;

export type RdnFlagName = (typeof RdnFlags)[keyof typeof RdnFlags];

/** The headers (and cookie names) a client pays with. */
export const paymentHeaderNames = [
  RdnHeaders.senderAddress,
  RdnHeaders.openBlock,
  RdnHeaders.balance,
  RdnHeaders.balanceSignature,
  RdnHeaders.session,
] as const;
