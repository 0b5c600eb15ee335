// What the objects learned from their own chain reads, checked against the synced chain. An
// object reads the chain when it first meets its channel or a proof exceeds the deposit, maybe
// before the sync reaches that block; if a reorg then takes the creation or a top-up away, no
// event ever tells the object. So each synced range re-reads those channels and rewinds them.
// The rows are in the projection's shards and the events in DB: the candidates are read from
// every shard and checked against the events here.
import { and, between, eq, lte, ne } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { Address, PublicClient } from "viem";
import { channelId } from "../../protocol/channel-key.js";
import { channelStub } from "../channel/stub.js";
import type { Config } from "../config.js";
import { chainEvents, channels } from "../db/schema.js";
import type { Env } from "../env.js";
import { eachShard, firstBy } from "../projection/shards.js";
import { channelAt } from "./reorg.js";

/** Channels checked per chunk; more wait for a later chunk or run. */
const MAX_ORPHANS = 50;

/** The ids of the channels opened in [from, to] whose ChannelCreated the sync stored (the
 *  contract opens a channel in its creation block, so the block index finds them). */
async function createdIn(env: Env, from: number, to: number): Promise<Set<string>> {
  const rows = await drizzle(env.DB)
    .select({ sender: chainEvents.sender, openBlock: chainEvents.openBlock })
    .from(chainEvents)
    .where(
      and(
        eq(chainEvents.name, "ChannelCreated"),
        between(chainEvents.blockNumber, from, to),
        between(chainEvents.openBlock, from, to),
      ),
    );
  return new Set(rows.map((r) => channelId(r.sender as Address, r.openBlock)));
}

/** The first `limit` live channels by open block, over every projection shard, whose object read
 *  the chain at or below `to`, or that were opened in [from, to] with no ChannelCreated stored.
 *  The events are in DB and the rows in their shards, so the check is made here, not in SQL. */
export async function orphanCandidates(env: Env, from: number, to: number, limit: number) {
  const live = ne(channels.state, "removed");
  const columns = {
    id: channels.id,
    version: channels.version,
    sender: channels.sender,
    openBlock: channels.openBlock,
  };
  const created = await createdIn(env, from, to);
  const answers = await eachShard(env, (db) =>
    Promise.all([
      db
        .select(columns)
        .from(channels)
        .where(and(live, lte(channels.chainReadBlock, to)))
        .orderBy(channels.openBlock)
        .limit(limit),
      // At most `created.size` of these are dropped below (their ChannelCreated is stored), so
      // `limit + created.size` rows still give `limit` orphans when there are that many.
      db
        .select(columns)
        .from(channels)
        .where(and(live, between(channels.openBlock, from, to)))
        .orderBy(channels.openBlock)
        .limit(limit + created.size),
    ]),
  );
  const perShard = answers.map(([readBack, opened]) => {
    const rows = new Map(readBack.map((r) => [r.id, r]));
    for (const r of opened) if (!created.has(r.id)) rows.set(r.id, r);
    return [...rows.values()].sort((a, b) => a.openBlock - b.openBlock);
  });
  return firstBy(perShard, (r) => r.openBlock, limit);
}

/** Re-reads at block `to`, and rewinds to what the chain says there (removed if nothing, a lower
 *  deposit if a top-up is gone), every live channel whose object read the chain at or below
 *  `to`, or that was opened in [from, to] with no ChannelCreated stored; skips those in
 *  `checked` (this run's). Returns how many it checked. */
export async function settleOrphans(
  env: Env,
  config: Config,
  client: PublicClient,
  from: number,
  to: number,
  checked: Set<string> = new Set(),
): Promise<number> {
  const results = await orphanCandidates(env, from, to, MAX_ORPHANS + checked.size);
  let n = 0;
  for (const r of results) {
    const sender = r.sender as Address;
    const key = channelId(sender, r.openBlock);
    if (checked.has(key) || n >= MAX_ORPHANS) continue;
    checked.add(key);
    const onChain = await channelAt(client, config, sender, r.openBlock, to);
    await channelStub(env, sender, r.openBlock).rewind([], onChain, to);
    n++;
  }
  return n;
}
