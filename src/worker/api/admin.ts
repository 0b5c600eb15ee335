// The operator's API under /api/1/admin, behind `Authorization: Bearer <ADMIN_TOKEN>` (compared
// in constant time) or the dashboard's login cookie (http/admin-cookie.ts): channels with paging
// and filters (from the D1 projection, every shard's merged), one channel as its object holds it,
// and an earnings summary. Chain actions (sync, withdraw, close, settle) are mounted here by the
// settlement module, the dashboard's own views by admin-dashboard.ts.
import { and, asc, eq, gt, like, type SQL } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { Hono, type Context, type MiddlewareHandler } from "hono";
import { timingSafeEqual } from "hono/utils/buffer";
import * as z from "zod/mini";
import { channelId } from "../../protocol/channel-key.js";
import { parseAddress } from "../../protocol/codec.js";
import { isProtocolError } from "../../protocol/errors.js";
import { getConfig } from "../config.js";
import type { Env } from "../env.js";
import { channels } from "../db/schema.js";
import { readAdminCookie, sameOrigin, verifyAdminCookie } from "../http/admin-cookie.js";
import { errorResponse } from "../http/responses.js";
import { eachShard, firstBy, shardFor } from "../projection/shards.js";
import { newestRows } from "../projection/write.js";
import { channelFromPath, channelJson, channelPath, channelSchema } from "./management.js";
import { observeDocs, projectionRoute, trafficRoute } from "./observe.js";
import { rehomeDoc, rehomeRoute } from "./rehome.js";
import { address, amount, documented, type RouteDoc } from "./openapi.js";

/** How a request proves it is the operator's: the bearer token, or the dashboard's login cookie
 *  (with an Origin check on state-changing methods); null when it does not. */
async function adminCredential(c: Context<{ Bindings: Env }>, adminToken: string): Promise<"bearer" | "cookie" | null> {
  const header = c.req.header("authorization");
  if (header !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return m && (await timingSafeEqual(m[1]!, adminToken)) ? "bearer" : null;
  }
  const cookie = readAdminCookie(c.req.header("cookie"));
  return cookie !== undefined && (await verifyAdminCookie(adminToken, cookie)) ? "cookie" : null;
}

/** Rejects any request without the admin bearer token or a valid login cookie (401, JSON body,
 *  nothing changed); a cookie-authenticated POST from another origin is refused too (CSRF). */
export function adminAuth(): MiddlewareHandler<{ Bindings: Env }> {
  return async (c, next) => {
    const config = getConfig(c.env);
    const credential = await adminCredential(c, config.adminToken);
    if (!credential) {
      return errorResponse(c, "unauthorized", {
        message: "This route needs Authorization: Bearer <ADMIN_TOKEN> (or the dashboard's login cookie).",
        headers: { "WWW-Authenticate": 'Bearer realm="edge402-admin"' },
      });
    }
    const safe = c.req.method === "GET" || c.req.method === "HEAD";
    if (
      credential === "cookie" &&
      !safe &&
      !sameOrigin(c.req.url, c.req.header("origin"), c.req.header("sec-fetch-site"))
    ) {
      return errorResponse(c, "unauthorized", {
        message:
          "Cross-site request refused: an admin action authenticated by the login cookie must come from this Worker's own dashboard (Origin).",
      });
    }
    await next();
  };
}

const listQuery = z.object({
  state: z.optional(z.enum(["open", "closing", "settled", "removed"])),
  sender: z.optional(z.string()),
  // Part of a sender's address: hex digits anywhere in it, or from its start after "0x".
  search: z.optional(z.string().check(z.regex(/^(0x)?[0-9a-fA-F]{1,40}$/, "search must be hex digits of an address"))),
  limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(500)), 50),
  cursor: z.optional(z.string().check(z.maxLength(60))),
});

type AdminContext = Context<{ Bindings: Env }>;

