// One run of the chain sync, what the cron's scheduled() does (and POST /api/1/admin/sync):
//
// 1. take the lease in D1 `sync_state` (another run holding it: this one does nothing);
// 2. read the head; the confirmed head is head - MIN_CONFIRMATIONS + 1;
// 3. if the cursor's block hash is no longer on the chain, walk back to the common ancestor and
//    undo what the removed blocks taught (reorg.ts);
// 4. read forward from the cursor to the confirmed head in chunks of SYNC_CHUNK_BLOCKS, at most
//    SYNC_MAX_CHUNKS and MAX_OBJECT_CALLS_PER_RUN channel-object calls per run (each chunk: one
//    batched request for the logs, the last block's hash and the next chunk's, see logs.ts),
//    store each event in `chain_events` (INSERT OR IGNORE on (block_hash, log_index)) and each
//    close request in the dispute queue (one batch), hand each channel's events to its object
//    (which applies each once, by id), check what the objects learned from their own chain
//    reads up to there (orphans.ts), then move the cursor, conditional on still holding the
//    lease. When the calls run out inside a chunk, the cursor stops after the last event
//    handed over (its block and log index) and the next run resumes there;
// 5. settle: dispute cheating closes and settle honest ones after their challenge (from the
//    dispute queue), withdraw earnings over WITHDRAW_THRESHOLD, follow the receiver's pending
//    transactions (settlement/run.ts);
// 6. record the run (error or alert, head) and release the lease.
//
// It never throws: a node error, a timeout or a reorg mid-run is recorded in sync_state and the
// next run resumes from the cursor; the settlement step still runs after a failed chunk.
// Running twice, or concurrently, changes nothing the second time. The report counts the run's
// JSON-RPC HTTP requests (the Workers subrequests it spends).
import { drizzle } from "drizzle-orm/d1";
import { createPublicClient, http, type Hex, type PublicClient } from "viem";
import { channelId } from "../../protocol/channel-key.js";
import type { ChainEvent } from "../channel/events.js";
import { rpcErrorText } from "../chain.js";
import { channelStub } from "../channel/stub.js";
import { getConfig, type Config } from "../config.js";
import { chainEvents } from "../db/schema.js";
import type { Env } from "../env.js";
import { queueCloses } from "../settlement/queue.js";
import { runSettlement, type SettlementReport } from "../settlement/run.js";
import {
  acquireLease,
  advanceCursor,
  ensureSyncRow,
  readSyncRow,
  recordRun,
  releaseLease,
  type Cursor,
  type Lease,
} from "./cursor.js";
import { ChainMovedError, fetchChunk, type ChainEventRow, type Chunk } from "./logs.js";
import { settleOrphans } from "./orphans.js";
import { cursorOnChain, findAncestor, rewindTo, type RewindReport } from "./reorg.js";

/** Channel objects called at once while forwarding a chunk's events. */
const FORWARD_CONCURRENCY = 8;
/** Channel-object calls after which a run stops, inside a chunk if need be (each is a
 *  subrequest; the next run goes on from the cursor). */
export const MAX_OBJECT_CALLS_PER_RUN = 400;
/** Events handed to an object in one call at most (a busy channel takes several calls). */
export const MAX_EVENTS_PER_CALL = 64;
/** chain_events rows per INSERT (8 columns, under D1's 100 bound parameters). */
const ROWS_PER_INSERT = 12;
/** Timeout of one JSON-RPC request of the sync. */
const RPC_TIMEOUT_MS = 10_000;

export type SyncOptions = {
  /** Overrides of the deployment's config for this run (tests: another RPC URL, deeper confirmations). */
  config?: Partial<Config>;
  /** Run the settlement step after the sync (default true). */
  settle?: boolean;
  /** Channel-object calls the run may make (default MAX_OBJECT_CALLS_PER_RUN). */
  maxObjectCalls?: number;
  /** The fetch under the sync's JSON-RPC transport (tests: a reorg between two answers). */
  fetch?: typeof fetch;
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
  /** Channels whose objects' own chain reads were checked against the synced chain (orphans.ts). */
  orphans: number;
  /** True when the run stopped inside a chunk (its object calls ran out); the next resumes there. */
  partial: boolean;
  reorg: RewindReport | null;
  settlement: SettlementReport | null;
  rpcRequests: number;
  ms: number;
  error: string | null;
};

