// The receiver's transactions as D1 `receiver_txs` rows for the admin views: one row per
// broadcast hash. Best effort: the object's own record is the truth, and the next status change
// writes the rows again.
import { drizzle } from "drizzle-orm/d1";
import type { Hex } from "viem";
import { receiverTxs } from "../db/schema.js";
import { errorText, log, LogEvents } from "../log.js";
import type { TxRecord } from "./txs.js";

type RowStatus = (typeof receiverTxs.$inferInsert)["status"];

/** Writes the current hash with the record's status, and each of `superseded` as replaced (or
 *  failed, when the nonce went to another transaction). */
export async function projectTx(d1: D1Database, r: TxRecord, superseded: Hex[]): Promise<void> {
  const db = drizzle(d1);
  const current = r.minedHash ?? r.hashes[r.hashes.length - 1]!;
  const row = (hash: Hex, status: RowStatus) => ({
    hash,
    kind: r.kind,
    sender: r.sender.toLowerCase(),
    openBlock: r.openBlock,
    amount: r.amount.toString(),
    nonce: r.nonce,
    status,
    attempts: r.attempts,
    error: r.error,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  });
  const head = row(current, r.status);
  const earlier = r.status === "failed" && !r.minedHash ? "failed" : "replaced";
  const statements = [
    db
      .insert(receiverTxs)
      .values(head)
      .onConflictDoUpdate({
        target: receiverTxs.hash,
        set: { status: head.status, attempts: head.attempts, error: head.error, updatedAt: head.updatedAt },
      }),
    // Earlier broadcasts keep their own attempt number; only their fate changes.
    ...superseded
      .filter((h) => h !== current)
      .map((h, i) => {
        const x = { ...row(h, earlier), attempts: i + 1 };
        return db
          .insert(receiverTxs)
          .values(x)
          .onConflictDoUpdate({ target: receiverTxs.hash, set: { status: x.status, updatedAt: x.updatedAt } });
      }),
  ];
  try {
    await db.batch([statements[0]!, ...statements.slice(1)]);
  } catch (err) {
    log.error(LogEvents.receiverTxsWriteFailed, { error: errorText(err) });
  }
}
