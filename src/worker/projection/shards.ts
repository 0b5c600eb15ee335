// Where a channel's D1 projection lives. PROJECTION_SHARDS = N spreads the `channels` rows (and
// each shard's consumer minutes, `projection_stats`) over N D1 databases fed by N queues, so that
// neither one queue's 5,000 messages/s nor one database's write rate caps the deployment
// (docs/scale.md). A channel's shard is fixed by its id alone: the first four bytes of
// keccak256(utf-8 id), big-endian, mod N. Shard 0 is DB and PROJECTION, shard i is DB_SHARD_<i>
// and PROJECTION_<i> (config.ts refuses to start without them). Every other table stays in DB.
import { drizzle, type DrizzleD1Database } from "drizzle-orm/d1";
import { keccak256, stringToBytes } from "viem";
import { getConfig, shardBindingNames } from "../config.js";
import type { Env } from "../env.js";
import type { ProjectionMessage } from "./message.js";
import { newestRows } from "./write.js";

/** One shard of the projection: its D1 database and the queue its channels' messages go to
 *  (absent only for a single-shard deployment without the queue binding). */
export type Shard = { index: number; db: D1Database; queue: Queue<ProjectionMessage> | undefined };

/**
 * The shard of a channel's projection among `shards`: keccak256 of its id, first 4 bytes as a
 * big-endian unsigned integer, mod `shards`. Stable across runs, isolates and versions; changing
 * `shards` moves rows (docs/scale.md says what to do then).
 *
 * @example shardOf("0xabc…-1234", 4); // 0..3
 */
export function shardOf(id: string, shards: number): number {
  if (shards === 1) return 0;
  return Number.parseInt(keccak256(stringToBytes(id)).slice(2, 10), 16) % shards;
}

const cache = new WeakMap<object, Shard[]>();

/** Every shard of this deployment, shard 0 first (config.ts checked that each is bound). */
export function projectionShards(env: Env): Shard[] {
  let shards = cache.get(env);
  if (!shards) {
    const bindings = env as unknown as Record<string, unknown>;
    shards = Array.from({ length: getConfig(env).projectionShards }, (_, index) => {
      const names = shardBindingNames(index);
      return {
        index,
        db: bindings[names.db] as D1Database,
        queue: bindings[names.queue] as Queue<ProjectionMessage> | undefined,
      };
    });
    cache.set(env, shards);
  }
  return shards;
}

/** The shard that holds channel `id`'s row. */
export function shardFor(env: Env, id: string): Shard {
  const shards = projectionShards(env);
  return shards[shardOf(id, shards.length)]!;
}

/** Asks every shard the same question at once (each answer in shard order). The runtime runs six
 *  of a Worker invocation's connections at a time, so N shards take ceil(N / 6) rounds. */
export function eachShard<T>(env: Env, read: (db: DrizzleD1Database, shard: number) => Promise<T>): Promise<T[]> {
  return Promise.all(projectionShards(env).map((s) => read(drizzle(s.db), s.index)));
}

/** The first `limit` rows of several shards' answers, each the first `limit` of its shard by
 *  `key` ascending: the answer of one query over all of them (ties keep shard order). A channel
 *  found in two shards (rows not yet moved after PROJECTION_SHARDS grew) counts once, newest. */
export function firstBy<T extends { id: string; version: number }>(
  answers: T[][],
  key: (row: T) => string | number,
  limit: number,
): T[] {
  const sorted = answers.flat().sort((a, b) => {
    const x = key(a);
    const y = key(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
  return newestRows(sorted).slice(0, limit);
}
