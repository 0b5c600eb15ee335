// The projection's write side with three shards: each message lands in its channel's shard
// database only, whichever queue carried it; the version guard and redelivery hold per shard; a
// shard whose write fails is retried alone; and a channel object's message goes through its
// shard's real queue to its shard's D1.
import { env, runDurableObjectAlarm } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { Address, Hex } from "viem";
import { describe, expect, it, vi } from "vitest";
import { channelId } from "../../src/protocol/channel-key.js";
import { channelStub } from "../../src/worker/channel/stub.js";
import { channels, projectionStats } from "../../src/worker/db/schema.js";
import { deliver, homeShard, message, placesOf, randomSender, rowsIn, senderOn, SHARDS, shardDbs } from "./helpers.js";

/** `count` random senders whose channel (open block 7) lives in each shard. */
function sendersPerShard(count: number): Address[][] {
  return Array.from({ length: SHARDS }, (_, shard) => Array.from({ length: count }, () => senderOn(shard)));
}

async function statsNow(i: number) {
  const [m] = await drizzle(shardDbs[i]!)
    .select()
    .from(projectionStats)
    .where(eq(projectionStats.minute, Math.floor(Date.now() / 60_000)));
  return m ?? { batches: 0, messages: 0, rows: 0, statements: 0 };
}

describe("the projection consumer, three shards", () => {
  it("writes each channel's row to its shard's database only, from any queue", async () => {
    const perShard = sendersPerShard(4);
    const all = perShard.flat();
    const before = await Promise.all([0, 1, 2].map(statsNow));
    // One batch on shard 1's queue holding channels of all three shards (as after N changed).
    const result = await deliver(
      all.map((s, i) => message(s, { version: 2, payments: i + 1 })),
      1,
      "edge402-projection-1",
    );
    expect(result.error).toBeNull();
    expect(result.ackAll).toBe(true);
    const places = await placesOf(all.map((s) => channelId(s, 7)));
    for (const [shard, senders] of perShard.entries())
      for (const s of senders) expect(places.get(channelId(s, 7))).toEqual([shard]);
    // Each shard's own minute counts its own rows: one D1 batch per shard.
    for (let i = 0; i < SHARDS; i++) {
      const after = await statsNow(i);
      expect(after.batches - before[i]!.batches).toBe(1);
      expect(after.rows - before[i]!.rows).toBe(4);
    }
  });

  it("keeps the version guard and takes redelivery in every shard", async () => {
    const senders = sendersPerShard(1).flat();
    const ids = senders.map((s) => channelId(s, 7));
    const rowOf = async (s: Address) =>
      (await rowsIn(homeShard(channelId(s, 7)))).find((r) => r.id === channelId(s, 7));
    await deliver(
      senders.flatMap((s) => [message(s, { version: 9, payments: 9 }), message(s, { version: 4, payments: 4 })]),
    );
    for (const s of senders) expect(await rowOf(s)).toMatchObject({ version: 9, payments: 9 });
    // Older versions, delivered again later on another queue: nothing changes.
    const old = senders.map((s) => message(s, { version: 8, payments: 8 }));
    expect((await deliver(old, 2, "edge402-projection-2")).ackAll).toBe(true);
    for (const s of senders) expect(await rowOf(s)).toMatchObject({ version: 9, payments: 9 });
    // A newer one wins, in its own shard, and no copy appears anywhere else.
    await deliver(senders.map((s) => message(s, { version: 10, payments: 10 })));
    for (const s of senders) expect(await rowOf(s)).toMatchObject({ version: 10, payments: 10 });
    for (const [id, shards] of await placesOf(ids)) expect(shards).toEqual([homeShard(id)]);
  });

  it("retries only the messages of a shard whose write failed", async () => {
    const [zero, one, two] = sendersPerShard(2);
    const bodies = [...zero!, ...one!, ...two!].map((s) => message(s, { version: 1, payments: 1 }));
    // Shard 2's table is away: its D1 batch fails for real.
    await shardDbs[2]!.prepare("ALTER TABLE channels RENAME TO channels_away").run();
    const failed = await deliver(bodies);
    await shardDbs[2]!.prepare("ALTER TABLE channels_away RENAME TO channels").run();
    expect(failed.error).toBeInstanceOf(Error);
    expect(failed.ackAll).toBe(false);
    // Shards 0 and 1 were written and acknowledged (messages 0-3); shard 2's two wait for a retry.
    expect([...failed.explicitAcks].sort()).toEqual(["m0-1", "m1-1", "m2-1", "m3-1"]);
    expect(await placesOf(two!.map((s) => channelId(s, 7)))).toEqual(new Map(two!.map((s) => [channelId(s, 7), []])));
    const retried = await deliver(bodies.slice(4), 2);
    expect(retried.ackAll).toBe(true);
    for (const [id, shards] of await placesOf([...zero!, ...one!, ...two!].map((s) => channelId(s, 7))))
      expect(shards).toEqual([homeShard(id)]);
  });
});

describe("a channel object's projection, three shards", () => {
  it("goes through its shard's real queue to its shard's database", async () => {
    const learned = { deposit: 10n ** 18n, withdrawn: 0n, settleBlock: 0, closingBalance: 0n, confirmedBlock: 1 };
    const signature = `0x${"33".repeat(64)}1b` as Hex;
    const senders = Array.from({ length: 9 }, randomSender);
    for (const sender of senders) {
      const stub = channelStub(env as never, sender, 1);
      await stub.pay({ sender, openBlock: 1, balance: 5n, signature, price: 5n, learned });
      await runDurableObjectAlarm(stub);
    }
    const ids = senders.map((s) => channelId(s, 1));
    // Every shard's queue gets some of nine channels unless the hash is badly skewed.
    expect(new Set(ids.map(homeShard)).size).toBeGreaterThan(1);
    await vi.waitFor(
      async () => {
        for (const [id, shards] of await placesOf(ids)) expect(shards, id).toEqual([homeShard(id)]);
      },
      { timeout: 20_000, interval: 50 },
    );
    const [row] = await drizzle(shardDbs[homeShard(ids[0]!)]!).select().from(channels).where(eq(channels.id, ids[0]!));
    expect(row).toMatchObject({ payments: 1, balance: "5" });
  });
});
