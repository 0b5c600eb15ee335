// Which receiver transactions the paywall owes itself now, as intents for the ReceiverObject:
// disputes of cheating closes (the channels the D1 projection shows closing, plus those the
// sync just saw close), withdrawals of every channel whose withdrawable-but-not-withdrawn
// amount reaches a minimum, and settles of channels whose challenge has ended. The D1
// projection only picks the candidates; each channel's object has the final word and the proof.
import type { Address } from "viem";
import type { DisputePlan } from "../channel/events.js";
import { channelStub } from "../channel/stub.js";
import type { Env } from "../config.js";
import type { TxIntent } from "../receiver/txs.js";

/** Candidates read per pass; the rest wait for the next run. */
export const MAX_CANDIDATES = 200;

type Row = { sender: string; open_block: number };

export type KnownDispute = { sender: Address; openBlock: number; plan: DisputePlan };

const disputeIntent = (sender: Address, openBlock: number, plan: DisputePlan): TxIntent => ({
  kind: "dispute",
  sender,
  openBlock,
  balance: plan.proof.balance,
  balanceSig: plan.proof.signature,
});

/** Disputes for every closing channel whose object holds a proof above the claimed balance. */
export async function collectDisputes(env: Env, known: readonly KnownDispute[] = []): Promise<TxIntent[]> {
  const intents = new Map<string, TxIntent>();
  for (const k of known) intents.set(`${k.sender.toLowerCase()}-${k.openBlock}`, disputeIntent(k.sender, k.openBlock, k.plan));
  const { results } = await env.DB.prepare("SELECT sender, open_block FROM channels WHERE state = 'closing' ORDER BY updated_at LIMIT ?")
    .bind(MAX_CANDIDATES)
    .all<Row>();
  for (const r of results) {
    const key = `${r.sender}-${r.open_block}`;
    if (intents.has(key)) continue;
    const plan = await channelStub(env, r.sender as Address, r.open_block).disputeProof();
    if (plan) intents.set(key, disputeIntent(r.sender as Address, r.open_block, plan));
  }
  return [...intents.values()];
}

/**
 * Withdrawals for open channels whose newest proof <= C exceeds what was withdrawn by at least
 * `minimum` (and by at least 1). The proof never exceeds the charged total, so unspent credit
 * stays refundable.
 */
export async function collectWithdrawals(env: Env, minimum: bigint): Promise<TxIntent[]> {
  const floor = minimum > 0n ? minimum : 1n;
  const { results } = await env.DB.prepare(
    "SELECT sender, open_block, withdrawable, withdrawn FROM channels WHERE state = 'open' AND withdrawable != withdrawn ORDER BY updated_at LIMIT ?",
  )
    .bind(MAX_CANDIDATES)
    .all<Row & { withdrawable: string; withdrawn: string }>();
  const intents: TxIntent[] = [];
  for (const r of results) {
    if (BigInt(r.withdrawable) - BigInt(r.withdrawn) < floor) continue;
    const proof = await channelStub(env, r.sender as Address, r.open_block).withdrawProof();
    if (!proof || proof.balance - BigInt(r.withdrawn) < floor) continue;
    intents.push({ kind: "withdraw", sender: r.sender as Address, openBlock: r.open_block, balance: proof.balance, balanceSig: proof.signature });
  }
  return intents;
}

/** Settles for closing channels whose settle block is behind `head` (the challenge is over). */
export async function collectSettles(env: Env, head: bigint): Promise<TxIntent[]> {
  const { results } = await env.DB.prepare(
    "SELECT sender, open_block, closing_balance FROM channels WHERE state = 'closing' AND settle_block IS NOT NULL AND settle_block < ? ORDER BY settle_block LIMIT ?",
  )
    .bind(Number(head), MAX_CANDIDATES)
    .all<Row & { closing_balance: string | null }>();
  return results.map((r) => ({ kind: "settle", sender: r.sender as Address, openBlock: r.open_block, balance: BigInt(r.closing_balance ?? "0") }));
}
