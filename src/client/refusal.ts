// What the paying fetch does after a 402 refused one of its payments. The refusal code says
// what it means (policy.ts `refusalAction`); this settles the refused payment's books by that
// meaning (reconciling with the server's balance, reading the chain, dropping a closing channel
// or a bad session) and names the next step: send the same proof again, plan a new payment, or
// stop. Kept apart from the send loop so each meaning has one place.
import type { ChainAccess } from "./chain.js";
import type { ChannelLedger, ChannelReport } from "./ledger.js";
import type { Payer, Payment, PlanOptions } from "./payer.js";
import { refusalAction } from "./policy.js";
import { reconcileRefusedProof, reportFor } from "./reconcile.js";
import type { Refusal } from "./response.js";

/** The step after a refusal: the same proof again (after a backoff), a new payment, or stop. */
export type RefusalStep = { kind: "resend" } | { kind: "plan"; options: PlanOptions } | { kind: "fail" };

export type RefusalDeps = { payer: Pick<Payer, "finish">; chain: Pick<ChainAccess, "channelInfo"> };

const plan = (options: PlanOptions = {}): RefusalStep => ({ kind: "plan", options });

/**
 * Settles the books of a refused `payment` (undefined: the request went out unpaid) and says
 * what to do next. `report` is the channel report of the 402.
 */
export async function stepAfterRefusal(
  deps: RefusalDeps,
  payment: Payment | undefined,
  refusal: Refusal,
  report: ChannelReport | null,
): Promise<RefusalStep> {
  const action = refusalAction(refusal.code);
  if (!payment) return action === "fail" && refusal.code !== "payment_required" ? { kind: "fail" } : plan();
  const ledger = payment.ledger;
  const refused = (): void => deps.payer.finish(payment, "refused");
  switch (action) {
    case "pay":
      refused();
      return plan();
    case "reconcile":
      return reconcile(payment, reportFor(ledger, report), refused);
    case "wait":
      if (payment.kind !== "session") return { kind: "resend" };
      refused();
      return plan();
    case "check_deposit":
    case "check_channel":
      if (payment.kind === "session") {
        refused();
        return plan({ noCredit: true });
      }
      return checkChain(deps.chain, payment, action, refused);
    case "switch_channel":
      refused();
      if (ledger.state === "open") ledger.state = "closing";
      return plan();
    case "drop_session":
      refused();
      ledger.credit = reportFor(ledger, report)?.credit ?? 0n;
      if (refusal.code === "invalid_session") ledger.setSession(undefined);
      return plan({ noCredit: true });
    default:
      refused();
      return { kind: "fail" };
  }
}

/** `invalid_amount`: take the server's balance when it is ours; pay from credit when our proof became credit. */
async function reconcile(payment: Payment, ours: ChannelReport | undefined, refused: () => void): Promise<RefusalStep> {
  if (payment.kind === "session" || !ours) {
    refused();
    return plan({ noCredit: payment.kind === "session" });
  }
  const next = await reconcileRefusedProof(payment.ledger, payment, ours);
  return plan(next === "credit" ? { entitled: payment.ledger } : {});
}

/** The server does not know the deposit or the channel: the chain says whether to wait for it. */
async function checkChain(
  chain: RefusalDeps["chain"],
  payment: Payment & { kind: "proof" },
  action: "check_deposit" | "check_channel",
  refused: () => void,
): Promise<RefusalStep> {
  const ledger: ChannelLedger = payment.ledger;
  const info = await chain.channelInfo(ledger.contract, ledger.receiver, ledger.openBlock);
  if (!info || info.settleBlock > 0) {
    refused();
    ledger.noteChainState(info);
    return plan();
  }
  if (info.deposit > ledger.deposit) ledger.deposit = info.deposit;
  // The chain has it: the server has not caught up yet. Same proof, after a backoff.
  if (action === "check_channel" || info.deposit >= payment.balance) return { kind: "resend" };
  refused();
  ledger.deposit = info.deposit;
  return plan();
}
