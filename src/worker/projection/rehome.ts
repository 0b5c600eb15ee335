// Moving rows after PROJECTION_SHARDS grew: each row sits in the shard its id hashed to under the
// old N, and readers ask every shard, so until it moves a channel can be listed and counted
// twice (its old row stops changing, its new one is written by the consumer). A page of one
// shard's rows goes to their shards under the current N: a version-guarded upsert there first,
// then a delete here of the very version moved, so a crash in between leaves a copy, never a
// loss, and running it again finishes the job.
import { and, asc, eq, gt, or } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { runBatch } from "../db/batch.js";
import { channels } from "../db/schema.js";
import type { Env } from "../env.js";
import { projectionShards, shardOf } from "./shards.js";
import { upsertStatements } from "./write.js";

/** Where a re-homing pass is: the shard it reads and the last id it read there. */
export type RehomePosition = { shard: number; after: string };

/** Rows per delete statement: two bound parameters each, within D1's 100. */
const DELETES_PER_STATEMENT = 49;

/** Moves the rows of `at.shard` after `at.after` (at most `limit` read) that belong to another
 *  shard; `next` is where to go on, null once every shard was read. */
export async function rehomePage(env: Env, at: RehomePosition, limit: number) {
  const shards = projectionShards(env);
  const here = drizzle(shards[at.shard]!.db);
  const rows = await here
    .select()
    .from(channels)
    .where(gt(channels.id, at.after))
    .orderBy(asc(channels.id))
    .limit(limit);
  const away = rows.filter((r) => shardOf(r.id, shards.length) !== at.shard);
  for (let home = 0; home < shards.length; home++) {
    const db = drizzle(shards[home]!.db);
    await runBatch(
      db,
      upsertStatements(
        db,
        away.filter((r) => shardOf(r.id, shards.length) === home),
      ),
    );
  }
  const deletes = [];
  for (let i = 0; i < away.length; i += DELETES_PER_STATEMENT) {
    const page = away.slice(i, i + DELETES_PER_STATEMENT);
    deletes.push(
      here.delete(channels).where(or(...page.map((r) => and(eq(channels.id, r.id), eq(channels.version, r.version))))),
    );
  }
  await runBatch(here, deletes);
  const last = rows[rows.length - 1];
  let next: RehomePosition | null = null;
  if (rows.length === limit && last) next = { shard: at.shard, after: last.id };
  else if (at.shard + 1 < shards.length) next = { shard: at.shard + 1, after: "" };
  return { scanned: rows.length, moved: away.length, next };
}