/**
 * The operator's API, every route behind `Authorization: Bearer <ADMIN_TOKEN>`: `GET /channels`
 * (paged, filtered by `state`, `sender` and `search`), `GET /channels/{sender}/{openBlock}`,
 * `GET /earnings`, `GET /traffic` (per-minute traffic), `GET /projection` (the D1 projection's
 * lag) and `POST /projection/rehome` (moves rows after PROJECTION_SHARDS grew). `createApp`
 * mounts it; mount it yourself under `/api/1/admin` otherwise.
 *
 * @returns A Hono app to mount under `${GATEWAY_PATH}/admin`; add chain actions with
 *   `settlementAdmin(api)`.
 * @example
 * ```ts
 * const admin = adminApi();
 * settlementAdmin(admin);
 * app.route(`${GATEWAY_PATH}/admin`, admin);
 * ```
 */
export function adminApi() {
  const api = new Hono<{ Bindings: Env }>();
  api.use("*", adminAuth());
  api.get("/channels", documented(docs.listChannels, listChannels));
  api.get("/channels/:sender/:openBlock", documented(docs.channelDetail, channelDetail));
  api.get("/earnings", documented(docs.earnings, earnings));
  api.get("/traffic", documented(observeDocs.traffic, trafficRoute));
  api.get("/projection", documented(observeDocs.projection, projectionRoute));
  api.post("/projection/rehome", documented(rehomeDoc, rehomeRoute));
  return api;
}

/** A row of the D1 `channels` projection, as the admin views answer it. */
const channelRow = z.object({
  id: z.string(),
  sender: address,
  openBlock: z.number(),
  state: z.enum(["open", "closing", "settled", "removed"]),
  deposit: amount,
  balance: amount,
  charged: amount,
  withdrawn: amount,
  withdrawable: amount,
  closingBalance: z.nullable(amount),
  settleBlock: z.nullable(z.number()),
  closeRequested: z.boolean(),
  payments: z.number(),
  lastPaymentAt: z.nullable(z.number().check(z.describe("when the channel last took a payment, ms"))),
  chainReadBlock: z.nullable(z.number()),
  version: z.number(),
  createdAt: z.number(),
  updatedAt: z.number(),
});

const docs = {
  listChannels: {
    summary: "A page of channels from the D1 projection, by channel id after `cursor`",
    query: listQuery,
    ok: z.object({ channels: z.array(channelRow), nextCursor: z.nullable(z.string()) }),
    errors: ["bad_request"],
  },
  channelDetail: {
    summary: "A channel as its object holds it, beside its D1 row",
    params: channelPath,
    ok: z.object({
      channel: z.nullable(channelSchema),
      withdrawable: amount,
      pendingProofs: z.number(),
      payments: z.number(),
      lastPaymentAt: z.nullable(z.number().check(z.describe("when the object last accepted a payment, ms"))),
      openReservations: z.number(),
      projection: z.nullable(channelRow),
      object: z.object({
        writes: z.number().check(z.describe("storage writes since the object last started")),
        decisions: z.number().check(z.describe("changes those writes carried (group commit)")),
        calls: z.number().check(z.describe("calls the object answered since it last started")),
        projections: z.number().check(z.describe("projection messages it sent to the queue")),
      }),
    }),
    errors: ["bad_request", "not_found"],
  },
  earnings: {
    summary: "Totals over every channel of the D1 projection",
    ok: z.object({
      channels: z.number(),
      byState: z.record(z.string(), z.number()),
      deposits: amount,
      earned: amount,
      withdrawn: amount,
      withdrawableNow: amount,
      unwithdrawn: amount,
      outstandingCredit: amount,
      note: z.string(),
    }),
  },
} satisfies Record<string, RouteDoc>;

