// The D1 schema (drizzle): the operator's queryable projection of the paywall, and the sync's own
// state. Every D1 query goes through these tables, so a renamed column fails to compile. Amounts
// are decimal strings: uint192 does not fit SQLite's 64-bit integers.
import { index, integer, primaryKey, real, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** One row per channel, written only by that channel's ChannelObject (write-behind). `version`
 *  is the object's change counter, so a late write never overwrites a newer one. */
export const channels = sqliteTable(
  "channels",
  {
    id: text("id").primaryKey(), // channelId(sender, openBlock), protocol/channel-key.ts
    sender: text("sender").notNull(),
    openBlock: integer("open_block").notNull(),
    state: text("state", { enum: ["open", "closing", "settled", "removed"] }).notNull(),
    deposit: text("deposit").notNull(),
    balance: text("balance").notNull(), // B: last accepted cumulative balance
    charged: text("charged").notNull(), // C: charged total, C <= B
    withdrawn: text("withdrawn").notNull(),
    withdrawable: text("withdrawable").notNull(), // balance of the newest proof <= C
    closingBalance: text("closing_balance"),
    settleBlock: integer("settle_block"),
    closeRequested: integer("close_requested", { mode: "boolean" }).notNull().default(false),
    payments: integer("payments").notNull().default(0),
    lastPaymentAt: integer("last_payment_at"), // ms; null before the first payment
    // The block of the object's last chain read (look-up, deposit re-read) that the sync has not
    // yet checked against the chain it synced; null once checked (see sync/orphans.ts).
    chainReadBlock: integer("chain_read_block"),
    version: integer("version").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("channels_state").on(t.state), index("channels_sender").on(t.sender)],
);

/** The chain sync's one row: its cursor (last applied block and hash), lease and health. */
export const syncState = sqliteTable("sync_state", {
  id: text("id").primaryKey(), // one row: "main"
  blockNumber: integer("block_number").notNull(),
  blockHash: text("block_hash").notNull(),
  // Set when a run stopped inside block `block_number`: its events up to this log index are
  // applied, the rest of the block is not (null: the whole block is done).
  logIndex: integer("log_index"),
  headBlock: integer("head_block"),
  eventsApplied: integer("events_applied").notNull().default(0),
  reorgs: integer("reorgs").notNull().default(0),
  lastRunAt: integer("last_run_at"),
  lastError: text("last_error"),
  lastErrorAt: integer("last_error_at"),
  lockUntil: integer("lock_until"),
});

/** Block hashes the sync passed (each chunk's last block), newest kept: where a reorg's walk
 *  back finds the common ancestor without rescanning from the last event. */
export const syncCheckpoints = sqliteTable("sync_checkpoints", {
  blockNumber: integer("block_number").primaryKey(),
  blockHash: text("block_hash").notNull(),
});

/** Every contract event the sync applied, keyed by block hash and log index, so a reorg can
 *  find and undo what the removed blocks taught. */
export const chainEvents = sqliteTable(
  "chain_events",
  {
    blockNumber: integer("block_number").notNull(),
    blockHash: text("block_hash").notNull(),
    logIndex: integer("log_index").notNull(),
    txHash: text("tx_hash").notNull(),
    name: text("name").notNull(),
    sender: text("sender").notNull(),
    openBlock: integer("open_block").notNull(),
    args: text("args").notNull(), // JSON, amounts as decimal strings
  },
  (t) => [
    primaryKey({ columns: [t.blockHash, t.logIndex] }),
    index("chain_events_block").on(t.blockNumber),
    index("chain_events_channel").on(t.sender, t.openBlock),
  ],
);

/** The receiver's transactions (withdraw, dispute, close, settle), one row per broadcast hash,
 *  mirrored from the ReceiverObject for the admin views. */
export const receiverTxs = sqliteTable(
  "receiver_txs",
  {
    hash: text("hash").primaryKey(),
    kind: text("kind", { enum: ["withdraw", "dispute", "close", "settle"] }).notNull(),
    sender: text("sender").notNull(),
    openBlock: integer("open_block").notNull(),
    amount: text("amount").notNull(),
    nonce: integer("nonce").notNull(),
    status: text("status", { enum: ["pending", "confirmed", "failed", "replaced"] }).notNull(),
    attempts: integer("attempts").notNull().default(1),
    error: text("error"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("receiver_txs_channel").on(t.sender, t.openBlock), index("receiver_txs_status").on(t.status)],
);

/** Every close request the sync saw, written in the same batch as its event and drained by the
 *  settlement step, so disputes never depend on the `channels` projection. `status`: `pending` (the
 *  challenge runs: look again each run, dispute if a held proof beats the claim), `honest` (no
 *  proof beats it: wait for the settle block, then settle), `done` (the channel is settled on
 *  chain), `moot` (the close is no longer on chain, e.g. a reorg took it). */
export const disputeQueue = sqliteTable(
  "dispute_queue",
  {
    id: text("id").primaryKey(), // channelId(sender, openBlock), protocol/channel-key.ts
    sender: text("sender").notNull(),
    openBlock: integer("open_block").notNull(),
    closingBalance: text("closing_balance").notNull(),
    settleBlock: integer("settle_block").notNull(),
    closeBlock: integer("close_block").notNull(),
    status: text("status", { enum: ["pending", "honest", "done", "moot"] }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("dispute_queue_status").on(t.status, t.settleBlock)],
);

/** The projection consumer's own record, one row per minute (unix minute): how many queue
 *  batches, messages and rows it wrote, and how stale the rows were when D1 took them (from the
 *  object's decision to the D1 commit: the sum, the maximum and a histogram by upper bound in
 *  ms). Kept for a day. */
export const projectionStats = sqliteTable("projection_stats", {
  minute: integer("minute").primaryKey(),
  batches: integer("batches").notNull().default(0),
  messages: integer("messages").notNull().default(0),
  rows: integer("rows").notNull().default(0),
  statements: integer("statements").notNull().default(0),
  lagSumMs: integer("lag_sum_ms").notNull().default(0),
  lagMaxMs: integer("lag_max_ms").notNull().default(0),
  lagLe250: integer("lag_le_250").notNull().default(0),
  lagLe500: integer("lag_le_500").notNull().default(0),
  lagLe1000: integer("lag_le_1000").notNull().default(0),
  lagLe2000: integer("lag_le_2000").notNull().default(0),
  lagLe5000: integer("lag_le_5000").notNull().default(0),
  lagLe10000: integer("lag_le_10000").notNull().default(0),
  lagLe30000: integer("lag_le_30000").notNull().default(0),
  lagOver: integer("lag_over").notNull().default(0),
});

/** Per-minute traffic counters when Workers Analytics Engine is not configured (local runs, the
 *  tests): paid requests and their earnings (a double: a chart, not an account), and refusals by
 *  their protocol code. Written from a per-isolate buffer, never a row per request. Kept a day. */
export const trafficMinutes = sqliteTable(
  "traffic_minutes",
  {
    minute: integer("minute").notNull(), // unix minute
    kind: text("kind", { enum: ["paid", "refused"] }).notNull(),
    code: text("code").notNull(), // the refusal's code; "" for paid
    requests: integer("requests").notNull().default(0),
    earnings: real("earnings").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.minute, t.kind, t.code] })],
);
