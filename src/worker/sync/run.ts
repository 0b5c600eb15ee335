// One run of the chain sync (the cron's scheduled(), and POST /api/1/admin/sync). The chain is
// the truth and the channel objects apply what it says, so a run must survive being cut off
// anywhere: it holds a lease in D1, moves its cursor only after what it read is stored and
// applied, never throws (the next run resumes from the cursor), and changes nothing when repeated.
import { drizzle } from "drizzle-orm/d1";
import { createPublicClient, http, type Hex, type PublicClient } from "viem";
import { minBigint } from "../../protocol/amount.js";
import { channelId } from "../../protocol/channel-key.js";
import type { ChainEvent } from "../channel/events.js";
import { rpcErrorText } from "../chain.js";
import { channelStub } from "../channel/stub.js";
import { getConfig, type Config } from "../config.js";
import { chainEvents } from "../db/schema.js";
import type { Env } from "../env.js";
import { errorText, log, LogEvents } from "../log.js";
import { queueCloses } from "../settlement/queue.js";
import { runSettlement, type SettlementReport } from "../settlement/run.js";
import {
  acquireLease,
  advanceCursor,
  ensureSyncRow,
  holdLease,
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
/** Events handed to an object in one call at most (a busy channel takes several calls). */
export const MAX_EVENTS_PER_CALL = 64;
/** chain_events rows per INSERT (8 columns, under D1's 100 bound parameters). */
const ROWS_PER_INSERT = 12;
/** Timeout of one JSON-RPC request of the sync. */
const RPC_TIMEOUT_MS = 10_000;

/** Options of one `runSync` call. */
export type SyncOptions = {
  /** Overrides of the deployment's config for this run (tests: another RPC URL, deeper confirmations). */
  config?: Partial<Config>;
  /** Run the settlement step after the sync (default true). */
  settle?: boolean;
  /** Channel-object calls the run may make, after which it stops, inside a chunk if need be
   *  (each is a subrequest; the next run goes on from the cursor). Default SYNC_MAX_OBJECT_CALLS. */
  maxObjectCalls?: number;
  /** The fetch under the sync's JSON-RPC transport (tests: a reorg between two answers). */
  fetch?: typeof fetch;
  /** How often the run renews its lease (default LEASE_RENEW_MS; tests: shorter). */
  leaseRenewMs?: number;
};

/** What one sync run did: the blocks and events it read, the channels it touched, the reorg
 *  it undid, the settlement step's outcome, the RPC requests it spent, and its error if any. */
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

/** What the steps of one run share: the deployment (with the run's overrides), the run's own
 *  node client, the lease it holds, and the report it fills in. */
type Run = { env: Env; config: Config; client: PublicClient; lease: Lease; report: SyncReport; opts: SyncOptions };

/** The forward read's progress through the chunks of one run. */
type Progress = {
  cursor: Cursor;
  /** Blocks per chunk (halved when the node refuses a range). */
  size: bigint;
  objectCalls: number;
  budget: number;
  /** The next chunk's last block and its hash, read with this chunk. */
  ahead: { blockNumber: bigint; hash: Hex } | null;
  /** Channels that got events, and channels whose own chain reads were checked (orphans.ts). */
  touched: Set<string>;
  checked: Set<string>;
};

const emptyReport = (): SyncReport => ({
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
});

/**
 * Runs one chain sync: reads the contract's events up to the confirmed head, undoes a reorg,
 * hands each channel's events to its object, then disputes, settles and withdraws (see the
 * steps of syncAndSettle). Running twice, or concurrently, changes nothing the second time.
 *
 * @param env - The Worker's env (D1, the Durable Object bindings, the config vars).
 * @param opts - Overrides for this run (tests), whether to settle, the object-call budget.
 * @returns The run's report; an error is in `report.error` and recorded in D1 for the stats.
 * @throws Never: a node error, a timeout or a lost lease ends the run, and the next resumes.
 * @example
 * ```ts
 * export default {
 *   fetch: app.fetch,
 *   scheduled(_controller, env, ctx) {
 *     ctx.waitUntil(runSync(env));
 *   },
 * } satisfies ExportedHandler<Env>;
 * ```
 */
export async function runSync(env: Env, opts: SyncOptions = {}): Promise<SyncReport> {
  const started = Date.now();
  const report = emptyReport();
  const finish = () => ({ ...report, ms: Date.now() - started });
  let config: Config;
  try {
    config = { ...getConfig(env), ...opts.config };
  } catch (err) {
    log.error(LogEvents.syncConfigInvalid, { error: errorText(err) });
    return { ...finish(), error: rpcErrorText(err) };
  }
  const client = syncClient(config, () => report.rpcRequests++, opts.fetch);
  let lease: Lease | null;
  try {
    await ensureSyncRow(env.DB, config.deployBlock);
    lease = await acquireLease(env.DB, Date.now());
  } catch (err) {
    log.error(LogEvents.syncDbUnavailable, { error: errorText(err) });
    return { ...finish(), error: rpcErrorText(err) };
  }
  if (!lease) return { ...finish(), reason: "another sync run holds the lease" };
  report.ran = true;
  const stopHeartbeat = holdLease(env.DB, lease, opts.leaseRenewMs);
  try {
    await syncAndSettle({ env, config, client, lease, report, opts });
  } catch (err) {
    report.error = rpcErrorText(err);
    // The next run resumes from the cursor.
    log.error(LogEvents.syncFailed, { error: report.error, headBlock: report.headBlock });
    await recordRun(env.DB, { now: Date.now(), headBlock: report.headBlock, error: report.error }).catch(
      () => undefined,
    );
  } finally {
    stopHeartbeat();
    await releaseLease(env.DB, lease).catch(() => undefined);
  }
  return finish();
}

/**
 * The run under the lease: reads the head (the confirmed head is head - MIN_CONFIRMATIONS + 1),
 * undoes a reorg if the cursor's block left the chain, reads forward, then settles (disputes,
 * settles, withdrawals, the receiver's pending transactions: settlement/run.ts) even after a
 * failed chunk, since the dispute queue does not depend on the cursor, and records the run.
 */
async function syncAndSettle(run: Run): Promise<void> {
  const { env, config, client, report } = run;
  const row = (await readSyncRow(env.DB))!;
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
    if (!cursorKept) cursor = await undoReorg(run, cursor, head);
    await readForward(run, cursor, head, confirmed);
  } catch (err) {
    syncError = err;
  }

  let alert: string | null = null;
  if (run.opts.settle !== false) {
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
  await recordRun(env.DB, { now: Date.now(), headBlock: Number(head), error: alert });
}

/** The cursor's block is gone: walks back to the common ancestor and undoes what the removed
 *  blocks taught (reorg.ts). Returns the ancestor, the new cursor. */
async function undoReorg(run: Run, cursor: Cursor, head: bigint): Promise<Cursor> {
  const floor = { blockNumber: Number(run.config.deployBlock) - 1, blockHash: "" };
  const ancestor = await findAncestor(run.client, run.env.DB, cursor.blockNumber - 1, floor);
  const rewound = await rewindTo(run.env, run.config, run.client, run.lease, cursor, ancestor, {
    headBlock: Number(head),
    now: Date.now(),
  });
  if (!rewound) throw new Error("lost the sync lease while undoing a reorg");
  run.report.reorg = rewound;
  log.warn(LogEvents.syncReorg, {
    fromBlock: cursor.blockNumber,
    toBlock: ancestor.blockNumber,
    removedEvents: rewound.removedEvents,
  });
  return ancestor;
}

/**
 * Reads chunk after chunk (SYNC_CHUNK_BLOCKS blocks: one batched request for the logs, the last
 * block's hash and the next chunk's, logs.ts) up to the confirmed head, at most SYNC_MAX_CHUNKS
 * chunks and SYNC_MAX_OBJECT_CALLS channel-object calls per run.
 */
async function readForward(run: Run, cursor: Cursor, head: bigint, confirmed: bigint): Promise<void> {
  const { config, report } = run;
  const progress: Progress = {
    cursor,
    size: config.syncChunkBlocks > 0n ? config.syncChunkBlocks : 1n,
    objectCalls: 0,
    budget: run.opts.maxObjectCalls ?? config.syncMaxObjectCalls,
    ahead: null,
    touched: new Set(),
    checked: new Set(),
  };
  while (report.chunks < config.syncMaxChunks && progress.objectCalls < progress.budget) {
    const inside = progress.cursor.logIndex !== null && progress.cursor.logIndex !== undefined;
    const from = BigInt(inside ? progress.cursor.blockNumber : progress.cursor.blockNumber + 1);
    if (from > confirmed) break;
    const to = minBigint(from + progress.size - 1n, confirmed);
    const chunk = await fetchSized(run, progress, from, to, confirmed);
    if (!chunk) continue;
    report.fromBlock ??= Number(from);
    const complete = await applyChunk(run, progress, inside ? resumeInside(progress.cursor, chunk) : chunk, {
      from,
      to,
      head,
    });
    if (!complete) {
      report.partial = true;
      break;
    }
    report.blocks += Number(to - from + 1n);
  }
  report.channels = progress.touched.size;
}

/** The chunk [from, to], or null when the node refused its size and the size was halved (the
 *  caller asks again). */
async function fetchSized(run: Run, p: Progress, from: bigint, to: bigint, confirmed: bigint): Promise<Chunk | null> {
  const nextTo = to < confirmed ? minBigint(to + p.size, confirmed) : undefined;
  let chunk: Chunk;
  try {
    chunk = await fetchChunk(run.client, run.config, from, to, {
      toHash: p.ahead?.blockNumber === to ? p.ahead.hash : undefined,
      nextTo,
    });
  } catch (err) {
    // A node that limits the range or the result size: halve the chunk and try again.
    if (p.size > 1n && /range|too many|limit|exceed|more than|too large|response size/i.test(rpcErrorText(err))) {
      p.size = p.size / 2n;
      p.ahead = null;
      return null;
    }
    throw err;
  }
  p.ahead = nextTo !== undefined && chunk.nextHash ? { blockNumber: nextTo, hash: chunk.nextHash } : null;
  return chunk;
}

/** A chunk read again from the block the last run stopped inside: its events up to the cursor's
 *  log index are applied, so they are dropped. They must be the same block's, else the chain
 *  moved and the next run walks back. */
function resumeInside(cursor: Cursor, chunk: Chunk): Chunk {
  const inBlock = chunk.events.filter((e) => e.blockNumber === cursor.blockNumber);
  if (inBlock.some((e) => !e.id.startsWith(`${cursor.blockHash.toLowerCase()}:`)))
    throw new ChainMovedError(`block ${cursor.blockNumber} changed since the last run stopped inside it`);
  const done = inBlock.filter((e) => e.logIndex <= cursor.logIndex!).length;
  return { ...chunk, events: chunk.events.slice(done), rows: chunk.rows.slice(done) };
}

/**
 * Stores a chunk's events, hands as many to their objects as the budget allows, checks the
 * orphans of a chunk done, and moves the cursor (after the last event handed over, when the
 * budget ran out inside the chunk). True when the whole chunk was applied.
 */
async function applyChunk(
  run: Run,
  p: Progress,
  { events, rows, toHash }: Chunk,
  range: { from: bigint; to: bigint; head: bigint },
): Promise<boolean> {
  const { env, report } = run;
  const plan = planForward(events, p.budget - p.objectCalls);
  const taken = events.slice(0, plan.taken);
  await storeEvents(env.DB, rows.slice(0, plan.taken), taken);
  p.objectCalls += await forward(env, plan.calls);
  for (const e of taken) p.touched.add(channelKey(e));
  const complete = plan.taken === events.length;
  let next: Cursor;
  if (complete) {
    const to = Number(range.to);
    const orphans = await settleOrphans(env, run.config, run.client, Number(range.from), to, p.checked);
    report.orphans += orphans;
    p.objectCalls += orphans;
    next = { blockNumber: to, blockHash: toHash, logIndex: null };
  } else {
    const last = taken[plan.taken - 1]!;
    next = { blockNumber: last.blockNumber, blockHash: rows[plan.taken - 1]!.blockHash, logIndex: last.logIndex };
  }
  const moved = await advanceCursor(env.DB, run.lease, next, {
    events: taken.length,
    headBlock: Number(range.head),
  });
  if (!moved)
    throw new Error("lost the sync lease (a run took longer than the lease); the next run resumes from the cursor");
  p.cursor = next;
  report.chunks++;
  report.events += taken.length;
  report.toBlock = next.blockNumber;
  return complete;
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
