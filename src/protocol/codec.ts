// The strict header codec: turns `RDN-*` header (or cookie) strings into typed values and back.
// Integers are unsigned decimal strings (no sign, space, hex, exponent or leading zero), bounded
// by their Solidity width; addresses are `0x` + 40 hex in any case (returned checksummed);
// signatures are `0x` + 130 hex (returned normalised by `normalizeSignature`). Every shape
// failure throws `ProtocolError("malformed_header", <message naming the header>, { header })`;
// a well-shaped signature that breaks the signature rules (high s, bad v, r/s out of range) is
// a refused proof, `invalid_balance_proof`. `parsePaymentHeaders` reads a whole payment.
import { getAddress, type Address, type Hex } from "viem";
import { MAX_UINT_DIGITS, parseAmount } from "./amount.js";
import { ProtocolError } from "./errors.js";
import { RdnHeaders } from "./headers.js";
import { isSignatureShape, normalizeSignature } from "./signature.js";

/** A session token is 1 to 512 characters of base64url and `.`. */
export const MAX_SESSION_LENGTH = 512;

const address = /^0x[0-9a-fA-F]{40}$/;
const sessionToken = /^[A-Za-z0-9_.-]{1,512}$/;

function malformed(field: string, reason: string): never {
  throw new ProtocolError("malformed_header", `${field}: ${reason}.`, { header: field });
}

/**
 * Parses an unsigned decimal integer below 2^bits (default uint192). Only `0` or a digit string
 * without a leading zero is accepted; the length is capped before any BigInt is built.
 */
export function parseUint(value: string, field: string, bits = 192): bigint {
  if (typeof value !== "string" || value.length === 0) malformed(field, "expected an unsigned decimal integer");
  if (value.length > MAX_UINT_DIGITS) malformed(field, `the value is longer than ${MAX_UINT_DIGITS} digits`);
  const n = parseAmount(value);
  if (n === null) {
    malformed(field, "expected an unsigned decimal integer without sign, spaces, leading zeros, hex or exponent");
  }
  if (n >= 1n << BigInt(bits)) malformed(field, `the value does not fit in uint${bits}`);
  return n;
}

/** Parses a channel's open block: a uint32. */
export function parseOpenBlock(value: string, field: string = RdnHeaders.openBlock): number {
  return Number(parseUint(value, field, 32));
}

/**
 * Parses `0x` + 40 hex digits in any case (the checksum is not enforced: the protocol compares
 * addresses case-insensitively) and returns the EIP-55 checksummed address.
 */
export function parseAddress(value: string, field: string): Address {
  if (typeof value !== "string" || !address.test(value)) malformed(field, "expected 0x followed by 40 hex digits");
  return getAddress(value.toLowerCase());
}

/**
 * Parses `0x` + 130 hex digits (`r ‖ s ‖ v`) and returns it lowercase with v in {27, 28}.
 * A wrong shape is `malformed_header`; high s, r or s out of range, or v outside {0, 1, 27, 28}
 * is `invalid_balance_proof`.
 */
export function parseSignature(value: string, field: string): Hex {
  if (typeof value !== "string" || !isSignatureShape(value)) malformed(field, "expected 0x followed by 130 hex digits");
  return normalizeSignature(value, { header: field });
}

/** Parses a session token: 1 to 512 characters of base64url and `.`. */
export function parseSessionToken(value: string, field: string = RdnHeaders.session): string {
  if (typeof value !== "string" || !sessionToken.test(value)) {
    malformed(field, `expected 1 to ${MAX_SESSION_LENGTH} characters of base64url or '.'`);
  }
  return value;
}

/** Formats an unsigned integer for the wire: plain decimal. */
export function formatUint(v: bigint): string {
  if (typeof v !== "bigint" || v < 0n) throw new RangeError("formatUint: expected a non-negative bigint");
  return v.toString(10);
}

