// Which receiver transactions the paywall owes itself now, as intents for the ReceiverObject:
// disputes of cheating closes and settles of honest ones whose challenge has ended (both from
// the dispute queue the sync writes, see queue.ts, judged against the chain as it is now), and
// withdrawals of every channel whose withdrawable-but-not-withdrawn amount reaches a minimum
// (candidates from the D1 projection, every shard of it). Each channel's object has the final
// word and the proof.
import { and, eq, ne } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { Address, PublicClient } from "viem";
import { readChannelInfo } from "../chain.js";
import type { DisputePlan } from "../channel/events.js";
import { channelStub } from "../channel/stub.js";
import type { Config } from "../config.js";
import { channels } from "../db/schema.js";
import type { Env } from "../env.js";
import { eachShard, firstBy } from "../projection/shards.js";
import type { TxIntent } from "../receiver/txs.js";
import { dueCloses, markClose, settleableCloses } from "./queue.js";

/** Candidates read per pass; the rest wait for the next run. */
export const MAX_CANDIDATES = 200;

const disputeIntent = (sender: Address, openBlock: number, plan: DisputePlan): TxIntent => ({
  kind: "dispute",
  sender,
  openBlock,
  balance: plan.proof.balance,
  balanceSig: plan.proof.signature,
});

/** A dispute intent and the queue row it answers. */
export type QueuedDispute = { intent: TxIntent; rowId: string };

/**
 * Drains the dispute queue once: each due close is read on chain (one getChannelInfo at the
 * confirmed block `confirmed`, the sync's view; a reorg the sync undoes re-opens the row, see
 * sync/reorg.ts). Settled: `done`. No longer closing (a reorg took the close): `moot`. Otherwise
 * the channel's object picks the highest proof the contract will take above the claim
 * (events.ts `disputePlan`): a dispute, and the row stays `pending` until the chain shows the
 * channel settled; no such proof: `honest`, settled once its challenge is over (collectSettles).
 */
export async function collectDisputes(
  env: Env,
  config: Pick<Config, "contract" | "receiverAddress">,
  client: PublicClient,
  head: bigint,
  confirmed: bigint = head,
): Promise<QueuedDispute[]> {
  const rows = await dueCloses(env.DB, head);
  // One batched JSON-RPC request for every row's channel.
  const chain = await Promise.all(rows.map((r) => readChannelInfo(client, config, r.sender, r.openBlock, confirmed)));
  const out: QueuedDispute[] = [];
  const db = drizzle(env.DB);
  const marks: ReturnType<typeof markClose>[] = [];
  const now = Date.now();
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const onChain = chain[i]!;
    if (!onChain || onChain.settleBlock === 0) {
      marks.push(markClose(db, row.id, { status: onChain ? "moot" : "done", now }));
      continue;
    }
    const plan = await channelStub(env, row.sender, row.openBlock).disputeProof(onChain);
    const facts = { closingBalance: onChain.closingBalance, settleBlock: onChain.settleBlock, now };
    if (!plan) marks.push(markClose(db, row.id, { status: "honest", ...facts }));
    else {
      if (row.closingBalance !== onChain.closingBalance || row.settleBlock !== onChain.settleBlock)
        marks.push(markClose(db, row.id, { status: "pending", ...facts }));
      out.push({ intent: disputeIntent(row.sender, row.openBlock, plan), rowId: row.id });
    }
  }
  const [first, ...rest] = marks;
  if (first) await db.batch([first, ...rest]);
  return out;
}

/**
 * Withdrawals for open channels whose newest proof <= C exceeds what was withdrawn by at least
 * `minimum` (and by at least 1). The proof never exceeds the charged total, so unspent credit
 * stays refundable.
 */
export async function collectWithdrawals(env: Env, minimum: bigint): Promise<TxIntent[]> {
  const floor = minimum > 0n ? minimum : 1n;
  // The longest-unchanged candidates of every projection shard, merged: those of one query.
  const answers = await eachShard(env, (db) =>
    db
      .select({
        id: channels.id,
        version: channels.version,
        sender: channels.sender,
        openBlock: channels.openBlock,
        withdrawable: channels.withdrawable,
        withdrawn: channels.withdrawn,
        updatedAt: channels.updatedAt,
      })
      .from(channels)
      .where(and(eq(channels.state, "open"), ne(channels.withdrawable, channels.withdrawn)))
      .orderBy(channels.updatedAt)
      .limit(MAX_CANDIDATES),
  );
  const results = firstBy(answers, (r) => r.updatedAt, MAX_CANDIDATES);
  const intents: TxIntent[] = [];
  for (const r of results) {
    if (BigInt(r.withdrawable) - BigInt(r.withdrawn) < floor) continue;
    const sender = r.sender as Address;
    const proof = await channelStub(env, sender, r.openBlock).withdrawProof();
    if (!proof || proof.balance - BigInt(r.withdrawn) < floor) continue;
    intents.push({
      kind: "withdraw",
      sender,
      openBlock: r.openBlock,
      balance: proof.balance,
      balanceSig: proof.signature,
    });
  }
  return intents;
}

/** Settles for honest closes in the dispute queue whose settle block is behind `head`. */
export async function collectSettles(env: Env, head: bigint): Promise<TxIntent[]> {
  const rows = await settleableCloses(env.DB, head);
  return rows.map((r) => ({ kind: "settle", sender: r.sender, openBlock: r.openBlock, balance: r.closingBalance }));
}
