// Token amounts (base units) are bigint everywhere in this code. This module is the one place
// that says what an amount may look like when it arrives as text or a number, and the small
// helpers that compare two of them.

/** 2^256 has 78 decimal digits: nothing longer is parsed, whatever the width. */
export const MAX_UINT_DIGITS = 78;

const unsignedDecimal = /^(0|[1-9][0-9]*)$/;

/**
 * Reads an amount in token base units, or any other unsigned integer (below 2^`bits` if given).
 *
 * Accepted: a bigint >= 0; a non-negative integer `number`; a string of decimal digits with no
 * sign, space, leading zero, hex or exponent, at most {@link MAX_UINT_DIGITS} long (the length
 * is checked before any BigInt is built).
 *
 * @param value - What to read (a header, a config var, a CLI argument, a route's price).
 * @param bits - The width the value must fit in, if any (192 for a channel's amounts, 32 for an
 *   open block).
 * @returns The amount, or `null` when `value` is not such an integer. It never throws, so each
 *   caller words its own error.
 * @example
 * ```ts
 * parseAmount("1000");      // 1000n
 * parseAmount("007");       // null (leading zero)
 * parseAmount(-1);          // null
 * parseAmount("4294967296", 32); // null (does not fit in a uint32)
 * ```
 */
export function parseAmount(value: unknown, bits?: number): bigint | null {
  let n: bigint;
  if (typeof value === "bigint") n = value;
  else if (typeof value === "number") {
    if (!Number.isInteger(value)) return null;
    n = BigInt(value);
  } else if (typeof value === "string") {
    if (value.length > MAX_UINT_DIGITS || !unsignedDecimal.test(value)) return null;
    n = BigInt(value);
  } else return null;
  if (n < 0n || (bits !== undefined && n >= 1n << BigInt(bits))) return null;
  return n;
}

/**
 * The smaller of two amounts.
 *
 * @example
 * ```ts
 * minBigint(3n, 5n); // 3n
 * ```
 */
export function minBigint(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

/**
 * The larger of two amounts.
 *
 * @example
 * ```ts
 * maxBigint(3n, 5n); // 5n
 * ```
 */
export function maxBigint(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
