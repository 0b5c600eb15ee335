// The sync's orphan check with three shards: the channels whose own chain read the synced range
// must confirm, or that were opened in it with no ChannelCreated stored, are found in every
// shard; the events stay in DB, so that check is made across databases (its own file: nothing
// else in its storage).
import { env } from "cloudflare:test";
import { drizzle } from "drizzle-orm/d1";
import type { Address } from "viem";
import { describe, expect, it } from "vitest";
import { channelId } from "../../src/protocol/channel-key.js";
import { chainEvents } from "../../src/worker/db/schema.js";
import type { Env } from "../../src/worker/env.js";
import { orphanCandidates } from "../../src/worker/sync/orphans.js";
import { deliver, message, senderOn } from "./helpers.js";

const workerEnv = env as unknown as Env;

describe("the sync's orphan check over three shards", () => {
  it("finds orphan candidates in every shard, checked against the events in DB", async () => {
    const on = (shard: number, openBlock: number) => ({ sender: senderOn(shard, openBlock), openBlock });
    const readBack = [0, 1, 2].map((s) => on(s, 50)); // read the chain at 105: a candidate
    const unknown = [0, 1, 2].map((s) => on(s, 103)); // opened in range, no ChannelCreated: a candidate
    const created = [0, 1, 2].map((s) => on(s, 104)); // opened in range with ChannelCreated: not
    const later = [0, 1, 2].map((s) => on(s, 120)); // read the chain after the range: not
    const removed = [0, 1, 2].map((s) => on(s, 105)); // removed already: not
    await deliver([
      ...readBack.map((c) => message(c.sender, { ...c, version: 1, payments: 1, readBlock: 105 })),
      ...unknown.map((c) => message(c.sender, { ...c, version: 1, payments: 1 })),
      ...created.map((c) => message(c.sender, { ...c, version: 1, payments: 1 })),
      ...later.map((c) => message(c.sender, { ...c, version: 1, payments: 1, readBlock: 200 })),
      ...removed.map((c) => message(c.sender, { ...c, version: 1, payments: 1, readBlock: 100, state: "removed" })),
    ]);
    await drizzle(env.DB)
      .insert(chainEvents)
      .values(
        created.map((c, i) => ({
          blockNumber: 104,
          blockHash: `0x${"ab".repeat(32)}`,
          logIndex: i,
          txHash: `0x${"cd".repeat(32)}`,
          name: "ChannelCreated",
          sender: c.sender.toLowerCase(),
          openBlock: 104,
          args: "{}",
        })),
      );
    const key = (c: { sender: string; openBlock: number }) => channelId(c.sender as Address, c.openBlock);
    const found = await orphanCandidates(workerEnv, 100, 110, 50);
    expect(found.map(key).sort()).toEqual([...readBack, ...unknown].map(key).sort());
    expect(found.map((c) => c.openBlock)).toEqual([50, 50, 50, 103, 103, 103]);
    // The limit cuts the merged order: the three earliest, one from each shard.
    expect((await orphanCandidates(workerEnv, 100, 110, 3)).map(key).sort()).toEqual(readBack.map(key).sort());
  });
});