function syncClient(config: Config, onRequest: () => void, fetchFn: typeof fetch = fetch): PublicClient {
  return createPublicClient({
    transport: http(config.rpcUrl, {
      timeout: RPC_TIMEOUT_MS,
      retryCount: 0,
      batch: { wait: 0 },
      fetchFn: (input, init) => {
        onRequest();
        return fetchFn(input, init);
      },
    }),
  }) as PublicClient;
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
    partial: false,
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
    return { ...finish(), error: rpcErrorText(err) };
  }
  const db = env.DB;
  const client = syncClient(
    config,
    () => {
      report.rpcRequests++;
    },
    opts.fetch,
  );
  let lease: Lease | null;
  try {
    await ensureSyncRow(db, config.deployBlock);
    lease = await acquireLease(db, Date.now());
  } catch (err) {
    console.error("edge402 sync: D1 unavailable", err);
    return { ...finish(), error: rpcErrorText(err) };
  }
  if (!lease) return { ...finish(), reason: "another sync run holds the lease" };
  report.ran = true;
  try {
    const row = (await readSyncRow(db))!;
    let cursor: Cursor = { blockNumber: row.blockNumber, blockHash: row.blockHash, logIndex: row.logIndex };
    // One batched request: the head, and whether the cursor's block is still on the chain.
    const [head, cursorKept] = await Promise.all([
      client.getBlockNumber({ cacheTime: 0 }),
      cursorOnChain(client, cursor),
    ]);
    const confirmed = head - BigInt(config.minConfirmations - 1);
    report.headBlock = Number(head);
    report.confirmedBlock = Number(confirmed);

    // A chunk that fails (a node error, a reorg under it) does not keep the settlement from
    // running: the dispute queue does not depend on the cursor.
    let syncError: unknown = null;
    try {
      if (!cursorKept) {
        const floor = { blockNumber: Number(config.deployBlock) - 1, blockHash: "" };
        const ancestor = await findAncestor(client, db, cursor.blockNumber - 1, floor);
        const rewound = await rewindTo(env, config, client, lease, cursor, ancestor, {
          headBlock: Number(head),
          now: Date.now(),
        });
        if (!rewound) throw new Error("lost the sync lease while undoing a reorg");
        report.reorg = rewound;
        console.warn(
          `edge402 sync: reorg, rewound from block ${cursor.blockNumber} to ${ancestor.blockNumber} (${rewound.removedEvents} events undone)`,
        );
        cursor = ancestor;
      }

      const touched = new Set<string>();
      const checked = new Set<string>();
      const budget = opts.maxObjectCalls ?? MAX_OBJECT_CALLS_PER_RUN;
      let size = config.syncChunkBlocks > 0n ? config.syncChunkBlocks : 1n;
      let objectCalls = 0;
      let ahead: { blockNumber: bigint; hash: Hex } | null = null;
      while (report.chunks < config.syncMaxChunks && objectCalls < budget) {
        const partial = cursor.logIndex !== null && cursor.logIndex !== undefined;
        const from = BigInt(partial ? cursor.blockNumber : cursor.blockNumber + 1);
        if (from > confirmed) break;
        const to = from + size - 1n < confirmed ? from + size - 1n : confirmed;
        const nextTo = to < confirmed ? (to + size < confirmed ? to + size : confirmed) : undefined;
        let chunk: Chunk;
        try {
          chunk = await fetchChunk(client, config, from, to, {
            toHash: ahead?.blockNumber === to ? ahead.hash : undefined,
            nextTo,
          });
        } catch (err) {
          // A node that limits the range or the result size: halve the chunk and try again.
          if (size > 1n && /range|too many|limit|exceed|more than|too large|response size/i.test(rpcErrorText(err))) {
            size = size / 2n;
            ahead = null;
            continue;
          }
          throw err;
        }
        ahead = nextTo !== undefined && chunk.nextHash ? { blockNumber: nextTo, hash: chunk.nextHash } : null;
        report.fromBlock ??= Number(from);
        let { events, rows } = chunk;
        if (partial) {
          // Resuming inside block `from`: its events up to the cursor's log index are applied.
          // They must be the same block's, else the chain moved and the next run walks back.
          const done = events.filter((e) => e.blockNumber === cursor.blockNumber && e.logIndex <= cursor.logIndex!);
          if (
            events.some(
              (e) => e.blockNumber === cursor.blockNumber && !e.id.startsWith(`${cursor.blockHash.toLowerCase()}:`),
            )
          ) {
            throw new ChainMovedError(`block ${cursor.blockNumber} changed since the last run stopped inside it`);
          }
          events = events.slice(done.length);
          rows = rows.slice(done.length);
        }
        const plan = planForward(events, budget - objectCalls);
        const taken = events.slice(0, plan.taken);
        await storeEvents(db, rows.slice(0, plan.taken), taken);
        objectCalls += await forward(env, plan.calls);
        for (const e of taken) touched.add(channelKey(e));
        const complete = plan.taken === events.length;
        let next: Cursor;
        if (complete) {
          const orphans = await settleOrphans(env, config, client, Number(from), Number(to), checked);
          report.orphans += orphans;
          objectCalls += orphans;
          next = { blockNumber: Number(to), blockHash: chunk.toHash, logIndex: null };
        } else {
          const last = plan.taken - 1;
          next = {
            blockNumber: taken[last]!.blockNumber,
            blockHash: rows[last]!.blockHash,
            logIndex: taken[last]!.logIndex,
          };
        }
        if (
          !(await advanceCursor(db, lease, next, { events: taken.length, headBlock: Number(head), now: Date.now() }))
        ) {
          throw new Error(
            "lost the sync lease (a run took longer than the lease); the next run resumes from the cursor",
          );
        }
        cursor = next;
        report.chunks++;
        report.events += taken.length;
        report.toBlock = next.blockNumber;
        if (!complete) {
          report.partial = true;
          break;
        }
        report.blocks += Number(to - from + 1n);
      }
      report.channels = touched.size;
    } catch (err) {
      syncError = err;
    }

    let alert: string | null = null;
    if (opts.settle !== false) {
      report.settlement = await runSettlement(env, {
        config,
        client,
        head,
        confirmed,
        withdrawMinimum: config.withdrawThreshold > 0n ? config.withdrawThreshold : null,
      });
      alert = report.settlement.alert;
    }
    if (syncError) throw syncError;
    await recordRun(db, { now: Date.now(), headBlock: Number(head), error: alert });
  } catch (err) {
    report.error = rpcErrorText(err);
    console.error("edge402 sync: run failed, the next run resumes from the cursor:", report.error);
    await recordRun(db, { now: Date.now(), headBlock: report.headBlock, error: report.error }).catch(() => undefined);
  } finally {
    await releaseLease(db, lease).catch(() => undefined);
  }
  return finish();
}

