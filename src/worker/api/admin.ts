// The operator's API under /api/1/admin, behind `Authorization: Bearer <ADMIN_TOKEN>` (compared
// in constant time): channels with paging and filters (from the D1 projection), one channel as
// its object holds it, and an earnings summary. Chain actions (sync, withdraw, close, settle)
// are mounted here by the settlement module.
import { and, asc, eq, gt, type SQL } from "drizzle-orm";
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
import { errorResponse } from "../http/responses.js";
import { channelFromPath, channelJson } from "./management.js";
import { projectionRoute, trafficRoute } from "./observe.js";

/** Rejects any request without the admin bearer token (401, JSON body, nothing changed). */
export function adminAuth(): MiddlewareHandler<{ Bindings: Env }> {
  return async (c, next) => {
    const config = getConfig(c.env);
    const header = c.req.header("authorization") ?? "";
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m || !(await timingSafeEqual(m[1]!, config.adminToken))) {
      return errorResponse(c, "unauthorized", {
        message: "This route needs Authorization: Bearer <ADMIN_TOKEN>.",
        headers: { "WWW-Authenticate": 'Bearer realm="edge402-admin"' },
      });
    }
    await next();
  };
}

const listQuery = z.object({
  state: z.optional(z.enum(["open", "closing", "settled", "removed"])),
  sender: z.optional(z.string()),
  limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(500)), 50),
  cursor: z.optional(z.string().check(z.maxLength(60))),
});

type AdminContext = Context<{ Bindings: Env }>;

/**
 * The operator's API, every route behind `Authorization: Bearer <ADMIN_TOKEN>`: `GET /channels`
 * (paged, filtered by `state` and `sender`), `GET /channels/{sender}/{openBlock}`,
 * `GET /earnings`, `GET /traffic` (per-minute traffic) and `GET /projection` (the D1 projection's lag). `createApp` mounts it; mount it yourself under `/api/1/admin` otherwise.
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
  api.get("/channels", listChannels);
  api.get("/channels/:sender/:openBlock", channelDetail);
  api.get("/earnings", earnings);
  api.get("/traffic", trafficRoute);
  api.get("/projection", projectionRoute);
  return api;
}

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
  if (q.cursor) where.push(gt(channels.id, q.cursor));
  const rows = await drizzle(c.env.DB)
    .select()
    .from(channels)
    .where(where.length ? and(...where) : undefined)
    .orderBy(asc(channels.id))
    .limit(q.limit + 1);
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
  const [row] = await drizzle(c.env.DB)
    .select()
    .from(channels)
    .where(eq(channels.id, channelId(sender, openBlock)));
  const info = await stub.info(sender, openBlock);
  return c.json({
    channel: info.channel ? channelJson(info.channel) : null,
    withdrawable: (raw.withdrawable?.balance ?? raw.withdrawn).toString(),
    pendingProofs: raw.pending.length,
    payments: raw.payments,
    openReservations: Object.keys(raw.reservations).length,
    projection: row ?? null,
    // Since the object last started: calls answered, storage writes, changes written, D1 messages.
    object: await stub.writeStats(),
  });
}

/** GET /earnings: the totals over every channel of the D1 projection. */
async function earnings(c: AdminContext): Promise<Response> {
  const rows = await drizzle(c.env.DB).select().from(channels);
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
  return c.json({
    channels: rows.length,
    byState,
    deposits: sum.deposits.toString(),
    earned: sum.charged.toString(),
    withdrawn: sum.withdrawn.toString(),
    withdrawableNow: sum.withdrawable.toString(),
    unwithdrawn: (sum.charged - sum.withdrawn).toString(),
    outstandingCredit: sum.credit.toString(),
    note: "Figures come from the D1 projection, which trails the channel objects by about a second.",
  });
}
