// Unit tests of the look-ups' negative cache: answers expire (a missing channel later than an
// unconfirmed one), and the cache never holds more than its bound (oldest dropped first).
import { describe, expect, it } from "vitest";
import { NEGATIVE_TTL_MS, NegativeCache } from "./cache.js";

describe("NegativeCache", () => {
  it("reuses an answer until it expires", () => {
    const cache = new NegativeCache();
    cache.set("a", "missing", 1000);
    cache.set("b", "unconfirmed", 1000);
    expect(cache.get("a", 1000 + NEGATIVE_TTL_MS.missing - 1)).toBe("missing");
    expect(cache.get("b", 1000 + NEGATIVE_TTL_MS.unconfirmed)).toBeNull();
    expect(cache.get("a", 1000 + NEGATIVE_TTL_MS.missing)).toBeNull();
    expect(cache.size).toBe(0);
  });

  it("holds at most its bound, dropping the oldest first", () => {
    const cache = new NegativeCache(3);
    for (const k of ["a", "b", "c", "d"]) cache.set(k, "missing", 0);
    expect(cache.size).toBe(3);
    expect(cache.get("a", 1)).toBeNull();
    expect(cache.get("d", 1)).toBe("missing");
  });
});
