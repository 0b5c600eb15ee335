// The signature rules of the protocol, in one place: `r ‖ s ‖ v` with 0 < r < n, low s (EIP-2)
// and v in {27, 28} (0 and 1 accepted as 27 and 28), so one signature has one canonical form and
// a malleable twin cannot be replayed as a different proof.
import type { Hex } from "viem";
import { ProtocolError } from "./errors.js";

/** The order of the secp256k1 group. */
export const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
/** The largest `s` a low-s signature may have: floor(n / 2). */
export const SECP256K1_HALF_N = SECP256K1_N >> 1n;

const signatureShape = /^0x[0-9a-fA-F]{130}$/;

/** A signature as received: any string. */
export type NormalizeSignatureParameters = string;
/** A canonical signature: lowercase, v in {27, 28}. */
export type NormalizeSignatureReturnType = Hex;

/**
 * Whether `value` has the shape of a signature: `0x` + 130 hex digits (any case). The shape
 * only: `normalizeSignature` checks the rules.
 *
 * @param value - Any string.
 * @returns True for the shape.
 * @example
 * ```ts
 * isSignatureShape("0x" + "ab".repeat(65)); // true
 * ```
 */
export function isSignatureShape(value: string): boolean {
  return signatureShape.test(value);
}

/**
 * Checks a 65-byte `r ‖ s ‖ v` signature against the rules and returns its canonical form.
 *
 * @param signature - `0x` + 130 hex digits.
 * @param details - Attached to the error (e.g. `{ header }`).
 * @returns The signature lowercase with v in {27, 28}.
 * @throws ProtocolError `invalid_balance_proof` for a wrong shape, r or s out of range, a high
 *   s, or v outside {0, 1, 27, 28}.
 * @example
 * ```ts
 * const canonical = normalizeSignature(await account.signTypedData(typedData));
 * ```
 */
export function normalizeSignature(
  signature: NormalizeSignatureParameters,
  details?: Record<string, string>,
): NormalizeSignatureReturnType {
  const fail = (reason: string): never => {
    throw new ProtocolError("invalid_balance_proof", `Invalid signature: ${reason}.`, details);
  };
  if (typeof signature !== "string" || !signatureShape.test(signature)) {
    fail("expected 0x followed by 130 hex digits");
  }
  const hex = signature.toLowerCase();
  const r = BigInt(`0x${hex.slice(2, 66)}`);
  const s = BigInt(`0x${hex.slice(66, 130)}`);
  const v = Number.parseInt(hex.slice(130, 132), 16);
  if (r === 0n || r >= SECP256K1_N) fail("r is out of range");
  if (s === 0n || s >= SECP256K1_N) fail("s is out of range");
  if (s > SECP256K1_HALF_N) fail("s is in the upper half of the curve order (high s)");
  let normalizedV: number;
  if (v === 0 || v === 27) normalizedV = 27;
  else if (v === 1 || v === 28) normalizedV = 28;
  else return fail("v must be 27 or 28 (or 0 or 1)");
  return `0x${hex.slice(2, 130)}${normalizedV.toString(16)}` as Hex;
}
