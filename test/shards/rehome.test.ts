// Raising PROJECTION_SHARDS: rows written under two shards sit where the old N put them, and
// POST /api/1/admin/projection/rehome, called until it says it is done, leaves every row once,
// in its shard under N = 3, never older than the newest written anywhere.
import { drizzle } from "drizzle-orm/d1";
import { describe, expect, it } from "vitest";
import { channelId } from "../../src/protocol/channel-key.js";
import { upsertStatements } from "../../src/worker/projection/write.js";
import { runBatch } from "../../src/worker/db/batch.js";
import { admin, adminFetch, deliver, homeShard, message, placesOf, randomSender, rowsIn, shardDbs } from "./helpers.js";
import { keccak256, stringToBytes } from "viem";

/** The shard the documented hash gave a channel when the deployment had two. */
const oldShard = (id: string) => Number(BigInt(keccak256(stringToBytes(id)).slice(0, 10)) % 2n);

type Page = { scanned: number; moved: number; next: { shard: number; after: string } | null };

async function rehome(body: unknown): Promise<Page> {
  const res = await adminFetch("/projection/rehome", { method: "POST", body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  return res.json();
}

/** Calls the route from the start until `next` is null, `limit` rows a call; the pages. */
async function rehomeAll(limit: number): Promise<Page[]> {
  const pages = [await rehome({ limit })];
  while (pages[pages.length - 1]!.next) pages.push(await rehome({ from: pages[pages.length - 1]!.next, limit }));
  return pages;
}

describe("re-homing the projection after PROJECTION_SHARDS grew from 2 to 3", () => {
  it("moves every row to its shard once, keeping the newest version", async () => {
    const senders = Array.from({ length: 24 }, randomSender);
    const ids = senders.map((s) => channelId(s, 7));
    for (const s of senders) {
      const db = drizzle(shardDbs[oldShard(channelId(s, 7))]!);
      await runBatch(db, upsertStatements(db, [message(s, { version: 3, payments: 3 }).row]));
    }
    const misplaced = ids.filter((id) => oldShard(id) !== homeShard(id));
    expect(misplaced.length).toBeGreaterThan(0);
    // One misplaced channel changed since N grew: the consumer wrote version 5 to its new shard.
    const changed = senders[ids.indexOf(misplaced[0]!)]!;
    await deliver([message(changed, { version: 5, payments: 5 })]);
    // Before the move the readers already count that channel once, at its newest row.
    const listed: { channels: Array<{ id: string; version: number }> } = await admin("/channels?limit=500");
    expect(listed.channels.map((r) => r.id)).toEqual([...ids].sort());
    expect(listed.channels.find((r) => r.id === channelId(changed, 7))!.version).toBe(5);
    expect(await admin("/earnings")).toMatchObject({ channels: 24, earned: String(23 * 15 + 25) });

    const pages = await rehomeAll(5);
    expect(pages.reduce((n, p) => n + p.moved, 0)).toBe(misplaced.length);
    // Every row was read at least once (a row moved to a later shard is read there again).
    expect(pages.reduce((n, p) => n + p.scanned, 0)).toBeGreaterThanOrEqual(ids.length + 1);
    for (const [id, shards] of await placesOf(ids)) expect(shards, id).toEqual([homeShard(id)]);
    const rows = (await Promise.all([0, 1, 2].map(rowsIn))).flat();
    for (const r of rows) expect(r.version).toBe(r.id === channelId(changed, 7) ? 5 : 3);
    // Done: a second pass moves nothing.
    expect((await rehomeAll(50)).reduce((n, p) => n + p.moved, 0)).toBe(0);
  });

  it("refuses a position outside the shards or a bad limit, moving nothing", async () => {
    for (const body of [{ from: { shard: 3, after: "" } }, { limit: 0 }, { from: { shard: -1, after: "" } }, "[1"]) {
      const res = await adminFetch("/projection/rehome", {
        method: "POST",
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("bad_request");
    }
  });
});
