// The operator's chain actions under /api/1/admin (mounted by index.ts through
// `createApp({ admin })`, behind the admin token): the sync's health, its dispute queue and the
// strangers' look-up budget, and one sync run now (`GET|POST /sync`), withdrawing earnings (`POST /withdraw {"minimum": "<amount>"}`), the
// receiver-side cooperative close of a channel whose sender asked to close
// (`POST /channels/{sender}/{openBlock}/close`) and settling channels whose challenge has ended
// (`POST /settle`). Every transaction goes through the ReceiverObject; each answer lists what
// was sent, what an earlier transaction already covers, and what was refused and why.
import type { Hono } from "hono";
import * as z from "zod/mini";
import { publicClient } from "../chain.js";
import { channelStub } from "../channel/stub.js";
import { channelParams } from "../api/management.js";
import { getConfig } from "../config.js";
import type { Env } from "../env.js";
import { errorResponse } from "../http/responses.js";
import type { IntentOutcome } from "../receiver/object.js";
import { lookupStub } from "../lookup/learn.js";
import { receiverStub } from "../receiver/stub.js";
import { readSyncRow, recordAlert } from "../sync/cursor.js";
import { runSync, type SyncReport } from "../sync/run.js";
import { collectSettles, collectWithdrawals } from "./collect.js";
import { sendNow } from "./run.js";

const withdrawBody = z.object({
  minimum: z
    .string()
    .check(z.regex(/^(0|[1-9][0-9]{0,77})$/, "minimum must be an unsigned decimal string of token base units")),
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

/** Adds the chain-action routes to the admin API (which already checks the token). */
export function settlementAdmin(api: Hono<{ Bindings: Env }>): void {
  api.get("/sync", async (c) => {
    const config = getConfig(c.env);
    const row = await readSyncRow(c.env.DB);
    const now = Date.now();
    const { results: txs } = await c.env.DB.prepare(
      "SELECT * FROM receiver_txs ORDER BY updated_at DESC LIMIT 20",
    ).all();
    const { results: queue } = await c.env.DB.prepare(
      "SELECT status, COUNT(*) AS n FROM dispute_queue GROUP BY status",
    ).all<{ status: string; n: number }>();
    return c.json({
      sync: row
        ? {
            syncedBlock: row.blockNumber,
            syncedBlockHash: row.blockHash || null,
            // Set when the last run stopped inside that block, after this log index.
            syncedLogIndex: row.logIndex ?? null,
            headBlock: row.headBlock,
            behind:
              row.headBlock === null
                ? null
                : Math.max(0, row.headBlock - config.minConfirmations + 1 - row.blockNumber),
            eventsApplied: row.eventsApplied,
            reorgs: row.reorgs,
            lastRunAt: row.lastRunAt,
            lastError: row.lastError,
            lastErrorAt: row.lastErrorAt,
            running: row.lockUntil !== null && row.lockUntil > now,
          }
        : null,
      settings: {
        minConfirmations: config.minConfirmations,
        deployBlock: config.deployBlock.toString(),
        chunkBlocks: config.syncChunkBlocks.toString(),
        maxChunks: config.syncMaxChunks,
        withdrawThreshold: config.withdrawThreshold.toString(),
      },
      receiver: await receiverStub(c.env).status(20),
      // Queued close requests by status (pending, honest, done, moot).
      disputeQueue: Object.fromEntries(queue.map((r) => [r.status, r.n])),
      // What strangers' look-ups spent of their own RPC budget (this instance's counts).
      lookups: await lookupStub(c.env).stats(),
      receiverTxs: txs,
    });
  });

  api.post("/sync", async (c) => {
    const report = await runSync(c.env);
    return c.json(syncReportJson(report));
  });

  api.post("/withdraw", async (c) => {
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
    const intents = await collectWithdrawals(c.env, minimum);
    const result = await sendNow(c.env, intents);
    if (result.alert) await recordAlert(c.env.DB, result.alert, Date.now());
    return c.json({ minimum: minimum.toString(), ...outcomesJson(result.outcomes), alert: result.alert });
  });

  api.post("/channels/:sender/:openBlock/close", async (c) => {
    const params = channelParams(c);
    if (params instanceof Response) return params;
    const { sender, openBlock } = params;
    const stub = channelStub(c.env, sender, openBlock);
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
  });

  api.post("/settle", async (c) => {
    const config = getConfig(c.env);
    let head: bigint;
    try {
      head = await publicClient(config).getBlockNumber({ cacheTime: 0 });
    } catch (err) {
      return errorResponse(c, "chain_unavailable", {
        message: `The chain node did not answer: ${err instanceof Error ? err.message : String(err)}`,
      });
    }
    const result = await sendNow(c.env, await collectSettles(c.env, head));
    if (result.alert) await recordAlert(c.env.DB, result.alert, Date.now());
    return c.json({ headBlock: Number(head), ...outcomesJson(result.outcomes), alert: result.alert });
  });
}
