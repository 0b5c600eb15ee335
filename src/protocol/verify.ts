// Verification of the protocol's signatures, the one costly step of a paid request: these
// functions are the whole API, so the fast path behind them (fast-verify.ts: cached domain
// separators and libsecp256k1 in WebAssembly, tested against viem) can change without callers.
import type { Address, Hex } from "viem";
import type { BalanceProofParameters, CloseRequestParameters, ClosingProofParameters } from "./eip712.js";
import { isProtocolError } from "./errors.js";
import { fastRecover, fastRecoverLower } from "./fast-verify.js";

/** A balance proof's fields and its signature. */
export type RecoverBalanceProofSignerParameters = BalanceProofParameters & { signature: Hex };
/** A closing proof's fields and its signature. */
export type RecoverClosingProofSignerParameters = ClosingProofParameters & { signature: Hex };
/** A close request's fields and its signature. */
export type RecoverCloseRequestSignerParameters = CloseRequestParameters & { signature: Hex };
/** The signer, checksummed. */
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

/**
 * The address that signed a balance proof.
 *
 * @param p - The domain (`chainId`, `contract`), `receiver`, `openBlock`, `balance` and `signature`.
 * @returns The signer (any proof recovers to some address: compare it, or use `verifyBalanceProof`).
 * @throws ProtocolError `invalid_balance_proof` when the signature breaks the rules or does not recover.
 * @example
 * ```ts
 * const signer = await recoverBalanceProofSigner({ chainId, contract, receiver, openBlock, balance, signature });
 * ```
 */
export function recoverBalanceProofSigner(p: RecoverBalanceProofSignerParameters): Promise<RecoverSignerReturnType> {
  return fastRecover(balanceProof(p));
}

/**
 * The address that signed a closing proof.
 *
 * @param p - The domain (`chainId`, `contract`), `sender`, `openBlock`, `balance` and `signature`.
 * @returns The signer.
 * @throws ProtocolError `invalid_balance_proof` when the signature breaks the rules or does not recover.
 * @example
 * ```ts
 * const signer = await recoverClosingProofSigner({ chainId, contract, sender, openBlock, balance, signature });
 * ```
 */
export function recoverClosingProofSigner(p: RecoverClosingProofSignerParameters): Promise<RecoverSignerReturnType> {
  return fastRecover(closingProof(p));
}

/**
 * The address that signed a close request.
 *
 * @param p - The domain (`chainId`, `contract`), `receiver`, `openBlock`, `deadline` and `signature`.
 * @returns The signer.
 * @throws ProtocolError `invalid_balance_proof` when the signature breaks the rules or does not recover.
 * @example
 * ```ts
 * const signer = await recoverCloseRequestSigner({ chainId, contract, receiver, openBlock, deadline, signature });
 * ```
 */
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

/** A balance proof, its signature and the sender expected to have signed it. */
export type VerifyBalanceProofParameters = RecoverBalanceProofSignerParameters & { sender: Address };
/** A closing proof, its signature and the receiver expected to have signed it. */
export type VerifyClosingProofParameters = RecoverClosingProofSignerParameters & { receiver: Address };
/** A close request, its signature and the sender expected to have signed it. */
export type VerifyCloseRequestParameters = RecoverCloseRequestSignerParameters & { sender: Address };
/** Whether the expected party signed. */
export type VerifyReturnType = boolean;

/**
 * Whether a balance proof was signed by `sender` (compared case-insensitively).
 *
 * @param p - The domain (`chainId`, `contract`), `receiver`, `openBlock`, `balance`, `signature`
 *   and the expected `sender`.
 * @returns True for the sender's signature; false for anyone else's, and for an invalid
 *   signature (high s, bad v, unrecoverable), which is not an error.
 * @throws Only for a fault of the runtime (the WebAssembly module failing to load).
 * @example
 * ```ts
 * if (!(await verifyBalanceProof({ chainId, contract, receiver, openBlock, balance, signature, sender }))) {
 *   throw new ProtocolError("invalid_balance_proof");
 * }
 * ```
 */
export function verifyBalanceProof(p: VerifyBalanceProofParameters): Promise<VerifyReturnType> {
  return matches(fastRecoverLower(balanceProof(p)), p.sender);
}

/**
 * Whether a closing proof was signed by `receiver`.
 *
 * @param p - The domain (`chainId`, `contract`), `sender`, `openBlock`, `balance`, `signature`
 *   and the expected `receiver`.
 * @returns True for the receiver's signature; false otherwise, an invalid signature included.
 * @throws Only for a fault of the runtime.
 * @example
 * ```ts
 * const ok = await verifyClosingProof({ chainId, contract, sender, openBlock, balance, signature: closingSig, receiver });
 * ```
 */
export function verifyClosingProof(p: VerifyClosingProofParameters): Promise<VerifyReturnType> {
  return matches(fastRecoverLower(closingProof(p)), p.receiver);
}

/**
 * Whether a close request was signed by `sender`.
 *
 * @param p - The domain (`chainId`, `contract`), `receiver`, `openBlock`, `deadline`, `signature`
 *   and the expected `sender`.
 * @returns True for the sender's signature; false otherwise, an invalid signature included.
 * @throws Only for a fault of the runtime.
 * @example
 * ```ts
 * const ok = await verifyCloseRequest({ chainId, contract, receiver, openBlock, deadline, signature, sender });
 * ```
 */
export function verifyCloseRequest(p: VerifyCloseRequestParameters): Promise<VerifyReturnType> {
  return matches(fastRecoverLower(closeRequest(p)), p.sender);
}
