// The settlement step of a sync run, and the admin actions' shared path: collect the intents
// (collect.ts), hand them to the one ReceiverObject in one call (it skips what is already in
// flight or done, and serialises nonces), then let it follow its pending transactions. Returns
// what was sent and any alert (the receiver lacks gas, a transaction stays stuck).
import type { Env } from "../config.js";
import type { IntentOutcome, TickResult, TxView } from "../receiver/object.js";
import { receiverStub } from "../receiver/stub.js";
import type { TxIntent } from "../receiver/txs.js";
import { collectDisputes, collectWithdrawals, type KnownDispute } from "./collect.js";

export type SettlementReport = {
  disputes: IntentOutcome[];
  withdrawals: IntentOutcome[];
  tick: TickResult;
  alert: string | null;
};

export async function runSettlement(env: Env, p: { disputes: KnownDispute[]; withdrawMinimum: bigint | null }): Promise<SettlementReport> {
  const disputes = await collectDisputes(env, p.disputes);
  const withdrawals = p.withdrawMinimum === null ? [] : await collectWithdrawals(env, p.withdrawMinimum);
  const receiver = receiverStub(env);
  const submitted = disputes.length + withdrawals.length > 0 ? await receiver.submit([...disputes, ...withdrawals]) : { outcomes: [], alert: null };
  const tick = await receiver.tick();
  submitted.outcomes = withLatest(submitted.outcomes, tick);
  const isDispute = (o: IntentOutcome) => o.intent.kind === "dispute";
  return {
    disputes: submitted.outcomes.filter(isDispute),
    withdrawals: submitted.outcomes.filter((o) => !isDispute(o)),
    tick,
    alert: submitted.alert ?? tick.alert,
  };
}

/** Sends intents now (admin actions) and follows up at once; the outcomes say what happened. */
export async function sendNow(env: Env, intents: TxIntent[]): Promise<{ outcomes: IntentOutcome[]; tick: TickResult; alert: string | null }> {
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
