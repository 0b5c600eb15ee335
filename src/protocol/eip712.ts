// The EIP-712 side of the protocol: the `MicroTransferChannels` v1 domain, the three signed
// types (BalanceProof by the sender, ClosingProof by the receiver, CloseRequest by the sender,
// HTTP only) exactly as the contract hashes them, and builders returning complete viem typed-data
// definitions (`{ domain, types, primaryType, message }`) for `signTypedData`, `hashTypedData`
// and `recoverTypedDataAddress`. Any `eth_signTypedData_v4` wallet signs the same bytes.
import type { Address } from "viem";

export const EIP712_NAME = "MicroTransferChannels";
export const EIP712_VERSION = "1";

/** Where a signature is valid: one chain, one channel manager contract. */
export type ChannelDomainParameters = { chainId: number; contract: Address };

export type ChannelDomain = {
  name: typeof EIP712_NAME;
  version: typeof EIP712_VERSION;
  chainId: number;
  verifyingContract: Address;
};

/** The EIP-712 domain of a channel manager. */
export function channelDomain(chainId: number, verifyingContract: Address): ChannelDomain {
  return { name: EIP712_NAME, version: EIP712_VERSION, chainId, verifyingContract };
}

/** The encoded type strings, as the contract's type hashes are computed from them. */
export const BALANCE_PROOF_TYPE = "BalanceProof(address receiver,uint32 openBlock,uint192 balance)";
export const CLOSING_PROOF_TYPE = "ClosingProof(address sender,uint32 openBlock,uint192 balance)";
export const CLOSE_REQUEST_TYPE = "CloseRequest(address receiver,uint32 openBlock,uint64 deadline)";

export const balanceProofTypes = {
  BalanceProof: [
    { name: "receiver", type: "address" },
    { name: "openBlock", type: "uint32" },
    { name: "balance", type: "uint192" },
  ],
} as const;

export const closingProofTypes = {
  ClosingProof: [
    { name: "sender", type: "address" },
    { name: "openBlock", type: "uint32" },
    { name: "balance", type: "uint192" },
  ],
} as const;

export const closeRequestTypes = {
  CloseRequest: [
    { name: "receiver", type: "address" },
    { name: "openBlock", type: "uint32" },
    { name: "deadline", type: "uint64" },
  ],
} as const;

/** "I owe `receiver` a cumulative `balance` on this channel", signed by the sender. */
export type BalanceProofParameters = ChannelDomainParameters & {
  receiver: Address;
  openBlock: number;
  balance: bigint;
};
export type BalanceProofTypedDataReturnType = {
  domain: ChannelDomain;
  types: typeof balanceProofTypes;
  primaryType: "BalanceProof";
  message: { receiver: Address; openBlock: number; balance: bigint };
};

export function balanceProofTypedData(p: BalanceProofParameters): BalanceProofTypedDataReturnType {
  return {
    domain: channelDomain(p.chainId, p.contract),
    types: balanceProofTypes,
    primaryType: "BalanceProof",
    message: { receiver: p.receiver, openBlock: p.openBlock, balance: p.balance },
  };
}

/** "Close this channel at `balance`", signed by the receiver. */
export type ClosingProofParameters = ChannelDomainParameters & {
  sender: Address;
  openBlock: number;
  balance: bigint;
};
export type ClosingProofTypedDataReturnType = {
  domain: ChannelDomain;
  types: typeof closingProofTypes;
  primaryType: "ClosingProof";
  message: { sender: Address; openBlock: number; balance: bigint };
};

export function closingProofTypedData(p: ClosingProofParameters): ClosingProofTypedDataReturnType {
  return {
    domain: channelDomain(p.chainId, p.contract),
    types: closingProofTypes,
    primaryType: "ClosingProof",
    message: { sender: p.sender, openBlock: p.openBlock, balance: p.balance },
  };
}

/** "Give me a closing proof", signed by the sender; `deadline` is unix seconds. */
export type CloseRequestParameters = ChannelDomainParameters & {
  receiver: Address;
  openBlock: number;
  deadline: bigint;
};
export type CloseRequestTypedDataReturnType = {
  domain: ChannelDomain;
  types: typeof closeRequestTypes;
  primaryType: "CloseRequest";
  message: { receiver: Address; openBlock: number; deadline: bigint };
};

export function closeRequestTypedData(p: CloseRequestParameters): CloseRequestTypedDataReturnType {
  return {
    domain: channelDomain(p.chainId, p.contract),
    types: closeRequestTypes,
    primaryType: "CloseRequest",
    message: { receiver: p.receiver, openBlock: p.openBlock, deadline: p.deadline },
  };
}

/** Any of the protocol's typed-data definitions. */
export type ChannelTypedData =
  | BalanceProofTypedDataReturnType
  | ClosingProofTypedDataReturnType
  | CloseRequestTypedDataReturnType;