/** A new balance proof sent with a request. */
export type ProofPayment = { kind: "proof"; sender: Address; openBlock: number; balance: bigint; signature: Hex };
/** A session token sent instead of a new proof, to spend prepaid credit. */
export type SessionPayment = { kind: "session"; token: string; sender?: Address; openBlock?: number };
export type Payment = ProofPayment | SessionPayment;

/** Reads one header (or cookie) by its canonical name; absent is `null` or `undefined`. */
export type HeaderGetter = (name: string) => string | null | undefined;

export type ParsePaymentHeadersParameters = HeaderGetter;
export type ParsePaymentHeadersReturnType = Payment | null;

/**
 * Reads the payment of a request. Returns null when none of `RDN-Sender-Address`,
 * `RDN-Open-Block`, `RDN-Balance`, `RDN-Balance-Signature`, `RDN-Session` is present.
 * With `RDN-Balance` (or without a session) it is a proof and needs all four proof headers;
 * the first missing one is named in the `malformed_header` error. Otherwise it is a session
 * payment, with the sender and open block parsed when present. A present but empty header
 * is malformed, not absent.
 */
export function parsePaymentHeaders(get: ParsePaymentHeadersParameters): ParsePaymentHeadersReturnType {
  const read = (name: string): string | undefined => {
    const v = get(name);
    return v === null || v === undefined ? undefined : v;
  };
  const sender = read(RdnHeaders.senderAddress);
  const openBlock = read(RdnHeaders.openBlock);
  const balance = read(RdnHeaders.balance);
  const signature = read(RdnHeaders.balanceSignature);
  const session = read(RdnHeaders.session);

  if (
    sender === undefined &&
    openBlock === undefined &&
    balance === undefined &&
    signature === undefined &&
    session === undefined
  ) {
    return null;
  }

  if (balance === undefined && session !== undefined) {
    return {
      kind: "session",
      token: parseSessionToken(session, RdnHeaders.session),
      ...(sender !== undefined ? { sender: parseAddress(sender, RdnHeaders.senderAddress) } : {}),
      ...(openBlock !== undefined ? { openBlock: parseOpenBlock(openBlock, RdnHeaders.openBlock) } : {}),
    };
  }

  if (sender === undefined) missingProofHeader(RdnHeaders.senderAddress);
  if (openBlock === undefined) missingProofHeader(RdnHeaders.openBlock);
  if (balance === undefined) missingProofHeader(RdnHeaders.balance);
  if (signature === undefined) missingProofHeader(RdnHeaders.balanceSignature);

  return {
    kind: "proof",
    sender: parseAddress(sender, RdnHeaders.senderAddress),
    openBlock: parseOpenBlock(openBlock, RdnHeaders.openBlock),
    balance: parseUint(balance, RdnHeaders.balance),
    signature: parseSignature(signature, RdnHeaders.balanceSignature),
  };
}

function missingProofHeader(field: string): never {
  malformed(field, "missing; a balance proof needs the sender address, open block, balance and balance signature");
}

export type EncodeProofHeadersParameters = Omit<ProofPayment, "kind">;
export type EncodeProofHeadersReturnType = Record<string, string>;

/** The request headers that pay with a balance proof (for clients). */
export function encodeProofHeaders(p: EncodeProofHeadersParameters): EncodeProofHeadersReturnType {
  return {
    [RdnHeaders.senderAddress]: p.sender,
    [RdnHeaders.openBlock]: formatUint(BigInt(p.openBlock)),
    [RdnHeaders.balance]: formatUint(p.balance),
    [RdnHeaders.balanceSignature]: p.signature,
  };
}

export type EncodeSessionHeadersParameters = Omit<SessionPayment, "kind">;

/** The request headers that spend credit with a session token (for clients). */
export function encodeSessionHeaders(p: EncodeSessionHeadersParameters): Record<string, string> {
  return {
    [RdnHeaders.session]: p.token,
    ...(p.sender !== undefined ? { [RdnHeaders.senderAddress]: p.sender } : {}),
    ...(p.openBlock !== undefined ? { [RdnHeaders.openBlock]: formatUint(BigInt(p.openBlock)) } : {}),
  };
}
