// The settlement step of a sync run, and the admin actions' shared path: collect the intents
// (collect.ts: disputes and settles from the dispute queue, withdrawals), hand them to the one
// ReceiverObject in one call (it skips what is already in flight or done, and serialises
// nonces), record on each queued close what became of its dispute, then let the object follow
// its pending transactions. Returns what was sent and any alert (the receiver lacks gas, a
// transaction stays stuck).
import { drizzle } from "drizzle-orm/d1";
import type { PublicClient } from "viem";
import type { Config } from "../config.js";
import type { Env } from "../env.js";
import type { IntentOutcome, TickResult, TxView } from "../receiver/txs.js";
import { receiverStub } from "../receiver/stub.js";
import type { TxIntent } from "../receiver/txs.js";
import { collectDisputes, collectSettles, collectWithdrawals } from "./collect.js";
import { markClose } from "./queue.js";

export type SettlementReport = {
  disputes: IntentOutcome[];
  settles: IntentOutcome[];
  withdrawals: IntentOutcome[];
  tick: TickResult;
  alert: string | null;
};

export type SettlementOptions = {
  /** The sync's config and client (its own RPC budget, never the strangers' look-ups). */
  config: Pick<Config, "contract" | "receiverAddress">;
  client: PublicClient;
  head: bigint;
  /** The confirmed block the queued closes are judged at. */
  confirmed: bigint;
  withdrawMinimum: bigint | null;
};

export async function runSettlement(env: Env, p: SettlementOptions): Promise<SettlementReport> {
  const queued = await collectDisputes(env, p.config, p.client, p.head, p.confirmed);
  const settles = await collectSettles(env, p.head);
  const withdrawals = p.withdrawMinimum === null ? [] : await collectWithdrawals(env, p.withdrawMinimum);
  const disputes = queued.map((q) => q.intent);
  const receiver = receiverStub(env);
  const all = [...disputes, ...settles, ...withdrawals];
  const submitted = all.length > 0 ? await receiver.submit(all) : { outcomes: [], alert: null };
  if (queued.length > 0) {
    // Each queued close keeps its dispute's fate: the next run tries again until the chain shows it settled.
    const now = Date.now();
    const db = drizzle(env.DB);
    const marks = queued.map((q, i) => {
      const o = submitted.outcomes[i]!;
      return markClose(db, q.rowId, {
        status: "pending",
        error: o.result === "refused" ? o.reason : null,
        attempted: true,
        now,
      });
    });
    await db.batch([marks[0]!, ...marks.slice(1)]);
  }
  const tick = await receiver.tick();
  submitted.outcomes = withLatest(submitted.outcomes, tick);
  return {
    disputes: submitted.outcomes.slice(0, disputes.length),
    settles: submitted.outcomes.slice(disputes.length, disputes.length + settles.length),
    withdrawals: submitted.outcomes.slice(disputes.length + settles.length),
    tick,
    alert: submitted.alert ?? tick.alert,
  };
}

/** Sends intents now (admin actions) and follows up at once; the outcomes say what happened. */
export async function sendNow(
  env: Env,
  intents: TxIntent[],
): Promise<{ outcomes: IntentOutcome[]; tick: TickResult; alert: string | null }> {
  const receiver = receiverStub(env);
  const submitted = intents.length > 0 ? await receiver.submit(intents) : { outcomes: [], alert: null };
  const tick = await receiver.tick();
  return { outcomes: withLatest(submitted.outcomes, tick), tick, alert: submitted.alert ?? tick.alert };
}

/** The outcomes with each transaction as the follow-up just saw it (mined at once on a dev chain). */
function withLatest(outcomes: IntentOutcome[], tick: TickResult): IntentOutcome[] {
  const latest = new Map<string, TxView>();
  for (const t of [...tick.confirmed, ...tick.failed, ...tick.replaced]) latest.set(t.hashes[0]!, t);
  return outcomes.map((o) => (o.result === "refused" ? o : { ...o, tx: latest.get(o.tx.hashes[0]!) ?? o.tx }));
}
