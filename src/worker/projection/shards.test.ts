// The projection's shard hash: the same channel id maps to the same shard on every run and
// version (rows would otherwise move between databases), and ids spread evenly over the shards.
import { describe, expect, it } from "vitest";
import { channelId } from "../../protocol/channel-key.js";
import { shardOf } from "./shards.js";

/** A deterministic sender: `i` as a 20-byte address. */
const sender = (i: number) => `0x${i.toString(16).padStart(40, "0")}` as const;

describe("shardOf", () => {
  it("never changes: these ids keep these shards", () => {
    // keccak256(utf-8 id), first four bytes big-endian, mod N; pinned when it was written, so a
    // changed hash (which would re-home every row of a deployment) fails here.
    // (0x14284222, 0x057af166 and 0x088f2457 are the ids' first four bytes).
    const pinned: Array<[string, number[]]> = [
      [channelId(sender(1), 1), [0, 1, 34]],
      [channelId(sender(0xabc), 1234), [0, 2, 38]],
      ["0xfeed-0", [1, 1, 23]],
    ];
    for (const [id, shards] of pinned)
      expect(
        [2, 3, 64].map((n) => shardOf(id, n)),
        id,
      ).toEqual(shards);
  });

  it("puts every id in shard 0 of one shard", () => {
    for (let i = 0; i < 100; i++) expect(shardOf(channelId(sender(i), i), 1)).toBe(0);
  });

  it("spreads ids evenly over 2 to 64 shards", () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => channelId(sender(i + 1), 1_000 + (i % 97)));
    for (const n of [2, 3, 7, 16, 64]) {
      const counts = new Array<number>(n).fill(0);
      for (const id of ids) counts[shardOf(id, n)]!++;
      const expected = ids.length / n;
      // Pearson's chi-square with n - 1 degrees of freedom: far below the 0.1% critical value
      // of any n here (at most 2 n + 20) for a uniform hash.
      const chi2 = counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
      expect(chi2, `n=${n}: ${counts.join(",")}`).toBeLessThan(2 * n + 20);
      expect(Math.min(...counts)).toBeGreaterThan(0.8 * expected);
    }
  });
});
