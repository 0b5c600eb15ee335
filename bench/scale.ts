// `npm run bench -- --scale`: the local scale simulation of issue #17. It opens 10,000 channels
// on the stack's anvil in a few blocks (bench/scale-chain.ts), then drives the Worker through
// HTTP in three phases, 64 requests in flight: every channel's first payment (a fresh proof
// that prepays credit; the object learns its channel from the chain), session requests spread
// over all the channels, and session requests on a few hot channels. After each phase it waits
// until D1 shows every payment (the projection caught up), and reads what the projection queue's
// consumer did (GET /api/1/admin/projection: queue batches, messages, rows, statements, lag) and,
// for a sample of channels, what their objects did (calls, storage writes, projection messages).
// These per-request figures feed the capacity model of docs/scale.md.
import type { Stack } from "../scripts/stack.js";
import { LAG_BUCKETS } from "../src/worker/projection/stats.js";
import { proofHeaders, signProof, type BenchChannel } from "./channels.js";
import { benchFetch, expectStatus, runLoad, type LoadResult } from "./load.js";
import { openManyChannels } from "./scale-chain.js";

type Progress = (message: string) => void;

/** What the projection consumer did during a phase (differences of its per-minute record). */
export type ProjectionFigures = {
  batches: number;
  messages: number;
  rows: number;
  statements: number;
  /** Upper bounds of the histogram buckets the 50th and 99th percentile lags fall in (ms). */
  lagP50AtMostMs: number | null;
  lagP99AtMostMs: number | null;
  lagMeanMs: number | null;
};

/** What a sample of channel objects did, per request sent to them. */
export type ObjectFigures = {
  sampled: number;
  requests: number;
  callsPerRequest: number;
  writesPerRequest: number;
  messagesPerRequest: number;
};

export type ScalePhase = {
  name: string;
  channels: number;
  load: LoadResult;
  /** From the phase's start until D1 showed its last payment (ms). */
  wallMs: number;
  /** From the end of the load until D1 showed its last payment (ms). */
  catchUpMs: number;
  projection: ProjectionFigures;
  objects: ObjectFigures | null;
};

export type ScaleResult = {
  channels: number;
  open: { ms: number; blocks: number };
  signMs: number;
  /** Free requests at 64 in flight just before the phases: the machine's pace at the time. */
  free: LoadResult;
  phases: ScalePhase[];
};

const PRICE = 5n;
const IN_FLIGHT = 64;
const HOT = 16;
const SPREAD_CREDIT = 200n;
const HOT_CREDIT = 200_000n;

type Counters = { batches: number; messages: number; rows: number; statements: number; lagSumMs: number } & Record<
  string,
  number
>;

function admin(stack: Stack) {
  return async <T>(path: string): Promise<T> => {
    const res = await benchFetch(`${stack.url}/api/1/admin${path}`, {
      headers: { authorization: `Bearer ${stack.adminToken}` },
    });
    if (res.status !== 200) throw new Error(`GET /api/1/admin${path}: HTTP ${res.status}`);
    return (await res.json()) as T;
  };
}

/** The consumer's counters summed over its last two hours. */
async function projectionCounters(stack: Stack): Promise<Counters> {
  const { minutes } = await admin(stack)<{ minutes: Array<Record<string, number>> }>("/projection?minutes=120");
  const keys = ["batches", "messages", "rows", "statements", "lagSumMs", ...LAG_BUCKETS.map(([, k]) => k)];
  return Object.fromEntries(keys.map((k) => [k, minutes.reduce((n, m) => n + (m[k] ?? 0), 0)])) as Counters;
}

function projectionDiff(before: Counters, after: Counters): ProjectionFigures {
  const d = (k: string) => (after[k] ?? 0) - (before[k] ?? 0);
  const rows = d("rows");
  const percentile = (p: number) => {
    if (rows === 0) return null;
    let seen = 0;
    for (const [bound, key] of LAG_BUCKETS) {
      seen += d(key);
      if (seen >= (p / 100) * rows) return Number.isFinite(bound) ? bound : null;
    }
    return null;
  };
  return {
    batches: d("batches"),
    messages: d("messages"),
    rows,
    statements: d("statements"),
    lagP50AtMostMs: percentile(50),
    lagP99AtMostMs: percentile(99),
    lagMeanMs: rows ? d("lagSumMs") / rows : null,
  };
}

