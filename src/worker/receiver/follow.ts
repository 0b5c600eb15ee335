// Following the receiver's transactions after they were sent (each `tick`): a pending one is
// marked confirmed or failed from its receipt (or failed when its nonce went to another
// transaction), and a stuck one is replaced with higher fees at the same nonce. A mined one is
// looked at again until FINALITY_DEPTH blocks deep: when a reorg took its block, it is pending
// again and sent again at once.
import type { Hex } from "viem";
import { rpcErrorText } from "../chain.js";
import { broadcast, lacksGas, receiptOrNull, type ReceiverContext } from "./broadcast.js";
import { projectTx } from "./projection.js";
import { bumpFees, viewOf, type TickResult, type TxRecord } from "./txs.js";

/** A pending transaction not mined after this long is replaced with higher fees. */
export const STUCK_AFTER_MS = 120_000;
/** Broadcasts per nonce (the first and its replacements) before an alert asks for a human. */
export const MAX_ATTEMPTS = 6;
/** A mined transaction's receipt is read again each tick until its block is this deep. */
export const FINALITY_DEPTH = 64;
/** Recent mined transactions looked at per tick for that. */
const RECHECK_LIMIT = 100;

/** One tick: re-checks recently mined transactions, then follows every pending one. */
export async function followTxs(ctx: ReceiverContext, stuckAfterMs: number): Promise<TickResult> {
  const result: TickResult = { pending: 0, confirmed: [], failed: [], replaced: [], reorged: [], alert: null };
  await recheckMined(ctx, result);
  const pending = ctx.store.pending();
  if (pending.length === 0) return result;
  // The mined nonce first: a nonce used up without a receipt for any of our hashes (read after)
  // was taken by another transaction.
  const minedNonce = await ctx.client.getTransactionCount({
    address: ctx.config.receiverAddress,
    blockTag: "latest",
  });
  for (const r of pending) await followPending(ctx, r, minedNonce, stuckAfterMs, result);
  return result;
}

/** Saves a changed record and mirrors it to D1 (`superseded`: hashes it no longer goes by). */
async function update(ctx: ReceiverContext, r: TxRecord, superseded: Hex[]): Promise<void> {
  ctx.store.save(r);
  await projectTx(ctx.d1, r, superseded);
}

async function followPending(
  ctx: ReceiverContext,
  r: TxRecord,
  minedNonce: number,
  stuckAfterMs: number,
  result: TickResult,
): Promise<void> {
  const receipts = await Promise.all(r.hashes.map((hash) => receiptOrNull(ctx.client, hash)));
  const receipt = receipts.find((x) => x !== null) ?? null;
  const now = Date.now();
  if (receipt) {
    const previous = r.hashes.filter((h) => h !== receipt.transactionHash);
    r.status = receipt.status === "success" ? "confirmed" : "failed";
    r.minedHash = receipt.transactionHash;
    r.minedBlock = Number(receipt.blockNumber);
    r.minedBlockHash = receipt.blockHash;
    r.error = receipt.status === "success" ? null : "reverted on chain";
    r.updatedAt = now;
    await update(ctx, r, previous);
    (r.status === "confirmed" ? result.confirmed : result.failed).push(viewOf(r));
    return;
  }
  if (minedNonce > r.nonce) {
    r.status = "failed";
    r.error = "its nonce was used by another transaction of the receiver";
    r.updatedAt = now;
    await update(ctx, r, r.hashes.slice(0, -1));
    result.failed.push(viewOf(r));
    return;
  }
  result.pending++;
  if (now - r.sentAt < stuckAfterMs) return;
  if (r.attempts >= MAX_ATTEMPTS) {
    result.alert = ctx.store.raiseAlert(
      `transaction ${r.hashes[r.hashes.length - 1]} (${r.kind}, nonce ${r.nonce}) is still not mined after ${r.attempts} broadcasts`,
    );
    return;
  }
  await replace(ctx, r, now, result);
}

/** Sends a stuck transaction again at its nonce with higher fees (unless gas is lacking). */
async function replace(ctx: ReceiverContext, r: TxRecord, now: number, result: TickResult): Promise<void> {
  const fees = bumpFees(r, await ctx.client.estimateFeesPerGas());
  const lacking = await lacksGas(ctx, r.gas * fees.maxFeePerGas);
  if (lacking) {
    result.alert = lacking;
    return;
  }
  try {
    const { hash } = await broadcast(ctx, { data: r.data, gas: r.gas, ...fees }, r.nonce);
    const previous = [...r.hashes];
    r.hashes = [...r.hashes, hash];
    r.attempts++;
    r.maxFeePerGas = fees.maxFeePerGas;
    r.maxPriorityFeePerGas = fees.maxPriorityFeePerGas;
    r.sentAt = now;
    r.updatedAt = now;
    r.error = null;
    await update(ctx, r, previous);
    result.replaced.push(viewOf(r));
  } catch (err) {
    // Mined meanwhile ("nonce too low") or refused: the next tick sees which.
    r.error = `replacement not sent: ${rpcErrorText(err)}`;
    r.updatedAt = now;
    ctx.store.save(r);
  }
}

/**
 * Reads again the receipt of each transaction mined less than FINALITY_DEPTH blocks ago. One
 * whose receipt is gone (a reorg took its block) is pending again with its send time cleared,
 * so the pending pass sends it again at once (same nonce, higher fees); one mined again in
 * another block takes that block and the receipt's outcome.
 */
async function recheckMined(ctx: ReceiverContext, result: TickResult): Promise<void> {
  const mined = ctx.store.latestDone(RECHECK_LIMIT).filter((r) => r.minedHash && r.minedBlock != null);
  if (mined.length === 0) return;
  const head = Number(await ctx.client.getBlockNumber({ cacheTime: 0 }));
  for (const r of mined) {
    if (r.minedBlock! + FINALITY_DEPTH <= head) continue;
    const receipt = await receiptOrNull(ctx.client, r.minedHash!);
    if (receipt && receipt.blockHash.toLowerCase() === r.minedBlockHash?.toLowerCase()) continue;
    if (receipt) {
      r.minedBlock = Number(receipt.blockNumber);
      r.minedBlockHash = receipt.blockHash;
      r.status = receipt.status === "success" ? "confirmed" : "failed";
    } else {
      r.status = "pending";
      r.minedHash = null;
      r.minedBlock = null;
      r.minedBlockHash = null;
      r.sentAt = 0;
      r.error = "a reorg took the block it was mined in; sending it again";
      result.reorged.push(viewOf(r));
    }
    r.updatedAt = Date.now();
    await update(ctx, r, []);
  }
}