/** Stores a chunk's events (each once) and queues its close requests, in one batch. */
async function storeEvents(d1: D1Database, rows: ChainEventRow[], events: readonly ChainEvent[]): Promise<void> {
  if (rows.length === 0) return;
  const db = drizzle(d1);
  const inserts = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT)
    inserts.push(
      db
        .insert(chainEvents)
        .values(rows.slice(i, i + ROWS_PER_INSERT))
        .onConflictDoNothing(),
    );
  await db.batch([inserts[0]!, ...inserts.slice(1), ...queueCloses(db, events, Date.now())]);
}

const channelKey = (e: ChainEvent) => channelId(e.sender, e.openBlock);

/**
 * The longest prefix of `events` (in chain order) that `budget` object calls can carry: each
 * call takes one channel's next events, at most MAX_EVENTS_PER_CALL. `taken` is its length.
 */
export function planForward(events: readonly ChainEvent[], budget: number): { calls: ChainEvent[][]; taken: number } {
  const calls: ChainEvent[][] = [];
  const open = new Map<string, ChainEvent[]>();
  let taken = 0;
  for (const e of events) {
    let call = open.get(channelKey(e));
    if (!call || call.length >= MAX_EVENTS_PER_CALL) {
      if (calls.length >= budget) break;
      call = [];
      calls.push(call);
      open.set(channelKey(e), call);
    }
    call.push(e);
    taken++;
  }
  return { calls, taken };
}

/** Makes the planned calls: a few channels at a time, each channel's calls in order. Returns
 *  how many calls were made. */
async function forward(env: Env, calls: ChainEvent[][]): Promise<number> {
  const byChannel = new Map<string, ChainEvent[][]>();
  for (const call of calls) {
    const key = channelKey(call[0]!);
    const list = byChannel.get(key);
    if (list) list.push(call);
    else byChannel.set(key, [call]);
  }
  const channels = [...byChannel.values()];
  for (let i = 0; i < channels.length; i += FORWARD_CONCURRENCY) {
    await Promise.all(
      channels.slice(i, i + FORWARD_CONCURRENCY).map(async (list) => {
        const first = list[0]![0]!;
        const stub = channelStub(env, first.sender, first.openBlock);
        for (const call of list) await stub.applyEvents(call);
      }),
    );
  }
  return calls.length;
}
