// The operator's chain actions under /api/1/admin, behind the admin token. Every transaction
// goes through the ReceiverObject, and each answer lists what was sent, what an earlier
// transaction already covers, and what was refused and why, so an action can be repeated safely.
import { count, desc } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { Context, Hono } from "hono";
import * as z from "zod/mini";
import { parseAmount } from "../../protocol/amount.js";
import { publicClient, rpcErrorText } from "../chain.js";
import { channelFromPath, channelPath } from "../api/management.js";
import { address, amount, documented, type RouteDoc } from "../api/openapi.js";
import { getConfig, type Config } from "../config.js";
import { disputeQueue, receiverTxs } from "../db/schema.js";
import type { Env } from "../env.js";
import { errorResponse } from "../http/responses.js";
import type { IntentOutcome } from "../receiver/txs.js";
import { lookupStub } from "../lookup/learn.js";
import { receiverStub } from "../receiver/stub.js";
import { readSyncRow, recordAlert, type SyncRow } from "../sync/cursor.js";
import { runSync, type SyncReport } from "../sync/run.js";
import { collectSettles, collectWithdrawals } from "./collect.js";
import { sendNow } from "./run.js";

/** A `receiver_txs` row as the admin view shows it: the table's own column names. */
const receiverTxRow = {
  hash: receiverTxs.hash,
  kind: receiverTxs.kind,
  sender: receiverTxs.sender,
  open_block: receiverTxs.openBlock,
  amount: receiverTxs.amount,
  nonce: receiverTxs.nonce,
  status: receiverTxs.status,
  attempts: receiverTxs.attempts,
  error: receiverTxs.error,
  created_at: receiverTxs.createdAt,
  updated_at: receiverTxs.updatedAt,
};

const withdrawBody = z.object({
  minimum: z
    .string()
    .check(z.refine((v) => parseAmount(v) !== null, "minimum must be an unsigned decimal string of token base units")),
});

/** An intent's outcome as JSON (amounts as decimal strings). */
export function outcomeJson(o: IntentOutcome) {
  const intent = {
    kind: o.intent.kind,
    sender: o.intent.sender,
    openBlock: o.intent.openBlock,
    balance: o.intent.balance.toString(),
  };
  if (o.result === "refused") return { ...intent, result: o.result, reason: o.reason };
  return { ...intent, result: o.result, tx: o.tx };
}

function outcomesJson(outcomes: IntentOutcome[]) {
  return {
    sent: outcomes.filter((o) => o.result === "sent").map(outcomeJson),
    covered: outcomes.filter((o) => o.result === "covered").map(outcomeJson),
    refused: outcomes.filter((o) => o.result === "refused").map(outcomeJson),
  };
}

export function syncReportJson(r: SyncReport) {
  return JSON.parse(JSON.stringify(r, (_k, v) => (typeof v === "bigint" ? v.toString() : v))) as Record<
    string,
    unknown
  >;
}

type AdminContext = Context<{ Bindings: Env }>;

/**
 * Adds the operator's chain actions to an admin API: `GET|POST /sync`, `POST /withdraw`,
 * `POST /channels/{sender}/{openBlock}/close` and `POST /settle`.
 *
 * @param api - The admin API (from `adminApi()`, which already checks the admin token).
 * @returns Nothing: the routes are added to `api`.
 * @example
 * ```ts
 * const app = createApp({ routes, admin: settlementAdmin });
 * ```
 */
export function settlementAdmin(api: Hono<{ Bindings: Env }>): void {
  api.get("/sync", documented(docs.syncView, syncView));
  api.post(
    "/sync",
    documented(docs.runSync, async (c) => c.json(syncReportJson(await runSync(c.env)))),
  );
  api.post("/withdraw", documented(docs.withdraw, withdraw));
  api.post("/channels/:sender/:openBlock/close", documented(docs.closeChannel, closeChannel));
  api.post("/settle", documented(docs.settle, settle));
}

const outcome = z.object({
  kind: z.string(),
  sender: address,
  openBlock: z.number(),
  balance: amount,
  result: z.enum(["sent", "covered", "refused"]),
  tx: z.optional(z.string()),
  reason: z.optional(z.string()),
});

/** What an action sent, what earlier transactions already cover, what was refused; and any alert. */
const outcomes = {
  sent: z.array(outcome),
  covered: z.array(outcome),
  refused: z.array(outcome),
  alert: z.nullable(z.string()),
};

const docs = {
  syncView: {
    summary: "The sync's health and settings, the receiver and its transactions, the dispute queue, the look-ups",
    ok: z.object({
      sync: z.nullable(
        z.looseObject({
          syncedBlock: z.number(),
          headBlock: z.nullable(z.number()),
          behind: z.nullable(z.number()),
          running: z.boolean(),
          leaseUntil: z.nullable(z.number()),
        }),
      ),
      settings: z.looseObject({ minConfirmations: z.number(), deployBlock: amount, withdrawThreshold: amount }),
      receiver: z.looseObject({ address, alert: z.nullable(z.string()) }),
      disputeQueue: z.record(z.string(), z.number()),
      lookups: z.looseObject({}),
      receiverTxs: z.array(z.looseObject({ hash: z.nullable(z.string()), kind: z.string(), status: z.string() })),
    }),
  },
  runSync: {
    summary: "Runs the chain sync now and reports what it did",
    ok: z.looseObject({
      ran: z.boolean(),
      headBlock: z.nullable(z.number()),
      events: z.number(),
      reorg: z.nullable(z.looseObject({})),
      settlement: z.nullable(z.looseObject({})),
      error: z.nullable(z.string()),
    }),
  },
  withdraw: {
    summary: "Withdraws every channel's earnings over `minimum`",
    body: withdrawBody,
    ok: z.object({ minimum: amount, ...outcomes }),
    errors: ["bad_request"],
  },
  closeChannel: {
    summary: "The receiver-side close of a channel whose sender asked to close",
    params: channelPath,
    ok: z.object(outcomes),
    errors: ["bad_request", "not_found"],
  },
  settle: {
    summary: "Settles the honest closes whose challenge period has ended",
    ok: z.object({ headBlock: z.number(), ...outcomes }),
    errors: ["chain_unavailable"],
  },
} satisfies Record<string, RouteDoc>;

