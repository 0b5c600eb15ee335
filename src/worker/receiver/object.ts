// ReceiverObject: the one place that sends the receiver's transactions (a singleton Durable
// Object per receiver address), so two cron runs or an admin action and a cron run can never
// pick the same nonce. Every call runs through one queue inside the object. For each intent
// (withdraw, dispute, close, settle; see txs.ts) it skips what a transaction in flight or done
// already covers, estimates gas (a transaction that would revert is not sent), prices it by
// EIP-1559, checks the receiver can pay for the gas (else an alert), takes the next nonce,
// signs with RECEIVER_PRIVATE_KEY and broadcasts. `tick()` follows every pending transaction to
// its receipt, marks it confirmed or failed, and replaces a stuck one with higher fees at the
// same nonce; it also reads again the receipts of transactions mined less than FINALITY_DEPTH
// blocks ago, and puts one whose block a reorg took back to pending, to be sent again. The object keeps each logical transaction (one nonce, all its hashes) in its own
// storage and writes one row per broadcast hash to D1 `receiver_txs` for the admin views.
import { DurableObject } from "cloudflare:workers";
import { BaseError, decodeErrorResult, keccak256, type Address, type Hex } from "viem";
import { drizzle } from "drizzle-orm/d1";
import { microTransferChannelsAbi } from "../../protocol/abi.js";
import { channelId } from "../../protocol/channel-key.js";
import { closingProofTypedData } from "../../protocol/eip712.js";
import { publicClient, rpcErrorText } from "../chain.js";
import { getConfig, type Config } from "../config.js";
import type { Env } from "../env.js";
import { receiverTxs } from "../db/schema.js";
import {
  bumpFees,
  coveredBy,
  gasWithMargin,
  intentCalldata,
  isNonceError,
  type Fees,
  type TxIntent,
  type TxRecord,
  type TxStatus,
} from "./txs.js";

/** A pending transaction not mined after this long is replaced with higher fees. */
export const STUCK_AFTER_MS = 120_000;
/** Broadcasts per nonce (the first and its replacements) before an alert asks for a human. */
export const MAX_ATTEMPTS = 6;
/** A mined transaction's receipt is read again each tick until its block is this deep. */
export const FINALITY_DEPTH = 64;
/** Recent mined transactions looked at per tick for that. */
const RECHECK_LIMIT = 100;

/** A transaction as the admin API and the sync report it. */
export type TxView = {
  hash: Hex;
  hashes: Hex[];
  kind: TxIntent["kind"];
  sender: Address;
  openBlock: number;
  amount: string;
  nonce: number;
  status: TxStatus;
  attempts: number;
  error: string | null;
};

export type IntentOutcome =
  | { intent: TxIntent; result: "sent"; tx: TxView }
  | { intent: TxIntent; result: "covered"; tx: TxView }
  | { intent: TxIntent; result: "refused"; reason: string; alert?: boolean };

export type SubmitResult = { outcomes: IntentOutcome[]; alert: string | null };
/** `reorged`: mined transactions whose block a reorg took; they are pending again. */
export type TickResult = {
  pending: number;
  confirmed: TxView[];
  failed: TxView[];
  replaced: TxView[];
  reorged: TxView[];
  alert: string | null;
};
export type SubmitOptions = { fees?: Fees };
export type TickOptions = { stuckAfterMs?: number };

export function viewOf(r: TxRecord): TxView {
  return {
    hash: r.minedHash ?? r.hashes[r.hashes.length - 1]!,
    hashes: r.hashes,
    kind: r.kind,
    sender: r.sender,
    openBlock: r.openBlock,
    amount: r.amount.toString(),
    nonce: r.nonce,
    status: r.status,
    attempts: r.attempts,
    error: r.error,
  };
}

const encode = (r: TxRecord) => JSON.stringify(r, (_k, v) => (typeof v === "bigint" ? `${v}n` : v));
const decode = (text: string): TxRecord =>
  JSON.parse(text, (_k, v) => (typeof v === "string" && /^[0-9]+n$/.test(v) ? BigInt(v.slice(0, -1)) : v)) as TxRecord;

