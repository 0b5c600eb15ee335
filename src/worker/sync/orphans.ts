// What the objects learned from their own chain reads, checked against the synced chain. An
// object learns its channel lazily (getChannelInfo at the confirmed block) when it is first
// paid, and re-reads the deposit when a proof exceeds it, possibly before the sync reaches
// that block; if a reorg then takes the creation or a top-up away before the sync gets there,
// no event ever tells the object. So once the sync has read a range, every channel projected
// in D1 whose object read the chain at or below the range's end (`chain_read_block`), or that
// was opened in the range with no ChannelCreated stored for it, is re-read from the chain at
// the range's end and rewound to what the chain says there (removed, if nothing; a lower
// deposit, if a top-up is gone).
import type { Address, PublicClient } from "viem";
import { channelId } from "../../protocol/channel-key.js";
import { channelStub } from "../channel/stub.js";
import type { Config } from "../config.js";
import type { Env } from "../env.js";
import { channelAt } from "./reorg.js";

/** Channels checked per chunk; more wait for a later chunk or run. */
const MAX_ORPHANS = 50;

/** Checks the channels described above for blocks [from, to], skipping those in `checked` (this
 *  run's); returns how many it checked. */
export async function settleOrphans(
  env: Env,
  config: Config,
  client: PublicClient,
  from: number,
  to: number,
  checked: Set<string> = new Set(),
): Promise<number> {
  const { results } = await env.DB.prepare(
    `SELECT c.sender, c.open_block FROM channels c
       WHERE c.state != 'removed' AND (
         (c.chain_read_block IS NOT NULL AND c.chain_read_block <= ?2)
         OR (c.open_block BETWEEN ?1 AND ?2
           AND NOT EXISTS (SELECT 1 FROM chain_events e WHERE e.sender = c.sender AND e.open_block = c.open_block AND e.name = 'ChannelCreated')))
       ORDER BY c.open_block LIMIT ?3`,
  )
    .bind(from, to, MAX_ORPHANS + checked.size)
    .all<{ sender: string; open_block: number }>();
  let n = 0;
  for (const r of results) {
    const key = channelId(r.sender as Address, r.open_block);
    if (checked.has(key) || n >= MAX_ORPHANS) continue;
    checked.add(key);
    const onChain = await channelAt(client, config, r.sender as Address, r.open_block, to);
    await channelStub(env, r.sender as Address, r.open_block).rewind([], onChain, to);
    n++;
  }
  return n;
}
