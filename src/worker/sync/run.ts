// One run of the chain sync, what the cron's scheduled() does (and POST /api/1/admin/sync):
//
// 1. take the lease in D1 `sync_state` (another run holding it: this one does nothing);
// 2. read the head; the confirmed head is head - MIN_CONFIRMATIONS + 1;
// 3. if the cursor's block hash is no longer on the chain, walk back to the common ancestor and
//    undo what the removed blocks taught (reorg.ts);
// 4. read forward from the cursor to the confirmed head in chunks of SYNC_CHUNK_BLOCKS, at most
//    SYNC_MAX_CHUNKS (and about MAX_OBJECT_CALLS_PER_RUN channel-object calls) per run (each chunk: one batched request for the logs and the last block's
//    hash), store each event in `chain_events` (INSERT OR IGNORE on (block_hash, log_index)),
//    hand each channel's events to its object (which applies each once, by id), rewind any
//    channel the paywall learned in that range that the chain never created (orphans.ts), then
//    move the cursor, conditional on still holding the lease;
// 5. settle: dispute cheating closes, withdraw earnings over WITHDRAW_THRESHOLD, follow the
//    receiver's pending transactions (settlement/run.ts);
// 6. record the run (error or alert, head) and release the lease.
//
// It never throws: a node error, a timeout or a reorg mid-run is recorded in sync_state and the
// next run resumes from the cursor. Running twice, or concurrently, changes nothing the second
// time. The report counts the run's JSON-RPC HTTP requests (the Workers subrequests it spends).
import { BaseError, createPublicClient, http, type PublicClient } from "viem";
import type { ChainEvent } from "../channel/events.js";
import { channelStub } from "../channel/stub.js";
import { getConfig, type Config, type Env } from "../config.js";
import { runSettlement, type SettlementReport } from "../settlement/run.js";
import type { KnownDispute } from "../settlement/collect.js";
import { acquireLease, advanceCursor, ensureSyncRow, readSyncRow, recordRun, releaseLease, type Cursor } from "./cursor.js";
import { fetchChunk, type ChainEventRow } from "./logs.js";
import { settleOrphans } from "./orphans.js";
import { cursorOnChain, findAncestor, rewindTo, type RewindReport } from "./reorg.js";

/** Channel objects called at once while forwarding a chunk's events. */
const FORWARD_CONCURRENCY = 8;
/** Channel-object calls after which a run stops at the end of its chunk (each is a subrequest;
 *  the next run goes on from the cursor). */
export const MAX_OBJECT_CALLS_PER_RUN = 400;
/** chain_events rows per INSERT (8 columns, under D1's 100 bound parameters). */
const ROWS_PER_INSERT = 12;
/** Timeout of one JSON-RPC request of the sync. */
const RPC_TIMEOUT_MS = 10_000;

export type SyncOptions = {
  /** Overrides of the deployment's config for this run (tests: another RPC URL, deeper confirmations). */
  config?: Partial<Config>;
  /** Run the settlement step after the sync (default true). */
  settle?: boolean;
};

export type SyncReport = {
  ran: boolean;
  reason?: string;
  headBlock: number | null;
  confirmedBlock: number | null;
  fromBlock: number | null;
  toBlock: number | null;
  blocks: number;
  chunks: number;
  events: number;
  channels: number;
  /** Channels known to the paywall but never created on the synced chain (rewound, see orphans.ts). */
  orphans: number;
  reorg: RewindReport | null;
  settlement: SettlementReport | null;
  rpcRequests: number;
  ms: number;
  error: string | null;
};

function syncClient(config: Config, onRequest: () => void): PublicClient {
  return createPublicClient({
    transport: http(config.rpcUrl, {
      timeout: RPC_TIMEOUT_MS,
      retryCount: 0,
      batch: { wait: 0 },
      fetchFn: (input, init) => {
        onRequest();
        return fetch(input, init);
      },
    }),
  }) as PublicClient;
}

/** A run's error for sync_state (shown by the public stats): the node's answer, never its URL,
 *  which may carry an API key. */
function message(err: unknown): string {
  if (err instanceof BaseError) return err.details && err.details !== err.shortMessage ? `${err.shortMessage} ${err.details}` : err.shortMessage;
  return err instanceof Error ? err.message : String(err);
}

