// The strict header codec: `RDN-*` header (or cookie) strings to typed values and back. Every
// header is hostile until read here, so each shape failure is one `malformed_header` error that
// names the header, and nothing larger than its Solidity width is ever built.
import { getAddress, type Address, type Hex } from "viem";
import { MAX_UINT_DIGITS, parseAmount } from "./amount.js";
import { ProtocolError } from "./errors.js";
import { RdnHeaders } from "./headers.js";
import { isSignatureShape, normalizeSignature } from "./signature.js";

/** The longest session token accepted: 512 characters of base64url and `.`. */
export const MAX_SESSION_LENGTH = 512;

const address = /^0x[0-9a-fA-F]{40}$/;
const sessionToken = /^[A-Za-z0-9_.-]{1,512}$/;

function malformed(field: string, reason: string): never {
  throw new ProtocolError("malformed_header", `${field}: ${reason}.`, { header: field });
}

/**
 * Parses a header's unsigned decimal integer below 2^`bits`.
 *
 * @param value - The header's value: `0` or digits without a leading zero, sign, space, hex or
 *   exponent; the length is capped before any BigInt is built.
 * @param field - The header's name, for the error.
 * @param bits - The Solidity width (default 192, a channel's amounts).
 * @returns The integer.
 * @throws ProtocolError `malformed_header` naming `field` for any other value.
 * @example
 * ```ts
 * parseUint("1500", RdnHeaders.balance); // 1500n
 * parseUint("01", RdnHeaders.balance);   // throws malformed_header
 * ```
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

/**
 * Parses a channel's open block: a uint32.
 *
 * @param value - The header's value.
 * @param field - The header's name, for the error (default `RDN-Open-Block`).
 * @returns The block number.
 * @throws ProtocolError `malformed_header` when it is not a uint32.
 * @example
 * ```ts
 * parseOpenBlock("12345"); // 12345
 * ```
 */
export function parseOpenBlock(value: string, field: string = RdnHeaders.openBlock): number {
  return Number(parseUint(value, field, 32));
}

/**
 * Parses an address: `0x` + 40 hex digits in any case (the checksum is not enforced: the
 * protocol compares addresses case-insensitively).
 *
 * @param value - The header's value.
 * @param field - The header's name, for the error.
 * @returns The EIP-55 checksummed address.
 * @throws ProtocolError `malformed_header` for any other shape.
 * @example
 * ```ts
 * parseAddress("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266", RdnHeaders.senderAddress);
 * // "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
 * ```
 */
export function parseAddress(value: string, field: string): Address {
  if (typeof value !== "string" || !address.test(value)) malformed(field, "expected 0x followed by 40 hex digits");
  return getAddress(value.toLowerCase());
}

/**
 * Parses a 65-byte signature, `0x` + 130 hex digits (`r ‖ s ‖ v`).
 *
 * @param value - The header's value.
 * @param field - The header's name, for the error.
 * @returns The signature, lowercase, with v in {27, 28}.
 * @throws ProtocolError `malformed_header` for a wrong shape; `invalid_balance_proof` for a high
 *   s, r or s out of range, or v outside {0, 1, 27, 28}.
 * @example
 * ```ts
 * const sig = parseSignature(c.req.header(RdnHeaders.balanceSignature) ?? "", RdnHeaders.balanceSignature);
 * ```
 */
export function parseSignature(value: string, field: string): Hex {
  if (typeof value !== "string" || !isSignatureShape(value)) malformed(field, "expected 0x followed by 130 hex digits");
  return normalizeSignature(value, { header: field });
}

/**
 * Parses a session token: 1 to 512 characters of base64url and `.`. Only the shape: the Worker
 * checks its MAC and expiry.
 *
 * @param value - The header's value.
 * @param field - The header's name, for the error (default `RDN-Session`).
 * @returns The token as given.
 * @throws ProtocolError `malformed_header` for any other shape.
 * @example
 * ```ts
 * parseSessionToken(res.headers.get(RdnHeaders.session) ?? "");
 * ```
 */
export function parseSessionToken(value: string, field: string = RdnHeaders.session): string {
  if (typeof value !== "string" || !sessionToken.test(value)) {
    malformed(field, `expected 1 to ${MAX_SESSION_LENGTH} characters of base64url or '.'`);
  }
  return value;
}

