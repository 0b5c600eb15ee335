// The admin routes the operator's dashboard needs beyond the others, under /api/1/admin behind
// the same auth: `GET /overview` (the earnings totals, channels by state, and the paid requests
// of the last hour and day from the traffic counters) and `GET /chain` (the receiver's gas and
// token balances read from the chain now, its alert, and the dispute queue's entries). Amounts
// are decimal strings of base units.
import { asc, desc, eq, inArray } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { Context, Hono } from "hono";
import * as z from "zod/mini";
import { testTokenAbi } from "../../protocol/abi.js";
import { publicClient, rpcErrorText } from "../chain.js";
import { getConfig } from "../config.js";
import { channels, disputeQueue, receiverTxs } from "../db/schema.js";
import type { Env } from "../env.js";
import { errorText, log, LogEvents } from "../log.js";
import { eachShard } from "../projection/shards.js";
import { newestRows } from "../projection/write.js";
import { receiverStub } from "../receiver/stub.js";
import { trafficSeries } from "../traffic/index.js";
import { earningsSummary } from "./admin.js";
import { address, amount, documented, type RouteDoc } from "./openapi.js";

type AdminContext = Context<{ Bindings: Env }>;

/** How many dispute queue entries `GET /chain` lists (the open ones first). */
const DISPUTES_LISTED = 50;

/**
 * Adds the dashboard's routes to an admin API: `GET /overview` and `GET /chain`.
 *
 * @param api - The admin API (from `adminApi()`, which already checks the credentials).
 */
export function dashboardAdmin(api: Hono<{ Bindings: Env }>): void {
  api.get("/overview", documented(docs.overview, overview));
  api.get("/chain", documented(docs.chain, chain));
}

const count = z.number();
const ms = z.nullable(z.number());

/** The OpenAPI descriptions of these routes (api/openapi.ts). */
const docs = {
  overview: {
    summary: "The dashboard's Overview: earnings totals, channels by state, paid requests of the last hour and day",
    description:
      "Amounts come from the D1 projection (as GET /earnings), the paid requests from the traffic counters (as GET /traffic; null when they cannot be read). A channel whose sender asked to close counts as closing.",
    ok: z.object({
      earned: amount,
      withdrawn: amount,
      withdrawableNow: amount,
      outstandingCredit: amount,
      deposits: amount,
      channels: z.object({ open: count, closing: count, settled: count, removed: count }),
      payments: z.nullable(z.object({ lastHour: count, lastDay: count })),
      note: z.string(),
    }),
  },
  chain: {
    summary:
      "The receiver on chain (gas and token balances read now, pending transactions, alert) and the dispute queue",
    description:
      "Balances and headBlock are null, with `error`, when the chain node does not answer. Wei and token base units as decimal strings.",
    ok: z.object({
      receiver: z.object({
        address,
        gasBalance: z.nullable(amount),
        tokenBalance: z.nullable(amount),
        headBlock: z.nullable(count),
        error: z.nullable(z.string()),
        pendingTransactions: count,
        alert: z.nullable(z.string()),
        alertAt: ms,
      }),
      token: address,
      contract: address,
      disputes: z.array(
        z.object({
          sender: address,
          openBlock: count,
          closingBalance: amount,
          settleBlock: count,
          closeBlock: count,
          status: z.string(),
          attempts: count,
          lastError: z.nullable(z.string()),
          updatedAt: count,
        }),
      ),
    }),
  },
} satisfies Record<string, RouteDoc>;

/** The channels by the state an operator reads (a sender's close request counts as closing),
 *  every projection shard's added up. */
async function channelStates(env: Env) {
  const answers = await eachShard(env, (db) =>
    db
      .select({
        id: channels.id,
        version: channels.version,
        state: channels.state,
        closeRequested: channels.closeRequested,
      })
      .from(channels)
      .where(inArray(channels.state, ["open", "closing", "settled", "removed"])),
  );
  const rows = newestRows(answers.flat());
  const byState = { open: 0, closing: 0, settled: 0, removed: 0 };
  for (const r of rows) byState[r.state === "open" && r.closeRequested ? "closing" : r.state]++;
  return byState;
}

/** The paid requests of the last hour and the last 24 hours, from the traffic counters (the
 *  last 60 and 1440 minutes, the current one included); null when they cannot be read. */
async function recentPayments(env: Env): Promise<{ lastHour: number; lastDay: number } | null> {
  try {
    const paid = (await trafficSeries(env)).map((m) => m.paid);
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    return { lastHour: sum(paid.slice(-60)), lastDay: sum(paid) };
  } catch (err) {
    log.error(LogEvents.trafficCountFailed, { step: "overview", error: errorText(err) });
    return null;
  }
}

/** GET /overview: what the dashboard's first view shows, in one answer. */
async function overview(c: AdminContext): Promise<Response> {
  const [summary, payments] = await Promise.all([earningsSummary(c.env), recentPayments(c.env)]);
  return c.json({
    earned: summary.earned,
    withdrawn: summary.withdrawn,
    withdrawableNow: summary.withdrawableNow,
    outstandingCredit: summary.outstandingCredit,
    deposits: summary.deposits,
    channels: await channelStates(c.env),
    payments,
    note: summary.note,
  });
}

/** The receiver's gas (wei) and token balances (base units), read now; null when the node fails. */
async function receiverBalances(c: AdminContext) {
  const config = getConfig(c.env);
  const client = publicClient(config);
  try {
    const [gas, tokens, head] = await Promise.all([
      client.getBalance({ address: config.receiverAddress }),
      client.readContract({
        address: config.token,
        abi: testTokenAbi,
        functionName: "balanceOf",
        args: [config.receiverAddress],
      }),
      client.getBlockNumber({ cacheTime: 0 }),
    ]);
    return { gasBalance: gas.toString(), tokenBalance: tokens.toString(), headBlock: Number(head), error: null };
  } catch (err) {
    return { gasBalance: null, tokenBalance: null, headBlock: null, error: rpcErrorText(err) };
  }
}

/** GET /chain: the receiver on chain, its pending transactions and alert, the dispute queue. */
async function chain(c: AdminContext): Promise<Response> {
  const config = getConfig(c.env);
  const db = drizzle(c.env.DB);
  const [balances, status, pending, disputes] = await Promise.all([
    receiverBalances(c),
    receiverStub(c.env).status(0),
    db.select({ hash: receiverTxs.hash }).from(receiverTxs).where(eq(receiverTxs.status, "pending")),
    db
      .select()
      .from(disputeQueue)
      .orderBy(
        // pending and honest closes first, most urgent settle block first
        desc(inArray(disputeQueue.status, ["pending", "honest"])),
        asc(disputeQueue.settleBlock),
        desc(disputeQueue.updatedAt),
      )
      .limit(DISPUTES_LISTED),
  ]);
  return c.json({
    receiver: {
      address: config.receiverAddress,
      ...balances,
      pendingTransactions: pending.length,
      alert: status.alert,
      alertAt: status.alertAt,
    },
    token: config.token,
    contract: config.contract,
    disputes: disputes.map((d) => ({
      sender: d.sender,
      openBlock: d.openBlock,
      closingBalance: d.closingBalance,
      settleBlock: d.settleBlock,
      closeBlock: d.closeBlock,
      status: d.status,
      attempts: d.attempts,
      lastError: d.lastError,
      updatedAt: d.updatedAt,
    })),
  });
}