/** Waits until D1's projection shows `earned` in total; returns the ms it waited. */
async function waitForD1(stack: Stack, earned: bigint): Promise<number> {
  const started = performance.now();
  for (;;) {
    const e = await admin(stack)<{ earned: string }>("/earnings");
    if (BigInt(e.earned) >= earned) return performance.now() - started;
    if (performance.now() - started > 180_000)
      throw new Error(`D1 shows ${e.earned} earned, not ${earned}, three minutes after the load`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

type ObjectStats = { calls: number; writes: number; projections: number };
const ZERO: ObjectStats = { calls: 0, writes: 0, projections: 0 };

/** Each channel's object counters (since it last started), read through the admin API. */
async function objectStats(stack: Stack, channels: BenchChannel[]): Promise<Map<BenchChannel, ObjectStats>> {
  const get = admin(stack);
  const out = new Map<BenchChannel, ObjectStats>();
  for (const ch of channels)
    out.set(ch, (await get<{ object: ObjectStats }>(`/channels/${ch.sender}/${ch.openBlock}`)).object);
  return out;
}

/**
 * Per request: the calls, storage writes and projection messages of the objects of `channels`
 * between two readings (`before` absent: the objects were new). The reading's own two calls
 * (raw, info) are taken off. An object restarted in between (an idle one is evicted) counts from
 * zero again: it is left out of the sample.
 */
function objectFigures(
  channels: BenchChannel[],
  requests: Map<BenchChannel, number>,
  after: Map<BenchChannel, ObjectStats>,
  before?: Map<BenchChannel, ObjectStats>,
): ObjectFigures {
  const sum = { requests: 0, calls: 0, writes: 0, projections: 0, sampled: 0 };
  for (const ch of channels) {
    const a = after.get(ch)!;
    const b = before?.get(ch) ?? ZERO;
    if (a.calls < b.calls || (requests.get(ch) ?? 0) === 0) continue;
    sum.sampled++;
    sum.requests += requests.get(ch) ?? 0;
    sum.calls += a.calls - b.calls - 2;
    sum.writes += a.writes - b.writes;
    sum.projections += a.projections - b.projections;
  }
  return {
    sampled: sum.sampled,
    requests: sum.requests,
    callsPerRequest: sum.calls / sum.requests,
    writesPerRequest: sum.writes / sum.requests,
    messagesPerRequest: sum.projections / sum.requests,
  };
}

type Phase = {
  name: string;
  channels: BenchChannel[];
  send: (i: number, sent: (ch: BenchChannel) => void) => Promise<string | null>;
  total: number;
  maxMs: number;
  /** The channels whose objects are read before and after (none: the objects are new). */
  sample: { channels: BenchChannel[]; before: boolean } | null;
};

async function runPhase(stack: Stack, p: Phase, state: { earned: bigint }): Promise<ScalePhase> {
  const before = await projectionCounters(stack);
  const objectsBefore = p.sample?.before ? await objectStats(stack, p.sample.channels) : undefined;
  const requests = new Map<BenchChannel, number>();
  const sent = (ch: BenchChannel) => requests.set(ch, (requests.get(ch) ?? 0) + 1);
  const started = performance.now();
  const load = await runLoad({ concurrency: IN_FLIGHT, total: p.total, maxMs: p.maxMs, send: (i) => p.send(i, sent) });
  // Read the sampled objects at once, before an idle one is evicted.
  const objectsAfter = p.sample ? await objectStats(stack, p.sample.channels) : undefined;
  state.earned += PRICE * BigInt(load.ok);
  const catchUpMs = await waitForD1(stack, state.earned);
  const wallMs = performance.now() - started;
  const projection = projectionDiff(before, await projectionCounters(stack));
  const objects =
    p.sample && objectsAfter ? objectFigures(p.sample.channels, requests, objectsAfter, objectsBefore) : null;
  return { name: p.name, channels: p.channels.length, load, wallMs, catchUpMs, projection, objects };
}

/** Free requests, 64 in flight, for 10 s: what this machine serves right now, to read the
 *  phases' request rates against. */
async function calibrate(stack: Stack): Promise<LoadResult> {
  const send = async (i: number) => expectStatus(await benchFetch(`${stack.url}/free/s${i}`));
  await runLoad({ concurrency: 16, total: 200, maxMs: 5_000, send });
  return runLoad({ concurrency: IN_FLIGHT, total: 1_000_000, maxMs: 10_000, send });
}

export async function benchScale(stack: Stack, progress: Progress, count = 10_000): Promise<ScaleResult> {
  const credit = (i: number) => PRICE * (i < HOT ? HOT_CREDIT : SPREAD_CREDIT);
  progress(`scale: opening ${count} channels on anvil`);
  const opened = await openManyChannels(
    stack,
    Array.from({ length: count }, (_, i) => credit(i)),
    progress,
  );
  const channels = opened.channels;
  progress(
    `scale: ${count} channels in ${opened.blocks} blocks, ${(opened.ms / 1000).toFixed(1)} s; signing their first proofs`,
  );
  const signStarted = performance.now();
  const firstProofs: Array<Record<string, string>> = [];
  for (const [i, ch] of channels.entries())
    firstProofs.push(proofHeaders(ch, credit(i), await signProof(stack, ch, credit(i))));
  const signMs = performance.now() - signStarted;
  progress("scale: free requests, 64 in flight, 10 s (this machine's pace right now)");
  const free = await calibrate(stack);

  const tokens: Array<string | undefined> = [];
  const session = async (index: number, i: number, path: string, sent: (ch: BenchChannel) => void) => {
    sent(channels[index]!);
    const headers = { "RDN-Session": tokens[index] ?? "none" };
    return expectStatus(await benchFetch(`${stack.url}/echofix/${path}${i}`, { headers }));
  };
  const hot = channels.slice(0, HOT);
  const spread = count - HOT;
  const phases: Phase[] = [
    {
      name: "first payment of every channel (a fresh proof; the object learns its channel from the chain)",
      channels,
      total: count,
      maxMs: 900_000,
      // The last channels paid: read right after the load, before their objects go idle.
      sample: { channels: channels.slice(-20), before: false },
      send: async (i, sent) => {
        sent(channels[i]!);
        const res = await benchFetch(`${stack.url}/echofix/a${i}`, { headers: firstProofs[i]! });
        tokens[i] = res.headers.get("RDN-Session") ?? undefined;
        return expectStatus(res);
      },
    },
    {
      name: `session requests spread over ${spread} channels`,
      channels: channels.slice(HOT),
      total: 1_000_000,
      maxMs: 60_000,
      sample: null,
      send: (i, sent) => session(HOT + (i % spread), i, "b", sent),
    },
    {
      name: `session requests on ${HOT} hot channels`,
      channels: hot,
      total: 1_000_000,
      maxMs: 30_000,
      sample: { channels: hot, before: true },
      send: (i, sent) => session(i % HOT, i, "c", sent),
    },
  ];
  const state = { earned: 0n };
  const out: ScalePhase[] = [];
  for (const p of phases) {
    progress(`scale: ${p.name}`);
    const phase = await runPhase(stack, p, state);
    out.push(phase);
    progress(
      `scale: ${phase.load.ok}/${phase.load.sent} ok, ${phase.load.rps.toFixed(0)} req/s; D1 caught up ${(phase.catchUpMs / 1000).toFixed(1)} s after`,
    );
  }
  return { channels: count, open: { ms: opened.ms, blocks: opened.blocks }, signMs, free, phases: out };
}
