// The contract events a channel's object has applied (its `chain_events` table), so each is
// applied once. Changes are staged in memory and written by the object's next state write
// (`flush` inside group-commit's write), so an event remembered as applied and the state it
// changed always reach storage in the same commit: a crash can never keep one without the other
// (the sync would then skip the resent event for good). Reads see the staged changes.
import type { AppliedEvent, ChainEventName } from "./events.js";

type Change = { add: AppliedEvent } | { remove: string };
type Row = { id: string; name: string; block_number: number; log_index: number; amount: string };

export class EventHistory {
  private staged: Change[] = [];
  private created = false;

  constructor(private readonly sql: SqlStorage) {}

  /** Every applied event, in chain order, staged changes included. */
  read(): AppliedEvent[] {
    this.ensureTable();
    const events = this.sql
      .exec<Row>("SELECT id, name, block_number, log_index, amount FROM chain_events ORDER BY block_number, log_index")
      .toArray()
      .map((r) => ({
        id: r.id,
        name: r.name as ChainEventName,
        blockNumber: r.block_number,
        logIndex: r.log_index,
        amount: BigInt(r.amount),
      }));
    if (this.staged.length === 0) return events;
    const byId = new Map(events.map((e) => [e.id, e]));
    for (const c of this.staged) {
      if ("add" in c) {
        if (!byId.has(c.add.id)) byId.set(c.add.id, c.add);
      } else byId.delete(c.remove);
    }
    return [...byId.values()].sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
  }

  /** Stages `added` and the removal of `removedIds` for the next write. */
  stage(added: readonly AppliedEvent[], removedIds: readonly string[]): void {
    for (const add of added) this.staged.push({ add });
    for (const remove of removedIds) this.staged.push({ remove });
  }

  /** Writes the staged changes (synchronous SQL: called inside the state's write). */
  flush(): void {
    if (this.staged.length === 0) return;
    this.ensureTable();
    for (const c of this.staged) {
      if ("remove" in c) this.sql.exec("DELETE FROM chain_events WHERE id = ?", c.remove);
      else
        this.sql.exec(
          "INSERT OR IGNORE INTO chain_events (id, name, block_number, log_index, amount) VALUES (?, ?, ?, ?, ?)",
          c.add.id,
          c.add.name,
          c.add.blockNumber,
          c.add.logIndex,
          c.add.amount.toString(),
        );
    }
    this.staged = [];
  }

  private ensureTable(): void {
    if (this.created) return;
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS chain_events (id TEXT PRIMARY KEY, name TEXT NOT NULL, block_number INTEGER NOT NULL, log_index INTEGER NOT NULL, amount TEXT NOT NULL)",
    );
    this.created = true;
  }
}
