// The signature rules of the protocol, in one place: a signature is `0x` + 130 hex, `r ‖ s ‖ v`,
// with 0 < r < n, 0 < s <= n/2 (low s, EIP-2) and v in {27, 28} (0 and 1 accepted as 27 and 28).
// `normalizeSignature` checks a signature against these rules and returns its canonical form
// (lowercase, v in {27, 28}); any failure is a `ProtocolError("invalid_balance_proof")`. The
// header codec adds its own shape check (a malformed header is a 400, not a refused proof).
import type { Hex } from "viem";
import { ProtocolError } from "./errors.js";

/** The order of the secp256k1 group. */
export const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
/** The largest `s` a low-s signature may have: floor(n / 2). */
export const SECP256K1_HALF_N = SECP256K1_N >> 1n;

const signatureShape = /^0x[0-9a-fA-F]{130}$/;

export type NormalizeSignatureParameters = string;
export type NormalizeSignatureReturnType = Hex;

/** True when `value` has the shape of a signature: `0x` + 130 hex digits (any case). */
export function isSignatureShape(value: string): boolean {
  return signatureShape.test(value);
}

/**
 * Checks a 65-byte `r ‖ s ‖ v` signature (r and s in range, low s, v in {0, 1, 27, 28}) and
 * returns it lowercase with v in {27, 28}. Throws `ProtocolError("invalid_balance_proof")`.
 * `details` (e.g. `{ header }`) is attached to the error.
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
