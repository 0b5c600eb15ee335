import { describe, expect, it } from "vitest";
import { BoundedMap, boundedMapPer } from "./bounded-map.js";

describe("BoundedMap", () => {
  it("drops the oldest written entry past its limit; a rewrite makes an entry the newest", () => {
    const m = new BoundedMap<string, number>(2);
    m.set("a", 1);
    m.set("b", 2);
    m.set("a", 3);
    m.set("c", 4);
    expect(m.has("b")).toBe(false);
    expect(m.get("a")).toBe(3);
    expect(m.get("c")).toBe(4);
    expect(m.size).toBe(2);
  });
});

describe("boundedMapPer", () => {
  it("gives each owner its own map, the same one each time", () => {
    const mapOf = boundedMapPer<object, string, number>(1);
    const one = {};
    const two = {};
    mapOf(one).set("k", 1);
    expect(mapOf(one).get("k")).toBe(1);
    expect(mapOf(two).get("k")).toBeUndefined();
  });
});
