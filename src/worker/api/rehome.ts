// POST /api/1/admin/projection/rehome: the operator's step after raising PROJECTION_SHARDS
// (docs/scale.md). Each call moves one page of one shard's rows to their new shards and says
// where to go on; calling it until `next` is null passes over every shard once.
import type { Context } from "hono";
import * as z from "zod/mini";
import type { Env } from "../env.js";
import { errorResponse } from "../http/responses.js";
import { rehomePage } from "../projection/rehome.js";
import { projectionShards } from "../projection/shards.js";
import type { RouteDoc } from "./openapi.js";

const position = z.object({ shard: z.int().check(z.minimum(0)), after: z.string().check(z.maxLength(60)) });
const rehomeBody = z.object({
  from: z.optional(position),
  limit: z._default(z.int().check(z.minimum(1), z.maximum(500)), 200),
});

/** The OpenAPI description of the route (api/openapi.ts). */
export const rehomeDoc = {
  summary: "Moves a page of the projection's rows to their shards after PROJECTION_SHARDS changed",
  description:
    "Reads up to `limit` rows of shard `from.shard` after id `from.after` (shard 0 from the start by default), moves those that belong to another shard under the current PROJECTION_SHARDS, and answers where to go on: call again with `from: next` until `next` is null.",
  body: rehomeBody,
  ok: z.object({ scanned: z.number(), moved: z.number(), next: z.nullable(position) }),
  errors: ["bad_request"],
} satisfies RouteDoc;

/** POST /projection/rehome {"from"?: {"shard", "after"}, "limit"?}: one page of the move. */
export async function rehomeRoute(c: Context<{ Bindings: Env }>): Promise<Response> {
  const text = await c.req.text();
  let body: unknown = {};
  try {
    if (text.trim() !== "") body = JSON.parse(text);
  } catch {
    return errorResponse(c, "bad_request", {
      message: 'The body must be JSON: {"from"?: {"shard", "after"}, "limit"?}.',
    });
  }
  const parsed = rehomeBody.safeParse(body);
  if (!parsed.success)
    return errorResponse(c, "bad_request", {
      message: parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; "),
    });
  const from = parsed.data.from ?? { shard: 0, after: "" };
  const shards = projectionShards(c.env).length;
  if (from.shard >= shards)
    return errorResponse(c, "bad_request", { message: `from.shard must be below PROJECTION_SHARDS (${shards}).` });
  return c.json(await rehomePage(c.env, from, parsed.data.limit));
}