/** The short reason a call would revert: the contract's custom error name when it has one. */
export function revertReason(err: unknown): string {
  if (err instanceof BaseError) {
    const withData = err.walk(
      (e) => typeof (e as { data?: unknown }).data === "string" && /^0x[0-9a-f]{8}/i.test((e as { data: string }).data),
    );
    const data = (withData as { data?: Hex } | null)?.data;
    if (data) {
      try {
        return `reverts: ${decodeErrorResult({ abi: microTransferChannelsAbi, data }).errorName}`;
      } catch {
        // not one of the contract's errors
      }
    }
  }
  return rpcErrorText(err);
}

export class ReceiverObject extends DurableObject<Env> {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      ctx.storage.sql.exec(
        "CREATE TABLE IF NOT EXISTS txs (id INTEGER PRIMARY KEY AUTOINCREMENT, channel TEXT NOT NULL, status TEXT NOT NULL, nonce INTEGER NOT NULL, data TEXT NOT NULL)",
      );
      ctx.storage.sql.exec("CREATE INDEX IF NOT EXISTS txs_channel ON txs (channel)");
      ctx.storage.sql.exec("CREATE INDEX IF NOT EXISTS txs_status ON txs (status)");
      ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    });
  }

  /** Sends what each intent asks unless a transaction already covers it (see txs.ts). */
  submit(intents: TxIntent[], opts: SubmitOptions = {}): Promise<SubmitResult> {
    return this.serial(async () => {
      const outcomes: IntentOutcome[] = [];
      let alert: string | null = null;
      for (const intent of intents) {
        const outcome = await this.sendIntent(intent, opts);
        if (outcome.result === "refused" && outcome.alert) alert = outcome.reason;
        outcomes.push(outcome);
      }
      return { outcomes, alert };
    });
  }

  /** Follows pending transactions: receipts, failures, replacement of stuck ones. */
  tick(opts: TickOptions = {}): Promise<TickResult> {
    return this.serial(() => this.follow(opts.stuckAfterMs ?? STUCK_AFTER_MS));
  }

  /** The admin view: the receiver, its current alert, and the latest transactions. */
  async status(limit = 50): Promise<{ address: Address; alert: string | null; alertAt: number | null; txs: TxView[] }> {
    const config = getConfig(this.env);
    const rows = this.ctx.storage.sql
      .exec<{ data: string }>("SELECT data FROM txs ORDER BY id DESC LIMIT ?", limit)
      .toArray();
    const alert = this.meta("alert");
    return {
      address: config.receiverAddress,
      alert,
      alertAt: alert ? Number(this.meta("alert_at")) : null,
      txs: rows.map((r) => viewOf(decode(r.data))),
    };
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async sendIntent(intent: TxIntent, opts: SubmitOptions): Promise<IntentOutcome> {
    const config = getConfig(this.env);
    const key = channelId(intent.sender, intent.openBlock);
    const existing = this.ctx.storage.sql
      .exec<{ data: string }>("SELECT data FROM txs WHERE channel = ? AND status != 'failed' ORDER BY id DESC", key)
      .toArray()
      .map((r) => decode(r.data));
    const covered = coveredBy(existing, intent);
    if (covered) return { intent, result: "covered", tx: viewOf(covered) };

    const client = publicClient(config);
    try {
      const closingSig =
        intent.kind === "dispute" || intent.kind === "close"
          ? await config.receiver.signTypedData(
              closingProofTypedData({
                chainId: config.chainId,
                contract: config.contract,
                sender: intent.sender,
                openBlock: intent.openBlock,
                balance: intent.balance,
              }),
            )
          : undefined;
      const data = intentCalldata(intent, config.receiverAddress, closingSig);
      let gas: bigint;
      try {
        gas = gasWithMargin(await client.estimateGas({ account: config.receiverAddress, to: config.contract, data }));
      } catch (err) {
        return { intent, result: "refused", reason: revertReason(err) };
      }
      const fees = opts.fees ?? (await client.estimateFeesPerGas());
      const lacking = await this.lacksGas(config, gas * fees.maxFeePerGas);
      if (lacking) return { intent, result: "refused", reason: lacking, alert: true };
      const now = Date.now();
      const { hash, nonce } = await this.broadcast(config, { data, gas, ...fees });
      const record: TxRecord = {
        id: 0,
        kind: intent.kind,
        sender: intent.sender,
        openBlock: intent.openBlock,
        amount: intent.balance,
        nonce,
        status: "pending",
        hashes: [hash],
        minedHash: null,
        attempts: 1,
        gas,
        maxFeePerGas: fees.maxFeePerGas,
        maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
        data,
        error: null,
        sentAt: now,
        createdAt: now,
        updatedAt: now,
      };
      const id = this.ctx.storage.sql
        .exec<{ id: number }>(
          "INSERT INTO txs (channel, status, nonce, data) VALUES (?, 'pending', ?, ?) RETURNING id",
          key,
          nonce,
          encode(record),
        )
        .one().id;
      record.id = id;
      this.save(record);
      this.clearAlert();
      await this.project(record, []);
      return { intent, result: "sent", tx: viewOf(record) };
    } catch (err) {
      return { intent, result: "refused", reason: rpcErrorText(err) };
    }
  }

  /** Signs and broadcasts at the next free nonce, refreshing it when the node says it is taken. */
  private async broadcast(
    config: Config,
    tx: { data: Hex; gas: bigint } & Fees,
    fixedNonce?: number,
  ): Promise<{ hash: Hex; nonce: number }> {
    const client = publicClient(config);
    let nonce = fixedNonce ?? (await this.nextNonce(config));
    for (let attempt = 0; ; attempt++) {
      const serializedTransaction = await config.receiver.signTransaction({
        type: "eip1559",
        chainId: config.chainId,
        to: config.contract,
        nonce,
        ...tx,
      });
      try {
        return { hash: await client.sendRawTransaction({ serializedTransaction }), nonce };
      } catch (err) {
        const message = rpcErrorText(err);
        if (/already known|known transaction/i.test(message)) return { hash: keccak256(serializedTransaction), nonce };
        if (fixedNonce !== undefined || attempt >= 3 || !isNonceError(message)) throw err;
        nonce = Math.max(nonce + 1, await this.nextNonce(config));
      }
    }
  }

  /** The node's pending nonce, or past our own pending transactions if the node lags behind. */
  private async nextNonce(config: Config): Promise<number> {
    const fromChain = await publicClient(config).getTransactionCount({
      address: config.receiverAddress,
      blockTag: "pending",
    });
    const ours = this.ctx.storage.sql
      .exec<{ n: number | null }>("SELECT MAX(nonce) AS n FROM txs WHERE status = 'pending'")
      .one().n;
    return Math.max(fromChain, ours === null ? 0 : ours + 1);
  }

  /** An alert text when the receiver cannot pay `cost` wei of gas, else null. */
  private async lacksGas(config: Config, cost: bigint): Promise<string | null> {
    const balance = await publicClient(config).getBalance({ address: config.receiverAddress });
    if (balance >= cost) return null;
    const text = `receiver ${config.receiverAddress} lacks gas: has ${balance} wei, needs ${cost} wei; fund it to keep disputes and withdrawals going`;
    this.raiseAlert(text);
    return text;
  }

  private async follow(stuckAfterMs: number): Promise<TickResult> {
    const config = getConfig(this.env);
    const client = publicClient(config);
    const result: TickResult = { pending: 0, confirmed: [], failed: [], replaced: [], reorged: [], alert: null };
    await this.recheckMined(client, result);
    const pending = this.ctx.storage.sql
      .exec<{ data: string }>("SELECT data FROM txs WHERE status = 'pending' ORDER BY nonce")
      .toArray()
      .map((r) => decode(r.data));
    if (pending.length === 0) return result;
    // The mined nonce first: a nonce used up without a receipt for any of our hashes (read after)
    // was taken by another transaction.
    const minedNonce = await client.getTransactionCount({ address: config.receiverAddress, blockTag: "latest" });
    for (const r of pending) {
      const receipts = await Promise.all(
        r.hashes.map((hash) =>
          client
            .getTransactionReceipt({ hash })
            .catch((err: unknown) =>
              err instanceof BaseError && err.name === "TransactionReceiptNotFoundError" ? null : Promise.reject(err),
            ),
        ),
      );
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
        this.save(r);
        await this.project(r, previous);
        (r.status === "confirmed" ? result.confirmed : result.failed).push(viewOf(r));
        continue;
      }
      if (minedNonce > r.nonce) {
        r.status = "failed";
        r.error = "its nonce was used by another transaction of the receiver";
        r.updatedAt = now;
        this.save(r);
        await this.project(r, r.hashes.slice(0, -1));
        result.failed.push(viewOf(r));
        continue;
      }
      if (now - r.sentAt < stuckAfterMs) {
        result.pending++;
        continue;
      }
      if (r.attempts >= MAX_ATTEMPTS) {
        result.alert = this.raiseAlert(
          `transaction ${r.hashes[r.hashes.length - 1]} (${r.kind}, nonce ${r.nonce}) is still not mined after ${r.attempts} broadcasts`,
        );
        result.pending++;
        continue;
      }
      const fees = bumpFees(r, await client.estimateFeesPerGas());
      const lacking = await this.lacksGas(config, r.gas * fees.maxFeePerGas);
      if (lacking) {
        result.alert = lacking;
        result.pending++;
        continue;
      }
      try {
        const { hash } = await this.broadcast(config, { data: r.data, gas: r.gas, ...fees }, r.nonce);
        const previous = [...r.hashes];
        r.hashes = [...r.hashes, hash];
        r.attempts++;
        r.maxFeePerGas = fees.maxFeePerGas;
        r.maxPriorityFeePerGas = fees.maxPriorityFeePerGas;
        r.sentAt = now;
        r.updatedAt = now;
        r.error = null;
        this.save(r);
        await this.project(r, previous);
        result.replaced.push(viewOf(r));
      } catch (err) {
        // Mined meanwhile ("nonce too low") or refused: the next tick sees which.
        r.error = `replacement not sent: ${rpcErrorText(err)}`;
        r.updatedAt = now;
        this.save(r);
      }
      result.pending++;
    }
    return result;
  }

  /**
   * Reads again the receipt of each transaction mined less than FINALITY_DEPTH blocks ago. One
   * whose receipt is gone (a reorg took its block) is pending again with its send time cleared,
   * so the pending pass below sends it again at once (same nonce, higher fees); one mined again
   * in another block takes that block and the receipt's outcome.
   */
  private async recheckMined(client: ReturnType<typeof publicClient>, result: TickResult): Promise<void> {
    const mined = this.ctx.storage.sql
      .exec<{ data: string }>("SELECT data FROM txs WHERE status != 'pending' ORDER BY id DESC LIMIT ?", RECHECK_LIMIT)
      .toArray()
      .map((r) => decode(r.data))
      .filter((r) => r.minedHash && r.minedBlock != null);
    if (mined.length === 0) return;
    const head = Number(await client.getBlockNumber({ cacheTime: 0 }));
    for (const r of mined) {
      if (r.minedBlock! + FINALITY_DEPTH <= head) continue;
      const receipt = await client
        .getTransactionReceipt({ hash: r.minedHash! })
        .catch((err: unknown) =>
          err instanceof BaseError && err.name === "TransactionReceiptNotFoundError" ? null : Promise.reject(err),
        );
      if (receipt && receipt.blockHash.toLowerCase() === r.minedBlockHash?.toLowerCase()) continue;
      const now = Date.now();
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
      r.updatedAt = now;
      this.save(r);
      await this.project(r, []);
    }
  }

  private save(r: TxRecord): void {
    this.ctx.storage.sql.exec("UPDATE txs SET status = ?, data = ? WHERE id = ?", r.status, encode(r), r.id);
  }

  /** Writes the D1 rows (best effort): the current hash with the record's status, `superseded`
   *  as replaced. */
  private async project(r: TxRecord, superseded: Hex[]): Promise<void> {
    const db = drizzle(this.env.DB);
    const current = r.minedHash ?? r.hashes[r.hashes.length - 1]!;
    const row = (hash: Hex, status: "pending" | "confirmed" | "failed" | "replaced") => ({
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
          const x = { ...row(h, r.status === "failed" && !r.minedHash ? "failed" : "replaced"), attempts: i + 1 };
          return db
            .insert(receiverTxs)
            .values(x)
            .onConflictDoUpdate({ target: receiverTxs.hash, set: { status: x.status, updatedAt: x.updatedAt } });
        }),
    ];
    try {
      await db.batch(statements as [(typeof statements)[number], ...(typeof statements)[number][]]);
    } catch (err) {
      // The object's own record is the truth; the next status change writes the rows again.
      console.error("edge402 receiver: could not write receiver_txs", err);
    }
  }

  private meta(key: string): string | null {
    return (
      this.ctx.storage.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value ??
      null
    );
  }

  private raiseAlert(text: string): string {
    console.error(`edge402 receiver alert: ${text}`);
    this.ctx.storage.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('alert', ?)", text);
    this.ctx.storage.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('alert_at', ?)", String(Date.now()));
    return text;
  }

  private clearAlert(): void {
    this.ctx.storage.sql.exec("DELETE FROM meta WHERE key IN ('alert', 'alert_at')");
  }
}
