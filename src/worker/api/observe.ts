// The operator's view of load, under /api/1/admin: `GET /traffic` (paid requests, earnings and
// refusals by code, per minute, from src/worker/traffic) and `GET /projection` (the D1
// projection's queue consumer: batches, rows, and how far D1 trails the channel objects).
import type { Context } from "hono";
import * as z from "zod/mini";
import type { Env } from "../env.js";
import { errorResponse } from "../http/responses.js";
import { LAG_BUCKETS, readProjectionStats } from "../projection/stats.js";
import { MAX_SERIES_MINUTES, trafficSeries } from "../traffic/index.js";
import type { RouteDoc } from "./openapi.js";

type AdminContext = Context<{ Bindings: Env }>;

const ms = z.optional(z.coerce.number().check(z.int(), z.minimum(0)));
const trafficQuery = z.object({ from: ms, to: ms });
const projectionQuery = z.object({
  minutes: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(MAX_SERIES_MINUTES)), 60),
});

const nullableMs = z.nullable(z.number());
const projectionMinute = z.object({
  minute: z.number(),
  batches: z.number(),
  messages: z.number(),
  rows: z.number(),
  statements: z.number(),
  lagSumMs: z.number(),
  lagMaxMs: z.number(),
  ...Object.fromEntries(LAG_BUCKETS.map(([, key]) => [key, z.number()])),
});

/** The OpenAPI descriptions of these routes (api/openapi.ts). */
export const observeDocs = {
  traffic: {
    summary:
      "Paid requests, earnings (token base units, a double: a chart, not an account) and refusals by code, per minute",
    description:
      "One entry per minute from `from` to `to` (ms), oldest first, minutes without traffic as zeros; the last 24 hours by default, at most 24 hours.",
    query: trafficQuery,
    ok: z.object({
      minutes: z.array(
        z.object({
          at: z.number(),
          paid: z.number(),
          earnings: z.number(),
          refused: z.record(z.string(), z.number()),
        }),
      ),
    }),
    errors: ["bad_request"],
  },
  projection: {
    summary:
      "The projection queue's consumer per minute: batches, messages, rows, statements and D1's lag behind the objects",
    query: projectionQuery,
    ok: z.object({
      minutes: z.array(projectionMinute),
      totals: z.object({
        batches: z.number(),
        messages: z.number(),
        rows: z.number(),
        statements: z.number(),
        lagMeanMs: nullableMs,
        lagMaxMs: z.number(),
        lagP50AtMostMs: nullableMs,
        lagP99AtMostMs: nullableMs,
      }),
    }),
    errors: ["bad_request"],
  },
} satisfies Record<string, RouteDoc>;

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
  return c.json(await readProjectionStats(c.env, Date.now() - q.data.minutes * 60_000));
}
