// What the objects learned from their own chain reads, checked against the synced chain. An
// object reads the chain when it first meets its channel or a proof exceeds the deposit, maybe
// before the sync reaches that block; if a reorg then takes the creation or a top-up away, no
// event ever tells the object. So each synced range re-reads those channels and rewinds them.
import { and, between, eq, lte, ne, notExists, or, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { Address, PublicClient } from "viem";
import { channelId } from "../../protocol/channel-key.js";
import { channelStub } from "../channel/stub.js";
import type { Config } from "../config.js";
import { chainEvents, channels } from "../db/schema.js";
import type { Env } from "../env.js";
import { channelAt } from "./reorg.js";

/** Channels checked per chunk; more wait for a later chunk or run. */
const MAX_ORPHANS = 50;

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
  const db = drizzle(env.DB);
  const created = db
    .select({ one: sql`1` })
    .from(chainEvents)
    .where(
      and(
        eq(chainEvents.sender, channels.sender),
        eq(chainEvents.openBlock, channels.openBlock),
        eq(chainEvents.name, "ChannelCreated"),
      ),
    );
  const results = await db
    .select({ sender: channels.sender, openBlock: channels.openBlock })
    .from(channels)
    .where(
      and(
        ne(channels.state, "removed"),
        or(lte(channels.chainReadBlock, to), and(between(channels.openBlock, from, to), notExists(created))),
      ),
    )
    .orderBy(channels.openBlock)
    .limit(MAX_ORPHANS + checked.size);
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
