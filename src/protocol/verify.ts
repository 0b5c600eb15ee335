// Verification of the protocol's signatures: recover the signer of a balance proof, closing
// proof or close request over a given chain and contract, or check it against an expected
// address. The signature is held to the protocol's rules (low s, v in {0, 1, 27, 28}, r and s
// in range, as `normalizeSignature` words them); any failure, there or in recovery, is a
// `ProtocolError("invalid_balance_proof")`. The work is done by fast-verify.ts (cached domain
// separators, Keccak-256 and libsecp256k1 recovery in WebAssembly); viem's
// `recoverTypedDataAddress` is the reference it is tested against. Callers depend only on
// these functions.
import type { Address, Hex } from "viem";
import type { BalanceProofParameters, CloseRequestParameters, ClosingProofParameters } from "./eip712.js";
import { isProtocolError } from "./errors.js";
import { fastRecover, fastRecoverLower } from "./fast-verify.js";

export type RecoverBalanceProofSignerParameters = BalanceProofParameters & { signature: Hex };
export type RecoverClosingProofSignerParameters = ClosingProofParameters & { signature: Hex };
export type RecoverCloseRequestSignerParameters = CloseRequestParameters & { signature: Hex };
export type RecoverSignerReturnType = Address;

const balanceProof = (p: RecoverBalanceProofSignerParameters) =>
  ({
    kind: "BalanceProof",
    chainId: p.chainId,
    contract: p.contract,
    address: p.receiver,
    openBlock: p.openBlock,
    amount: p.balance,
    signature: p.signature,
  }) as const;
const closingProof = (p: RecoverClosingProofSignerParameters) =>
  ({
    kind: "ClosingProof",
    chainId: p.chainId,
    contract: p.contract,
    address: p.sender,
    openBlock: p.openBlock,
    amount: p.balance,
    signature: p.signature,
  }) as const;
const closeRequest = (p: RecoverCloseRequestSignerParameters) =>
  ({
    kind: "CloseRequest",
    chainId: p.chainId,
    contract: p.contract,
    address: p.receiver,
    openBlock: p.openBlock,
    amount: p.deadline,
    signature: p.signature,
  }) as const;

/** The address that signed a balance proof for this chain, contract, receiver, open block and balance. */
export function recoverBalanceProofSigner(p: RecoverBalanceProofSignerParameters): Promise<RecoverSignerReturnType> {
  return fastRecover(balanceProof(p));
}

/** The address that signed a closing proof for this chain, contract, sender, open block and balance. */
export function recoverClosingProofSigner(p: RecoverClosingProofSignerParameters): Promise<RecoverSignerReturnType> {
  return fastRecover(closingProof(p));
}

/** The address that signed a close request for this chain, contract, receiver, open block and deadline. */
export function recoverCloseRequestSigner(p: RecoverCloseRequestSignerParameters): Promise<RecoverSignerReturnType> {
  return fastRecover(closeRequest(p));
}

async function matches(recover: Promise<string>, expected: Address): Promise<boolean> {
  try {
    return (await recover) === expected.toLowerCase();
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
  return matches(fastRecoverLower(balanceProof(p)), p.sender);
}

/** True when the closing proof was signed by `receiver`. An invalid signature is `false`. */
export function verifyClosingProof(p: VerifyClosingProofParameters): Promise<VerifyReturnType> {
  return matches(fastRecoverLower(closingProof(p)), p.receiver);
}

/** True when the close request was signed by `sender`. An invalid signature is `false`. */
export function verifyCloseRequest(p: VerifyCloseRequestParameters): Promise<VerifyReturnType> {
  return matches(fastRecoverLower(closeRequest(p)), p.sender);
}
