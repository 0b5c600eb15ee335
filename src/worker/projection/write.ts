// The D1 side of the projection: channel rows become multi-row upserts. D1 binds at most 100
// parameters per statement, so each statement carries as many rows as fit (100 / the row's
// columns). Each row is version-guarded (`version < excluded.version`), so a row delivered
// twice, or after a newer one, changes nothing: redelivery is harmless.
import { getTableColumns, sql, type SQL } from "drizzle-orm";
import type { DrizzleD1Database } from "drizzle-orm/d1";
import { channels } from "../db/schema.js";
import type { ProjectionRow } from "./message.js";

/** D1's limit of bound parameters per statement (developers.cloudflare.com/d1/platform/limits). */
export const D1_MAX_BOUND_PARAMETERS = 100;

const columns = getTableColumns(channels);
/** How many rows one upsert statement carries. */
export const ROWS_PER_STATEMENT = Math.floor(D1_MAX_BOUND_PARAMETERS / Object.keys(columns).length);

/** Every column but the key and the creation time takes the incoming row's value. */
const update: Record<string, SQL> = Object.fromEntries(
  Object.entries(columns)
    .filter(([key]) => key !== "id" && key !== "createdAt")
    .map(([key, column]) => [key, sql.raw(`excluded."${column.name}"`)]),
);

/** The newest row of each channel among `rows` (a batch may hold two of one channel, and shards
 *  two copies while rows move after PROJECTION_SHARDS grew), in the order each id first came. */
export function newestRows<T extends { id: string; version: number }>(rows: T[]): T[] {
  const byId = new Map<string, T>();
  for (const r of rows) {
    const held = byId.get(r.id);
    if (!held || held.version < r.version) byId.set(r.id, r);
  }
  return [...byId.values()];
}

/** The version-guarded upserts of `rows` (one row per channel), `ROWS_PER_STATEMENT` a statement. */
export function upsertStatements(db: DrizzleD1Database, rows: ProjectionRow[]) {
  const statements = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    statements.push(
      db
        .insert(channels)
        .values(rows.slice(i, i + ROWS_PER_STATEMENT))
        .onConflictDoUpdate({
          target: channels.id,
          set: update,
          setWhere: sql`${channels.version} < excluded."version"`,
        }),
    );
  }
  return statements;
}
