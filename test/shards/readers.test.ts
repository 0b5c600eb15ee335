// The projection's readers with three shards: each asks every shard and merges, so the admin
// channel list pages over all of them (no row missing or twice, id order kept), a channel's
// detail reads its own shard, the sums add every shard up, the withdraw collection finds
// candidates in every shard. Expected figures are read straight from the three databases.
import { env, runDurableObjectAlarm, SELF } from "cloudflare:test";
import { drizzle } from "drizzle-orm/d1";
import type { Address, Hex } from "viem";
import { describe, expect, it, vi } from "vitest";
import { channelId } from "../../src/protocol/channel-key.js";
import { channelStub } from "../../src/worker/channel/stub.js";
import { projectionStats } from "../../src/worker/db/schema.js";
import type { Env } from "../../src/worker/env.js";
import { collectWithdrawals } from "../../src/worker/settlement/collect.js";
import { admin, deliver, homeShard, message, placesOf, rowsIn, senderOn, SHARDS, shardDbs } from "./helpers.js";

const workerEnv = env as unknown as Env;
type Row = Awaited<ReturnType<typeof rowsIn>>[number];

async function allRows(): Promise<Row[]> {
  return (await Promise.all([0, 1, 2].map(rowsIn))).flat();
}

/** 30 channels spread over the shards, in every state. */
async function seed(): Promise<void> {
  const states = ["open", "open", "closing", "settled", "removed"] as const;
  const bodies = Array.from({ length: 30 }, (_, i) =>
    message(senderOn(i % SHARDS), { version: 1, payments: i + 1, state: states[i % states.length] }),
  );
  expect((await deliver(bodies)).ackAll).toBe(true);
}

/** A channel object on shard `shard` that took `payments` payments of 5, its row in D1. */
async function payingChannel(shard: number, payments: number): Promise<Address> {
  const sender = senderOn(shard, 1);
  const stub = channelStub(workerEnv, sender, 1);
  const learned = { deposit: 10n ** 18n, withdrawn: 0n, settleBlock: 0, closingBalance: 0n, confirmedBlock: 1 };
  const signature = `0x${"33".repeat(64)}1b` as Hex;
  for (let i = 1; i <= payments; i++)
    await stub.pay({ sender, openBlock: 1, balance: 5n * BigInt(i), signature, price: 5n, learned });
  await runDurableObjectAlarm(stub);
  const id = channelId(sender, 1);
  await vi.waitFor(async () => expect((await placesOf([id])).get(id)).toEqual([shard]), { timeout: 20_000 });
  return sender;
}

describe("the admin channel list over three shards", () => {
  it("pages through every shard: each row once, in id order", async () => {
    await seed();
    const expected = (await allRows()).map((r) => r.id).sort();
    expect(new Set((await allRows()).map((r) => homeShard(r.id))).size).toBe(SHARDS);
    const seen: string[] = [];
    let cursor: string | null = "";
    for (let pages = 0; cursor !== null; pages++) {
      expect(pages).toBeLessThan(expected.length);
      const page: { channels: Row[]; nextCursor: string | null } = await admin(
        `/channels?limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      );
      expect(page.channels.length).toBeLessThanOrEqual(7);
      seen.push(...page.channels.map((r) => r.id));
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(expected);
  });

  it("pages a filtered list the same way", async () => {
    await seed();
    const expected = (await allRows())
      .filter((r) => r.state === "open")
      .map((r) => r.id)
      .sort();
    const first: { channels: Row[]; nextCursor: string } = await admin("/channels?state=open&limit=5");
    const rest: { channels: Row[]; nextCursor: null } = await admin(
      `/channels?state=open&limit=500&cursor=${encodeURIComponent(first.nextCursor)}`,
    );
    expect(rest.nextCursor).toBeNull();
    expect([...first.channels, ...rest.channels].map((r) => r.id)).toEqual(expected);
  });

  it("shows a channel's row from its own shard", async () => {
    const sender = await payingChannel(2, 3);
    const detail: { projection: Row | null } = await admin(`/channels/${sender}/1`);
    expect(detail.projection).toMatchObject({ id: channelId(sender, 1), payments: 3, charged: "15" });
  });
});

describe("sums over three shards", () => {
  it("earnings, the overview and the stats add every shard up", async () => {
    await seed();
    const rows = await allRows();
    const live = rows.filter((r) => r.state !== "removed");
    const sum = (f: (r: Row) => bigint) => live.reduce((a, r) => a + f(r), 0n).toString();
    const earnings: Record<string, unknown> = await admin("/earnings");
    expect(earnings).toMatchObject({
      channels: rows.length,
      deposits: sum((r) => BigInt(r.deposit)),
      earned: sum((r) => BigInt(r.charged)),
      withdrawableNow: sum((r) => BigInt(r.withdrawable) - BigInt(r.withdrawn)),
    });
    const count = (state: string) => rows.filter((r) => r.state === state).length;
    const overview: { earned: string; channels: Record<string, number> } = await admin("/overview");
    expect(overview.earned).toBe(earnings.earned);
    expect(overview.channels).toEqual({
      open: count("open"),
      closing: count("closing"),
      settled: count("settled"),
      removed: count("removed"),
    });
    const stats = await SELF.fetch("http://paywall.test/api/1/stats");
    expect(await stats.json()).toMatchObject({ openChannels: count("open") });
  });

  it("the projection's minutes add every shard's consumer up", async () => {
    await seed();
    const minutes = await Promise.all(shardDbs.map((db) => drizzle(db).select().from(projectionStats)));
    expect(minutes.every((m) => m.length > 0)).toBe(true);
    const total = (k: "rows" | "batches") => minutes.flat().reduce((a, m) => a + m[k], 0);
    const read: { totals: { rows: number; batches: number } } = await admin("/projection?minutes=60");
    expect(read.totals).toMatchObject({ rows: total("rows"), batches: total("batches") });
  });
});

describe("settlement over three shards", () => {
  it("collects withdrawals from channels in every shard", async () => {
    const senders = await Promise.all([0, 1, 2].map((shard) => payingChannel(shard, 2)));
    const intents = await collectWithdrawals(workerEnv, 1n);
    for (const sender of senders)
      expect(intents).toContainEqual(expect.objectContaining({ kind: "withdraw", sender, openBlock: 1, balance: 10n }));
  });
});
