import { describe, expect, it } from "vitest";
import { maxBigint, minBigint } from "./amount.js";

describe("amount helpers", () => {
  it("pick the smaller and the larger amount", () => {
    expect(minBigint(3n, 5n)).toBe(3n);
    expect(minBigint(5n, 3n)).toBe(3n);
    expect(maxBigint(3n, 5n)).toBe(5n);
    expect(maxBigint(5n, 5n)).toBe(5n);
    expect(maxBigint(0n, 2n ** 192n - 1n)).toBe(2n ** 192n - 1n);
  });
});
