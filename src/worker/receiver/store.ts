// The ReceiverObject's own storage (its SQLite): each logical transaction as one row, its
// record as JSON with the channel, status and nonce beside it to query by, and the current alert.
// This storage is the truth about the receiver's transactions; D1 only mirrors it (projection.ts).
import { log, LogEvents } from "../log.js";
import type { TxRecord } from "./txs.js";

const encode = (r: TxRecord) => JSON.stringify(r, (_k, v) => (typeof v === "bigint" ? `${v}n` : v));
const decode = (text: string): TxRecord =>
  JSON.parse(text, (_k, v) => (typeof v === "string" && /^[0-9]+n$/.test(v) ? BigInt(v.slice(0, -1)) : v)) as TxRecord;

export class TxStore {
  constructor(private readonly sql: SqlStorage) {}

  /** Creates the tables on the object's first start. */
  init(): void {
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS txs (id INTEGER PRIMARY KEY AUTOINCREMENT, channel TEXT NOT NULL, status TEXT NOT NULL, nonce INTEGER NOT NULL, data TEXT NOT NULL)",
    );
    this.sql.exec("CREATE INDEX IF NOT EXISTS txs_channel ON txs (channel)");
    this.sql.exec("CREATE INDEX IF NOT EXISTS txs_status ON txs (status)");
    this.sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  }

  /** A channel's transactions that did not fail, newest first. */
  liveForChannel(channel: string): TxRecord[] {
    return this.records("SELECT data FROM txs WHERE channel = ? AND status != 'failed' ORDER BY id DESC", channel);
  }

  /** The pending transactions, by nonce. */
  pending(): TxRecord[] {
    return this.records("SELECT data FROM txs WHERE status = 'pending' ORDER BY nonce");
  }

  /** The latest `limit` transactions, newest first. */
  latest(limit: number): TxRecord[] {
    return this.records("SELECT data FROM txs ORDER BY id DESC LIMIT ?", limit);
  }

  /** The latest `limit` transactions that are no longer pending, newest first. */
  latestDone(limit: number): TxRecord[] {
    return this.records("SELECT data FROM txs WHERE status != 'pending' ORDER BY id DESC LIMIT ?", limit);
  }

  /** The highest nonce among pending transactions, or null. */
  maxPendingNonce(): number | null {
    return this.sql.exec<{ n: number | null }>("SELECT MAX(nonce) AS n FROM txs WHERE status = 'pending'").one().n;
  }

  /** Stores a new pending transaction of `channel` and sets its `id`. */
  insert(channel: string, r: TxRecord): void {
    r.id = this.sql
      .exec<{ id: number }>(
        "INSERT INTO txs (channel, status, nonce, data) VALUES (?, 'pending', ?, ?) RETURNING id",
        channel,
        r.nonce,
        encode(r),
      )
      .one().id;
    this.save(r);
  }

  save(r: TxRecord): void {
    this.sql.exec("UPDATE txs SET status = ?, data = ? WHERE id = ?", r.status, encode(r), r.id);
  }

  /** The current alert and when it was raised (ms), or null. */
  alert(): { text: string; at: number } | null {
    const text = this.meta("alert");
    return text === null ? null : { text, at: Number(this.meta("alert_at")) };
  }

  /** Records (and logs) an alert for a human; returns its text. */
  raiseAlert(text: string): string {
    log.error(LogEvents.receiverAlert, { alert: text });
    this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('alert', ?)", text);
    this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('alert_at', ?)", String(Date.now()));
    return text;
  }

  clearAlert(): void {
    this.sql.exec("DELETE FROM meta WHERE key IN ('alert', 'alert_at')");
  }

  private records(query: string, ...bindings: unknown[]): TxRecord[] {
    return this.sql
      .exec<{ data: string }>(query, ...bindings)
      .toArray()
      .map((r) => decode(r.data));
  }

  private meta(key: string): string | null {
    return this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value ?? null;
  }
}
