// Verification of the protocol's signatures: recover the signer of a balance proof, closing
// proof or close request over a given chain and contract, or check it against an expected
// address. The signature is first held to the protocol's rules (`normalizeSignature`: low s,
// v in {0, 1, 27, 28}, r and s in range); any failure, there or in recovery, is a
// `ProtocolError("invalid_balance_proof")`. Callers depend only on these functions, so the
// viem-based recovery below can be swapped for a faster secp256k1 without changing them.
import { recoverTypedDataAddress, type Address, type Hex } from "viem";
import {
  balanceProofTypedData,
  closeRequestTypedData,
  closingProofTypedData,
  type BalanceProofParameters,
  type CloseRequestParameters,
  type ClosingProofParameters,
} from "./eip712.js";
import { isProtocolError, ProtocolError } from "./errors.js";
import { normalizeSignature } from "./signature.js";

export type RecoverBalanceProofSignerParameters = BalanceProofParameters & { signature: Hex };
export type RecoverClosingProofSignerParameters = ClosingProofParameters & { signature: Hex };
export type RecoverCloseRequestSignerParameters = CloseRequestParameters & { signature: Hex };
export type RecoverSignerReturnType = Address;

async function recoverSigner(signature: Hex, recover: (signature: Hex) => Promise<Address>): Promise<Address> {
  const normalized = normalizeSignature(signature);
  try {
    return await recover(normalized);
  } catch {
    throw new ProtocolError("invalid_balance_proof", "Invalid signature: the signer cannot be recovered.");
  }
}

/** The address that signed a balance proof for this chain, contract, receiver, open block and balance. */
export function recoverBalanceProofSigner(p: RecoverBalanceProofSignerParameters): Promise<RecoverSignerReturnType> {
  return recoverSigner(p.signature, (signature) => recoverTypedDataAddress({ ...balanceProofTypedData(p), signature }));
}

/** The address that signed a closing proof for this chain, contract, sender, open block and balance. */
export function recoverClosingProofSigner(p: RecoverClosingProofSignerParameters): Promise<RecoverSignerReturnType> {
  return recoverSigner(p.signature, (signature) => recoverTypedDataAddress({ ...closingProofTypedData(p), signature }));
}

/** The address that signed a close request for this chain, contract, receiver, open block and deadline. */
export function recoverCloseRequestSigner(p: RecoverCloseRequestSignerParameters): Promise<RecoverSignerReturnType> {
  return recoverSigner(p.signature, (signature) => recoverTypedDataAddress({ ...closeRequestTypedData(p), signature }));
}

async function matches(recover: Promise<Address>, expected: Address): Promise<boolean> {
  try {
    return (await recover).toLowerCase() === expected.toLowerCase();
  } catch (e) {
    if (isProtocolError(e) && e.code === "invalid_balance_proof") return false;
    throw e;
  }
}

export type VerifyBalanceProofParameters = RecoverBalanceProofSignerParameters & { sender: Address };
export type VerifyClosingProofParameters = RecoverClosingProofSignerParameters & { receiver: Address };
export type VerifyCloseRequestParameters = RecoverCloseRequestSignerParameters & { sender: Address };
export type VerifyReturnType = boolean;

/**
 * True when the balance proof was signed by `sender` (compared case-insensitively). An invalid
 * signature (high s, bad v, unrecoverable) is `false`, not an error.
 */
export function verifyBalanceProof(p: VerifyBalanceProofParameters): Promise<VerifyReturnType> {
  return matches(recoverBalanceProofSigner(p), p.sender);
}

/** True when the closing proof was signed by `receiver`. An invalid signature is `false`. */
export function verifyClosingProof(p: VerifyClosingProofParameters): Promise<VerifyReturnType> {
  return matches(recoverClosingProofSigner(p), p.receiver);
}

/** True when the close request was signed by `sender`. An invalid signature is `false`. */
export function verifyCloseRequest(p: VerifyCloseRequestParameters): Promise<VerifyReturnType> {
  return matches(recoverCloseRequestSigner(p), p.sender);
}