/** Runs one sync (see the module comment). Never throws. */
export async function runSync(env: Env, opts: SyncOptions = {}): Promise<SyncReport> {
  const started = Date.now();
  const report: SyncReport = {
    ran: false,
    headBlock: null,
    confirmedBlock: null,
    fromBlock: null,
    toBlock: null,
    blocks: 0,
    chunks: 0,
    events: 0,
    channels: 0,
    orphans: 0,
    reorg: null,
    settlement: null,
    rpcRequests: 0,
    ms: 0,
    error: null,
  };
  const finish = () => ({ ...report, ms: Date.now() - started });
  let config: Config;
  try {
    config = { ...getConfig(env), ...opts.config };
  } catch (err) {
    console.error("edge402 sync: configuration", err);
    return { ...finish(), error: message(err) };
  }
  const db = env.DB;
  const client = syncClient(config, () => {
    report.rpcRequests++;
  });
  let lease;
  try {
    await ensureSyncRow(db, config.deployBlock);
    lease = await acquireLease(db, Date.now());
  } catch (err) {
    console.error("edge402 sync: D1 unavailable", err);
    return { ...finish(), error: message(err) };
  }
  if (!lease) return { ...finish(), reason: "another sync run holds the lease" };
  report.ran = true;
  try {
    const row = (await readSyncRow(db))!;
    let cursor: Cursor = { blockNumber: row.blockNumber, blockHash: row.blockHash };
    // One batched request: the head, and whether the cursor's block is still on the chain.
    const [head, cursorKept] = await Promise.all([client.getBlockNumber({ cacheTime: 0 }), cursorOnChain(client, cursor)]);
    const confirmed = head - BigInt(config.minConfirmations - 1);
    report.headBlock = Number(head);
    report.confirmedBlock = Number(confirmed);

    if (!cursorKept) {
      const floor = { blockNumber: Number(config.deployBlock) - 1, blockHash: "" };
      const ancestor = await findAncestor(client, db, cursor.blockNumber - 1, floor);
      const rewound = await rewindTo(env, config, client, lease, cursor, ancestor, { headBlock: Number(head), now: Date.now() });
      if (!rewound) throw new Error("lost the sync lease while undoing a reorg");
      report.reorg = rewound;
      console.warn(`edge402 sync: reorg, rewound from block ${cursor.blockNumber} to ${ancestor.blockNumber} (${rewound.removedEvents} events undone)`);
      cursor = ancestor;
    }

    const disputes: KnownDispute[] = [];
    const touched = new Set<string>();
    let size = config.syncChunkBlocks > 0n ? config.syncChunkBlocks : 1n;
    let objectCalls = 0;
    while (report.chunks < config.syncMaxChunks && objectCalls < MAX_OBJECT_CALLS_PER_RUN && BigInt(cursor.blockNumber) < confirmed) {
      const from = BigInt(cursor.blockNumber + 1);
      const to = from + size - 1n < confirmed ? from + size - 1n : confirmed;
      let chunk;
      try {
        chunk = await fetchChunk(client, config, from, to);
      } catch (err) {
        // A node that limits the range or the result size: halve the chunk and try again.
        if (size > 1n && /range|too many|limit|exceed|more than|too large|response size/i.test(message(err))) {
          size = size / 2n;
          continue;
        }
        throw err;
      }
      report.fromBlock ??= Number(from);
      await storeEvents(db, chunk.rows);
      const forwarded = await forward(env, chunk.events);
      disputes.push(...forwarded.disputes);
      objectCalls += forwarded.calls;
      for (const e of chunk.events) touched.add(`${e.sender.toLowerCase()}-${e.openBlock}`);
      const orphans = await settleOrphans(env, config, client, Number(from), Number(to));
      report.orphans += orphans;
      objectCalls += orphans;
      const next = { blockNumber: Number(to), blockHash: chunk.toHash };
      if (!(await advanceCursor(db, lease, next, { events: chunk.events.length, headBlock: Number(head), now: Date.now() }))) {
        throw new Error("lost the sync lease (a run took longer than the lease); the next run resumes from the cursor");
      }
      cursor = next;
      report.chunks++;
      report.events += chunk.events.length;
      report.blocks += Number(to - from + 1n);
      report.toBlock = Number(to);
    }
    report.channels = touched.size;

    let alert: string | null = null;
    if (opts.settle !== false) {
      report.settlement = await runSettlement(env, { disputes, withdrawMinimum: config.withdrawThreshold > 0n ? config.withdrawThreshold : null });
      alert = report.settlement.alert;
    }
    await recordRun(db, { now: Date.now(), headBlock: Number(head), error: alert });
  } catch (err) {
    report.error = message(err);
    console.error("edge402 sync: run failed, the next run resumes from the cursor:", report.error);
    await recordRun(db, { now: Date.now(), headBlock: report.headBlock, error: report.error }).catch(() => undefined);
  } finally {
    await releaseLease(db, lease).catch(() => undefined);
  }
  return finish();
}

async function storeEvents(db: D1Database, rows: ChainEventRow[]): Promise<void> {
  if (rows.length === 0) return;
  const statements: D1PreparedStatement[] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    const part = rows.slice(i, i + ROWS_PER_INSERT);
    statements.push(
      db
        .prepare(
          `INSERT OR IGNORE INTO chain_events (block_number, block_hash, log_index, tx_hash, name, sender, open_block, args) VALUES ${part.map(() => "(?, ?, ?, ?, ?, ?, ?, ?)").join(", ")}`,
        )
        .bind(...part.flatMap((r) => [r.blockNumber, r.blockHash, r.logIndex, r.txHash, r.name, r.sender, r.openBlock, r.args])),
    );
  }
  await db.batch(statements);
}

/** Hands each channel its events (in chain order), a few channels at a time; returns the
 *  disputes the objects found (a close claiming less than was charged). */
async function forward(env: Env, events: ChainEvent[]): Promise<{ disputes: KnownDispute[]; calls: number }> {
  const byChannel = new Map<string, ChainEvent[]>();
  for (const e of events) {
    const key = `${e.sender.toLowerCase()}-${e.openBlock}`;
    const list = byChannel.get(key);
    if (list) list.push(e);
    else byChannel.set(key, [e]);
  }
  const groups = [...byChannel.values()];
  const disputes: KnownDispute[] = [];
  for (let i = 0; i < groups.length; i += FORWARD_CONCURRENCY) {
    const results = await Promise.all(
      groups.slice(i, i + FORWARD_CONCURRENCY).map(async (evs) => {
        const first = evs[0]!;
        const r = await channelStub(env, first.sender, first.openBlock).applyEvents(evs);
        return r.dispute ? { sender: first.sender, openBlock: first.openBlock, plan: r.dispute } : null;
      }),
    );
    for (const d of results) if (d) disputes.push(d);
  }
  return { disputes, calls: groups.length };
}
