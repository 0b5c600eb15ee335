import { describe, expect, it } from "vitest";
import { MAX_UINT_DIGITS, maxBigint, minBigint, parseAmount } from "./amount.js";

describe("amount helpers", () => {
  it("pick the smaller and the larger amount", () => {
    expect(minBigint(3n, 5n)).toBe(3n);
    expect(minBigint(5n, 3n)).toBe(3n);
    expect(maxBigint(3n, 5n)).toBe(5n);
    expect(maxBigint(5n, 5n)).toBe(5n);
    expect(maxBigint(0n, 2n ** 192n - 1n)).toBe(2n ** 192n - 1n);
  });
});

describe("parseAmount", () => {
  it("reads unsigned decimal strings, non-negative integers and bigints", () => {
    expect(parseAmount("0")).toBe(0n);
    expect(parseAmount("1000")).toBe(1000n);
    expect(parseAmount("9".repeat(MAX_UINT_DIGITS))).toBe(10n ** 78n - 1n);
    expect(parseAmount(42)).toBe(42n);
    expect(parseAmount(0)).toBe(0n);
    expect(parseAmount(7n)).toBe(7n);
  });

  it.each([
    ["empty", ""],
    ["leading zero", "007"],
    ["sign", "+1"],
    ["minus", "-1"],
    ["space", " 1"],
    ["hex", "0x10"],
    ["exponent", "1e3"],
    ["decimal point", "1.0"],
    ["too long", "1".repeat(MAX_UINT_DIGITS + 1)],
    ["negative number", -1],
    ["fraction", 1.5],
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["negative bigint", -1n],
    ["null", null],
    ["undefined", undefined],
    ["object", {}],
  ])("refuses %s", (_name, value) => {
    expect(parseAmount(value)).toBeNull();
  });

  it("checks the width when one is given", () => {
    expect(parseAmount("4294967295", 32)).toBe(4294967295n);
    expect(parseAmount("4294967296", 32)).toBeNull();
    expect(parseAmount(2n ** 192n - 1n, 192)).toBe(2n ** 192n - 1n);
    expect(parseAmount(2n ** 192n, 192)).toBeNull();
    expect(parseAmount(2 ** 32, 32)).toBeNull();
  });
});