/** GET /sync: the sync's health, its settings, the receiver, the dispute queue, the look-ups. */
async function syncView(c: AdminContext): Promise<Response> {
  const config = getConfig(c.env);
  const row = await readSyncRow(c.env.DB);
  const db = drizzle(c.env.DB);
  const txs = await db.select(receiverTxRow).from(receiverTxs).orderBy(desc(receiverTxs.updatedAt)).limit(20);
  const queue = await db
    .select({ status: disputeQueue.status, n: count() })
    .from(disputeQueue)
    .groupBy(disputeQueue.status);
  return c.json({
    sync: row ? syncRowJson(row, config, Date.now()) : null,
    settings: {
      minConfirmations: config.minConfirmations,
      deployBlock: config.deployBlock.toString(),
      chunkBlocks: config.syncChunkBlocks.toString(),
      maxChunks: config.syncMaxChunks,
      maxObjectCalls: config.syncMaxObjectCalls,
      withdrawThreshold: config.withdrawThreshold.toString(),
    },
    receiver: await receiverStub(c.env).status(20),
    // Queued close requests by status (pending, honest, done, moot).
    disputeQueue: Object.fromEntries(queue.map((r) => [r.status, r.n])),
    // What strangers' look-ups spent of their own RPC budget (this instance's counts).
    lookups: await lookupStub(c.env).stats(),
    receiverTxs: txs,
  });
}

function syncRowJson(row: SyncRow, config: Config, now: number) {
  return {
    syncedBlock: row.blockNumber,
    syncedBlockHash: row.blockHash || null,
    // Set when the last run stopped inside that block, after this log index.
    syncedLogIndex: row.logIndex ?? null,
    headBlock: row.headBlock,
    behind: row.headBlock === null ? null : Math.max(0, row.headBlock - config.minConfirmations + 1 - row.blockNumber),
    eventsApplied: row.eventsApplied,
    reorgs: row.reorgs,
    lastRunAt: row.lastRunAt,
    lastError: row.lastError,
    lastErrorAt: row.lastErrorAt,
    running: row.lockUntil !== null && row.lockUntil > now,
    // When the running run's lease ends unless renewed (a killed run's holds up the next until then).
    leaseUntil: row.lockUntil !== null && row.lockUntil > now ? row.lockUntil : null,
  };
}

/** POST /withdraw {"minimum": "<amount>"}: withdraws every channel's earnings over `minimum`. */
async function withdraw(c: AdminContext): Promise<Response> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    return errorResponse(c, "bad_request", { message: 'The body must be JSON: {"minimum": "<amount>"}.' });
  }
  const parsed = withdrawBody.safeParse(body);
  if (!parsed.success)
    return errorResponse(c, "bad_request", {
      message: parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; "),
    });
  const minimum = BigInt(parsed.data.minimum);
  const result = await sendNow(c.env, await collectWithdrawals(c.env, minimum));
  if (result.alert) await recordAlert(c.env.DB, result.alert, Date.now());
  return c.json({ minimum: minimum.toString(), ...outcomesJson(result.outcomes), alert: result.alert });
}

/** POST /channels/{sender}/{openBlock}/close: the receiver-side close of a channel whose sender
 *  asked to close. */
async function closeChannel(c: AdminContext): Promise<Response> {
  const ch = channelFromPath(c);
  if (ch instanceof Response) return ch;
  const { sender, openBlock, stub } = ch;
  const proof = await stub.closeProof();
  if (!proof) {
    const raw = await stub.raw();
    if (!raw) return errorResponse(c, "not_found", { message: "This paywall has never seen that channel." });
    if (raw.status === "settled" || raw.status === "removed")
      return errorResponse(c, "bad_request", { message: `The channel is ${raw.status}.` });
    if (!raw.closeRequested) {
      return errorResponse(c, "bad_request", {
        message: "The sender has not asked to close this channel (DELETE /api/1/channels/{sender}/{openBlock}).",
      });
    }
    return errorResponse(c, "bad_request", {
      message: "No balance proof at or below the charged total: the sender closes with its own closing proof.",
    });
  }
  const result = await sendNow(c.env, [
    { kind: "close", sender, openBlock, balance: proof.balance, balanceSig: proof.signature },
  ]);
  if (result.alert) await recordAlert(c.env.DB, result.alert, Date.now());
  return c.json({ ...outcomesJson(result.outcomes), alert: result.alert });
}

/** POST /settle: settles the honest closes whose challenge has ended. */
async function settle(c: AdminContext): Promise<Response> {
  const config = getConfig(c.env);
  let head: bigint;
  try {
    head = await publicClient(config).getBlockNumber({ cacheTime: 0 });
  } catch (err) {
    return errorResponse(c, "chain_unavailable", {
      message: `The chain node did not answer: ${rpcErrorText(err)}`,
    });
  }
  const result = await sendNow(c.env, await collectSettles(c.env, head));
  if (result.alert) await recordAlert(c.env.DB, result.alert, Date.now());
  return c.json({ headBlock: Number(head), ...outcomesJson(result.outcomes), alert: result.alert });
}
