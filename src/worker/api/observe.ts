// The operator's view of load, under /api/1/admin: `GET /traffic` (paid requests, earnings and
// refusals by code, per minute, from src/worker/traffic) and `GET /projection` (the D1
// projection's queue consumer: batches, rows, and how far D1 trails the channel objects).
import { drizzle } from "drizzle-orm/d1";
import type { Context } from "hono";
import * as z from "zod/mini";
import type { Env } from "../env.js";
import { errorResponse } from "../http/responses.js";
import { readProjectionStats } from "../projection/stats.js";
import { MAX_SERIES_MINUTES, trafficSeries } from "../traffic/index.js";

type AdminContext = Context<{ Bindings: Env }>;

const ms = z.optional(z.coerce.number().check(z.int(), z.minimum(0)));
const trafficQuery = z.object({ from: ms, to: ms });
const projectionQuery = z.object({
  minutes: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(MAX_SERIES_MINUTES)), 60),
});

function badQuery(c: AdminContext, issues: Array<{ path: PropertyKey[]; message: string }>): Response {
  return errorResponse(c, "bad_request", {
    message: issues.map((i) => `${i.path.map(String).join(".")}: ${i.message}`).join("; "),
  });
}

/** GET /traffic?from=&to= (ms): one entry per minute, the last 24 hours by default (at most 24 h). */
export async function trafficRoute(c: AdminContext): Promise<Response> {
  const q = trafficQuery.safeParse(c.req.query());
  if (!q.success) return badQuery(c, q.error.issues);
  const { from, to } = q.data;
  if (from !== undefined && to !== undefined && from > to)
    return errorResponse(c, "bad_request", { message: "from must not be after to." });
  return c.json({ minutes: await trafficSeries(c.env, { from, to }) });
}

/** GET /projection?minutes=60: the projection consumer's minutes and their totals. */
export async function projectionRoute(c: AdminContext): Promise<Response> {
  const q = projectionQuery.safeParse(c.req.query());
  if (!q.success) return badQuery(c, q.error.issues);
  return c.json(await readProjectionStats(drizzle(c.env.DB), Date.now() - q.data.minutes * 60_000));
}
