// The EIP-712 side of the protocol, exactly as the contract hashes it: the domain, the three
// signed types, and builders of complete viem typed-data definitions, so the contract, the
// Worker, the client and any `eth_signTypedData_v4` wallet all sign and check the same bytes.
import type { Address } from "viem";

/** The EIP-712 domain name of the channel manager contract. */
export const EIP712_NAME = "MicroTransferChannels";
/** The EIP-712 domain version of the channel manager contract. */
export const EIP712_VERSION = "1";

/** Where a signature is valid: one chain, one channel manager contract. */
export type ChannelDomainParameters = { chainId: number; contract: Address };

/** The full EIP-712 domain of a channel manager. */
export type ChannelDomain = {
  name: typeof EIP712_NAME;
  version: typeof EIP712_VERSION;
  chainId: number;
  verifyingContract: Address;
};

/**
 * The EIP-712 domain of a channel manager.
 *
 * @param chainId - The chain the contract is on.
 * @param verifyingContract - The channel manager's address.
 * @returns `{ name, version, chainId, verifyingContract }`.
 * @example
 * ```ts
 * const domain = channelDomain(8453, "0x…");
 * ```
 */
export function channelDomain(chainId: number, verifyingContract: Address): ChannelDomain {
  return { name: EIP712_NAME, version: EIP712_VERSION, chainId, verifyingContract };
}

/** The encoded BalanceProof type, as the contract's type hash is computed from it. */
export const BALANCE_PROOF_TYPE = "BalanceProof(address receiver,uint32 openBlock,uint192 balance)";
/** The encoded ClosingProof type, as the contract's type hash is computed from it. */
export const CLOSING_PROOF_TYPE = "ClosingProof(address sender,uint32 openBlock,uint192 balance)";
/** The encoded CloseRequest type (HTTP only: the contract never sees it). */
export const CLOSE_REQUEST_TYPE = "CloseRequest(address receiver,uint32 openBlock,uint64 deadline)";

/** The BalanceProof type for viem's `types`. */
export const balanceProofTypes = {
  BalanceProof: [
    { name: "receiver", type: "address" },
    { name: "openBlock", type: "uint32" },
    { name: "balance", type: "uint192" },
  ],
} as const;

/** The ClosingProof type for viem's `types`. */
export const closingProofTypes = {
  ClosingProof: [
    { name: "sender", type: "address" },
    { name: "openBlock", type: "uint32" },
    { name: "balance", type: "uint192" },
  ],
} as const;

/** The CloseRequest type for viem's `types`. */
export const closeRequestTypes = {
  CloseRequest: [
    { name: "receiver", type: "address" },
    { name: "openBlock", type: "uint32" },
    { name: "deadline", type: "uint64" },
  ],
} as const;

/** The token's EIP-2612 Permit type for viem's `types`: a channel opened with
 *  `createChannelWithPermit` signs it over the token's own domain. */
export const permitTypes = {
  Permit: [
    { name: "owner", type: "address" },
    { name: "spender", type: "address" },
    { name: "value", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
} as const;

/** "I owe `receiver` a cumulative `balance` on this channel", signed by the sender. */
export type BalanceProofParameters = ChannelDomainParameters & {
  receiver: Address;
  openBlock: number;
  balance: bigint;
};
/** A complete typed-data definition of one of the protocol's structs, for viem. */
type TypedDataOf<Types, Primary extends string, Message> = {
  domain: ChannelDomain;
  types: Types;
  primaryType: Primary;
  message: Message;
};

function typedData<Types, Primary extends string, Message>(
  p: ChannelDomainParameters,
  types: Types,
  primaryType: Primary,
  message: Message,
): TypedDataOf<Types, Primary, Message> {
  return { domain: channelDomain(p.chainId, p.contract), types, primaryType, message };
}

/** A BalanceProof's complete typed data. */
export type BalanceProofTypedDataReturnType = TypedDataOf<
  typeof balanceProofTypes,
  "BalanceProof",
  { receiver: Address; openBlock: number; balance: bigint }
>;

/**
 * The typed data of a BalanceProof: "I owe `receiver` a cumulative `balance` on this channel",
 * signed by the sender.
 *
 * @param p - The domain (`chainId`, `contract`) and the message (`receiver`, `openBlock`, `balance`).
 * @returns `{ domain, types, primaryType, message }` for viem's `signTypedData`, `hashTypedData`
 *   and `recoverTypedDataAddress`.
 * @example
 * ```ts
 * const signature = await account.signTypedData(
 *   balanceProofTypedData({ chainId, contract, receiver, openBlock, balance: 1500n }),
 * );
 * ```
 */
export function balanceProofTypedData(p: BalanceProofParameters): BalanceProofTypedDataReturnType {
  return typedData(p, balanceProofTypes, "BalanceProof", {
    receiver: p.receiver,
    openBlock: p.openBlock,
    balance: p.balance,
  });
}

/** "Close this channel at `balance`", signed by the receiver. */
export type ClosingProofParameters = ChannelDomainParameters & {
  sender: Address;
  openBlock: number;
  balance: bigint;
};
/** A ClosingProof's complete typed data. */
export type ClosingProofTypedDataReturnType = TypedDataOf<
  typeof closingProofTypes,
  "ClosingProof",
  { sender: Address; openBlock: number; balance: bigint }
>;

/**
 * The typed data of a ClosingProof: "close this channel at `balance`", signed by the receiver.
 *
 * @param p - The domain (`chainId`, `contract`) and the message (`sender`, `openBlock`, `balance`).
 * @returns `{ domain, types, primaryType, message }` for viem.
 * @example
 * ```ts
 * const closingSig = await receiver.signTypedData(
 *   closingProofTypedData({ chainId, contract, sender, openBlock, balance: charged }),
 * );
 * ```
 */
export function closingProofTypedData(p: ClosingProofParameters): ClosingProofTypedDataReturnType {
  return typedData(p, closingProofTypes, "ClosingProof", {
    sender: p.sender,
    openBlock: p.openBlock,
    balance: p.balance,
  });
}

/** "Give me a closing proof", signed by the sender; `deadline` is unix seconds. */
export type CloseRequestParameters = ChannelDomainParameters & {
  receiver: Address;
  openBlock: number;
  deadline: bigint;
};
/** A CloseRequest's complete typed data. */
export type CloseRequestTypedDataReturnType = TypedDataOf<
  typeof closeRequestTypes,
  "CloseRequest",
  { receiver: Address; openBlock: number; deadline: bigint }
>;

/**
 * The typed data of a CloseRequest: "give me a closing proof", signed by the sender.
 *
 * @param p - The domain (`chainId`, `contract`) and the message (`receiver`, `openBlock`, and
 *   `deadline` in unix seconds).
 * @returns `{ domain, types, primaryType, message }` for viem.
 * @example
 * ```ts
 * const deadline = BigInt(Math.floor(Date.now() / 1000) + 300);
 * const sig = await account.signTypedData(closeRequestTypedData({ chainId, contract, receiver, openBlock, deadline }));
 * ```
 */
export function closeRequestTypedData(p: CloseRequestParameters): CloseRequestTypedDataReturnType {
  return typedData(p, closeRequestTypes, "CloseRequest", {
    receiver: p.receiver,
    openBlock: p.openBlock,
    deadline: p.deadline,
  });
}

/** Any of the protocol's typed-data definitions. */
export type ChannelTypedData =
  | BalanceProofTypedDataReturnType
  | ClosingProofTypedDataReturnType
  | CloseRequestTypedDataReturnType;