/**
 * Formats an unsigned integer for the wire: plain decimal.
 *
 * @param v - A bigint >= 0.
 * @returns Its decimal digits.
 * @throws RangeError for a negative value or a non-bigint.
 * @example
 * ```ts
 * formatUint(1500n); // "1500"
 * ```
 */
export function formatUint(v: bigint): string {
  if (typeof v !== "bigint" || v < 0n) throw new RangeError("formatUint: expected a non-negative bigint");
  return v.toString(10);
}

/** A new balance proof sent with a request: the channel, the cumulative balance and the
 *  sender's EIP-712 signature of it. */
export type ProofPayment = { kind: "proof"; sender: Address; openBlock: number; balance: bigint; signature: Hex };
/** A session token sent instead of a new proof, to spend prepaid credit. */
export type SessionPayment = { kind: "session"; token: string; sender?: Address; openBlock?: number };
/** What a request pays with. */
export type Payment = ProofPayment | SessionPayment;

/** Reads one header (or cookie) by its canonical name; absent is `null` or `undefined`. */
export type HeaderGetter = (name: string) => string | null | undefined;

/** What `parsePaymentHeaders` reads with. */
export type ParsePaymentHeadersParameters = HeaderGetter;
/** The payment, or null when the request carries none. */
export type ParsePaymentHeadersReturnType = Payment | null;

/**
 * Reads the payment of a request. With `RDN-Balance` (or without a session) it is a proof and
 * needs all four proof headers; otherwise it is a session payment, with the sender and open
 * block parsed when present. A present but empty header is malformed, not absent.
 *
 * @param get - Reads one header (or cookie) by its canonical name.
 * @returns The payment, or null when none of `RDN-Sender-Address`, `RDN-Open-Block`,
 *   `RDN-Balance`, `RDN-Balance-Signature`, `RDN-Session` is present.
 * @throws ProtocolError `malformed_header` naming the first missing or malformed header;
 *   `invalid_balance_proof` for a signature that breaks the signature rules.
 * @example
 * ```ts
 * const payment = parsePaymentHeaders((name) => request.headers.get(name));
 * if (payment?.kind === "proof") console.log(payment.sender, payment.balance);
 * ```
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

/** A proof payment's fields. */
export type EncodeProofHeadersParameters = Omit<ProofPayment, "kind">;
/** Header names to values. */
export type EncodeProofHeadersReturnType = Record<string, string>;

/**
 * The request headers that pay with a balance proof (for clients).
 *
 * @param p - The channel (sender, open block), the cumulative balance and its signature.
 * @returns The four `RDN-*` proof headers.
 * @example
 * ```ts
 * const signature = await signBalanceProof(account, { chainId, contract, receiver, openBlock, balance });
 * await fetch(url, { headers: encodeProofHeaders({ sender: account.address, openBlock, balance, signature }) });
 * ```
 */
export function encodeProofHeaders(p: EncodeProofHeadersParameters): EncodeProofHeadersReturnType {
  return {
    [RdnHeaders.senderAddress]: p.sender,
    [RdnHeaders.openBlock]: formatUint(BigInt(p.openBlock)),
    [RdnHeaders.balance]: formatUint(p.balance),
    [RdnHeaders.balanceSignature]: p.signature,
  };
}

/** A session payment's fields. */
export type EncodeSessionHeadersParameters = Omit<SessionPayment, "kind">;

/**
 * The request headers that spend credit with a session token (for clients).
 *
 * @param p - The token the server returned in `RDN-Session`, and optionally the channel.
 * @returns `RDN-Session` (and the channel headers when given).
 * @example
 * ```ts
 * await fetch(url, { headers: encodeSessionHeaders({ token: res.headers.get(RdnHeaders.session)! }) });
 * ```
 */
export function encodeSessionHeaders(p: EncodeSessionHeadersParameters): Record<string, string> {
  return {
    [RdnHeaders.session]: p.token,
    ...(p.sender !== undefined ? { [RdnHeaders.senderAddress]: p.sender } : {}),
    ...(p.openBlock !== undefined ? { [RdnHeaders.openBlock]: formatUint(BigInt(p.openBlock)) } : {}),
  };
}
