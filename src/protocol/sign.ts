// Signing the protocol's three messages with any EIP-712 signer: a viem LocalAccount
// (`privateKeyToAccount`, `mnemonicToAccount`) or a WalletClient that carries its account (a
// browser wallet through `eth_signTypedData_v4`). Senders sign balance proofs and close
// requests; the receiver signs closing proofs. Each returns the 65-byte `r ‖ s ‖ v` signature.
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

export type SignBalanceProofParameters = BalanceProofParameters;
export type SignClosingProofParameters = ClosingProofParameters;
export type SignCloseRequestParameters = CloseRequestParameters;
export type SignReturnType = Hex;

/** The sender's signature of "I owe `receiver` a cumulative `balance` on this channel". */
export function signBalanceProof(signer: TypedDataSigner, params: SignBalanceProofParameters): Promise<SignReturnType> {
  return signer.signTypedData(balanceProofTypedData(params));
}

/** The receiver's signature of "close this channel at `balance`". */
export function signClosingProof(signer: TypedDataSigner, params: SignClosingProofParameters): Promise<SignReturnType> {
  return signer.signTypedData(closingProofTypedData(params));
}

/** The sender's signature of "give me a closing proof" (valid until `deadline`, unix seconds). */
export function signCloseRequest(signer: TypedDataSigner, params: SignCloseRequestParameters): Promise<SignReturnType> {
  return signer.signTypedData(closeRequestTypedData(params));
}
