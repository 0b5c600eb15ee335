// Reconciling with the server's word on a channel, as µRaiden does, because a client that lost
// its store signed more than it knows: a balance the server returns is taken only when it is
// ours (signed here, or its signature recovers to us); anything else stops the client with
// `balance_mismatch`.
import type { Hex } from "viem";
import { verifyBalanceProof } from "../protocol/verify.js";
import { ClientErrorCodes, Edge402Error } from "./errors.js";
import type { ChannelLedger, ChannelReport } from "./ledger.js";
import type { Payer, Payment } from "./payer.js";

/** `report` when it speaks of `ledger`'s channel (same sender and open block), else undefined. */
export function reportFor(ledger: ChannelLedger, report: ChannelReport | null | undefined): ChannelReport | undefined {
  if (!report) return undefined;
  return report.sender.toLowerCase() === ledger.sender.toLowerCase() && report.openBlock === ledger.openBlock
    ? report
    : undefined;
}

/** True when `balance` is ours: zero, signed by this process, or its signature recovers to us. */
export async function isOurBalance(
  ledger: ChannelLedger,
  balance: bigint,
  signature: Hex | undefined,
): Promise<boolean> {
  if (balance === 0n || balance === ledger.accepted || ledger.hasSigned(balance)) return true;
  if (!signature) return false;
  return verifyBalanceProof({ ...ledger.ref, balance, signature, sender: ledger.sender });
}

/**
 * Folds a trusted server B into the ledger. `signedBefore` is `ledger.signed` before the
 * request's own proof was settled: a B above it can only come from an earlier process.
 */
export function takeServerBalance(ledger: ChannelLedger, report: ChannelReport, signedBefore: bigint): void {
  if (report.balance > signedBefore) ledger.adopt(report.balance, report.signature);
  else if (report.balance > ledger.accepted) {
    ledger.recordServerBalance(report.balance, report.signature, !ledger.hasSigned(report.balance));
  }
}

/** How to pay after a reconciliation: `credit` when our proof became credit, else a new proof. */
export type ReconcileOutcome = "credit" | "proof";

/**
 * A proof for `balance` (paying `price`) was refused with `invalid_amount` and `report` is the
 * server's view of the channel. Settles the proof as refused, checks and takes the server's B,
 * and says how to pay next. Throws `balance_mismatch` when the server's B is not ours.
 */
export async function reconcileRefusedProof(
  ledger: ChannelLedger,
  proof: { balance: bigint; price: bigint },
  report: ChannelReport,
): Promise<ReconcileOutcome> {
  const signedBefore = ledger.signed;
  ledger.settleRefused(proof.balance);
  if (!(await isOurBalance(ledger, report.balance, report.signature))) {
    throw new Edge402Error(
      ClientErrorCodes.balanceMismatch,
      `The server holds balance ${report.balance} on channel ${ledger.openBlock}, but its signature does not recover to ${ledger.sender}; stopping.`,
      {
        details: {
          openBlock: String(ledger.openBlock),
          serverBalance: report.balance.toString(),
          ourBalance: ledger.accepted.toString(),
        },
      },
    );
  }
  // Absorbed: a higher proof of ours reached the server first, so our amount became credit
  // (and the server says there is enough). A balance from before a lost store is not that.
  const absorbed =
    report.balance >= proof.balance && report.balance <= signedBefore && (report.credit ?? 0n) >= proof.price;
  if (report.balance < ledger.accepted) ledger.adopt(report.balance, report.signature);
  else takeServerBalance(ledger, report, signedBefore);
  ledger.applyReport(report);
  return absorbed ? "credit" : "proof";
}

/**
 * Whether the server kept a payment it answered without a 402. Its channel report says; with
 * none, a success was served without the proof and an error may have kept it.
 */
function servedOutcome(
  payment: Payment,
  ours: ChannelReport | undefined,
  ok: boolean,
): "accepted" | "refused" | "unknown" {
  if (payment.kind !== "proof") return "accepted";
  if (ours) return ours.balance >= payment.balance ? "accepted" : "refused";
  return ok ? "refused" : "unknown";
}

/**
 * Closes the books of a payment the server answered without a 402 (`ok`: a success), and takes
 * the answer's channel report (`ours`: already checked to name the payment's channel) when its
 * balance is ours. A served balance that is not ours is not taken (nor is the answer lost).
 */
export async function closeServed(
  payer: Pick<Payer, "finish">,
  payment: Payment,
  ours: ChannelReport | undefined,
  ok: boolean,
): Promise<void> {
  const ledger = payment.ledger;
  const signedBefore = ledger.signed;
  payer.finish(payment, servedOutcome(payment, ours, ok));
  if (!ours) return;
  if (await isOurBalance(ledger, ours.balance, ours.signature)) takeServerBalance(ledger, ours, signedBefore);
  ledger.applyReport(ours);
}
