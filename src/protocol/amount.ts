// Small bigint helpers for token amounts (base units), which are always bigint in this code:
// the smaller and the larger of two amounts.

export function minBigint(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

export function maxBigint(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
