// Signing the protocol's three messages with any EIP-712 signer (a viem LocalAccount, or a
// WalletClient that carries a browser wallet's account), so no caller builds typed data by hand.
import type { Hex } from "viem";
import {
  balanceProofTypedData,
  closeRequestTypedData,
  closingProofTypedData,
  type BalanceProofParameters,
  type BalanceProofTypedDataReturnType,
  type CloseRequestParameters,
  type CloseRequestTypedDataReturnType,
  type ClosingProofParameters,
  type ClosingProofTypedDataReturnType,
} from "./eip712.js";

/**
 * Anything that signs the protocol's typed data. A viem `LocalAccount` and a `WalletClient`
 * with an account both fit: their generic `signTypedData` accepts each of these definitions.
 */
export type TypedDataSigner = {
  signTypedData: {
    (typedData: BalanceProofTypedDataReturnType): Promise<Hex>;
    (typedData: ClosingProofTypedDataReturnType): Promise<Hex>;
    (typedData: CloseRequestTypedDataReturnType): Promise<Hex>;
  };
};

/** What `signBalanceProof` signs: the domain, receiver, open block and cumulative balance. */
export type SignBalanceProofParameters = BalanceProofParameters;
/** What `signClosingProof` signs: the domain, sender, open block and closing balance. */
export type SignClosingProofParameters = ClosingProofParameters;
/** What `signCloseRequest` signs: the domain, receiver, open block and deadline. */
export type SignCloseRequestParameters = CloseRequestParameters;
/** A 65-byte `r ‖ s ‖ v` signature. */
export type SignReturnType = Hex;

/**
 * The sender's signature of "I owe `receiver` a cumulative `balance` on this channel".
 *
 * @param signer - The sender's account (or a wallet client with its account).
 * @param params - The domain (`chainId`, `contract`), `receiver`, `openBlock` and the new
 *   cumulative `balance` (the previous balance plus the price).
 * @returns The signature, for `RDN-Balance-Signature`.
 * @throws Whatever the signer throws (a wallet's refusal).
 * @example
 * ```ts
 * import { privateKeyToAccount } from "viem/accounts";
 * const account = privateKeyToAccount(key);
 * const signature = await signBalanceProof(account, { chainId, contract, receiver, openBlock, balance: 1500n });
 * ```
 */
export function signBalanceProof(signer: TypedDataSigner, params: SignBalanceProofParameters): Promise<SignReturnType> {
  return signer.signTypedData(balanceProofTypedData(params));
}

/**
 * The receiver's signature of "close this channel at `balance`".
 *
 * @param signer - The receiver's account.
 * @param params - The domain (`chainId`, `contract`), `sender`, `openBlock` and the closing `balance`.
 * @returns The signature the contract's `cooperativeClose` takes.
 * @throws Whatever the signer throws.
 * @example
 * ```ts
 * const closingSig = await signClosingProof(receiver, { chainId, contract, sender, openBlock, balance: charged });
 * ```
 */
export function signClosingProof(signer: TypedDataSigner, params: SignClosingProofParameters): Promise<SignReturnType> {
  return signer.signTypedData(closingProofTypedData(params));
}

/**
 * The sender's signature of "give me a closing proof", sent with `DELETE /api/1/channels/…`.
 *
 * @param signer - The sender's account (or a wallet client with its account).
 * @param params - The domain (`chainId`, `contract`), `receiver`, `openBlock` and `deadline`
 *   (unix seconds; the server refuses a request past it).
 * @returns The signature, for `RDN-Close-Signature`.
 * @throws Whatever the signer throws.
 * @example
 * ```ts
 * const deadline = BigInt(Math.floor(Date.now() / 1000) + 300);
 * const sig = await signCloseRequest(account, { chainId, contract, receiver, openBlock, deadline });
 * ```
 */
export function signCloseRequest(signer: TypedDataSigner, params: SignCloseRequestParameters): Promise<SignReturnType> {
  return signer.signTypedData(closeRequestTypedData(params));
}
