// Channels the paywall knows but the synced chain never created. An object learns its channel
// lazily (getChannelInfo at the confirmed block) when it is first paid, possibly before the sync
// reaches that block; if a reorg then takes the creation away before the sync gets there, no
// event ever tells the object. So once the sync has read a range, every channel projected in D1
// with its open block in that range and no ChannelCreated stored for it is re-read from the
// chain at the range's end and rewound to what the chain says there (removed, if nothing).
import type { Address, PublicClient } from "viem";
import { channelStub } from "../channel/stub.js";
import type { Config, Env } from "../config.js";
import { channelAt } from "./reorg.js";

/** Orphans handled per chunk; more wait for a later look (there should be none). */
const MAX_ORPHANS = 50;

/** Rewinds the orphans opened in [from, to]; returns how many it found. */
export async function settleOrphans(env: Env, config: Config, client: PublicClient, from: number, to: number): Promise<number> {
  const { results } = await env.DB.prepare(
    `SELECT c.sender, c.open_block FROM channels c
       WHERE c.open_block BETWEEN ? AND ? AND c.state != 'removed'
         AND NOT EXISTS (SELECT 1 FROM chain_events e WHERE e.sender = c.sender AND e.open_block = c.open_block AND e.name = 'ChannelCreated')
       LIMIT ?`,
  )
    .bind(from, to, MAX_ORPHANS)
    .all<{ sender: string; open_block: number }>();
  for (const r of results) {
    const onChain = await channelAt(client, config, r.sender as Address, r.open_block, to);
    await channelStub(env, r.sender as Address, r.open_block).rewind([], onChain);
  }
  return results.length;
}