/** GET /channels: a page of the D1 projection, by channel id after `cursor`. */
async function listChannels(c: AdminContext): Promise<Response> {
  const parsed = listQuery.safeParse(c.req.query());
  if (!parsed.success)
    return errorResponse(c, "bad_request", {
      message: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
    });
  const q = parsed.data;
  const where: SQL[] = [];
  if (q.state) where.push(eq(channels.state, q.state));
  if (q.sender) {
    try {
      where.push(eq(channels.sender, parseAddress(q.sender, "sender").toLowerCase()));
    } catch (err) {
      if (isProtocolError(err)) return errorResponse(c, "bad_request", { message: err.message });
      throw err;
    }
  }
  if (q.search) {
    const hex = q.search.toLowerCase();
    // Hex digits only, so nothing in it is a LIKE wildcard.
    where.push(like(channels.sender, hex.startsWith("0x") ? `${hex}%` : `%${hex}%`));
  }
  if (q.cursor) where.push(gt(channels.id, q.cursor));
  // Every shard's first limit + 1 rows after the cursor, merged by id: the page of one query.
  const answers = await eachShard(c.env, (db) =>
    db
      .select()
      .from(channels)
      .where(where.length ? and(...where) : undefined)
      .orderBy(asc(channels.id))
      .limit(q.limit + 1),
  );
  const rows = firstBy(answers, (r) => r.id, q.limit + 1);
  const page = rows.slice(0, q.limit);
  return c.json({ channels: page, nextCursor: rows.length > q.limit ? page[page.length - 1]!.id : null });
}

/** GET /channels/{sender}/{openBlock}: the channel as its object holds it, beside its D1 row. */
async function channelDetail(c: AdminContext): Promise<Response> {
  const ch = channelFromPath(c);
  if (ch instanceof Response) return ch;
  const { sender, openBlock, stub } = ch;
  const raw = await stub.raw();
  if (!raw) return errorResponse(c, "not_found", { message: "This paywall has never seen that channel." });
  const id = channelId(sender, openBlock);
  const [row] = await drizzle(shardFor(c.env, id).db).select().from(channels).where(eq(channels.id, id));
  const info = await stub.info(sender, openBlock);
  return c.json({
    channel: info.channel ? channelJson(info.channel) : null,
    withdrawable: (raw.withdrawable?.balance ?? raw.withdrawn).toString(),
    pendingProofs: raw.pending.length,
    payments: raw.payments,
    lastPaymentAt: raw.lastPaymentAt ?? null,
    openReservations: Object.keys(raw.reservations).length,
    projection: row ?? null,
    // Since the object last started: calls answered, storage writes, changes written, D1 messages.
    object: await stub.writeStats(),
  });
}

/** The earnings totals over every channel of the D1 projection, every shard's rows added up
 *  (decimal strings of base units). */
export async function earningsSummary(env: Env) {
  const rows = newestRows((await eachShard(env, (db) => db.select().from(channels))).flat());
  const sum = { deposits: 0n, charged: 0n, withdrawn: 0n, withdrawable: 0n, credit: 0n };
  const byState: Record<string, number> = {};
  for (const r of rows) {
    byState[r.state] = (byState[r.state] ?? 0) + 1;
    if (r.state === "removed") continue;
    sum.deposits += BigInt(r.deposit);
    sum.charged += BigInt(r.charged);
    sum.withdrawn += BigInt(r.withdrawn);
    sum.withdrawable += BigInt(r.withdrawable) - BigInt(r.withdrawn);
    sum.credit += BigInt(r.balance) - BigInt(r.charged);
  }
  return {
    channels: rows.length,
    byState,
    deposits: sum.deposits.toString(),
    earned: sum.charged.toString(),
    withdrawn: sum.withdrawn.toString(),
    withdrawableNow: sum.withdrawable.toString(),
    unwithdrawn: (sum.charged - sum.withdrawn).toString(),
    outstandingCredit: sum.credit.toString(),
    note: "Figures come from the D1 projection, which trails the channel objects by about a second.",
  };
}

/** GET /earnings: the totals over every channel of the D1 projection. */
async function earnings(c: AdminContext): Promise<Response> {
  return c.json(await earningsSummary(c.env));
}
