// Scenario 6, soak: first the capacity of mixed traffic is measured (32 slots as fast as they
// go for `measureS`: 40% fresh proofs, 40% session spends, 20% free requests), then the same mix
// is sent open-loop at 80% of it for `minutes`. Every minute: requests, errors, p50 and p99
// latency, the resident memory (VmRSS from /proc) of the workerd process that runs the Worker,
// and the JS heap its isolates keep after a full GC (heap.ts, through workerd's inspector).
// Stable means: the last minute's p99 within 2x the first's; no more errors in the last minute
// than in the first; the Worker's JS heap after GC under +50% from start to end (what our code
// keeps: a map or cache that grows shows here); and RSS under +25% from the middle minute to the
// last. RSS from the start is reported, not judged: a fresh workerd's RSS climbs for minutes
// under load (V8 code and heap reservations, SQLite page caches of the objects and of D1, the
// allocator's free lists) and then levels off, while the heaps stay flat.
import { readFileSync } from "node:fs";
import type { Stack } from "../../scripts/stack.js";
import { openChannels, proofHeaders, signProof } from "../channels.js";
import { percentile } from "../stats.js";
import { workerdHeaps, type WorkerdHeaps } from "./heap.js";
import { Ledger, payProof, send, sleep, tally, type Answer, type Progress } from "./harness.js";

export type SoakOptions = { minutes: number; measureS: number; proofChannels: number; sessionChannels: number };
export const SOAK_FULL: SoakOptions = { minutes: 10, measureS: 20, proofChannels: 64, sessionChannels: 8 };

export type SoakMinute = {
  minute: number;
  requests: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  rssMiB: number | null;
  /** The Worker isolate's JS heap used after a full GC (heap.ts). */
  heapMiB: number | null;
  /** Every isolate's in workerd (the Worker, D1, caches...), after a full GC. */
  allHeapsMiB: number | null;
};

export type SoakResult = {
  capacityRps: number;
  targetRps: number;
  achievedRps: number;
  minutes: SoakMinute[];
  rssStartMiB: number | null;
  rssEndMiB: number | null;
  heapStart: WorkerdHeaps | null;
  heapEnd: WorkerdHeaps | null;
  workerdPid: number | null;
  errors: Record<string, number>;
  stable: { p99: boolean; heap: boolean; rssAfterWarmUp: boolean; errors: boolean };
  durationS: number;
};

function rssMiB(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** The traffic mix: proof channels with one request in flight each, session channels, free. */
class Mix {
  private readonly idle: Ledger[];
  private n = 0;
  constructor(
    private readonly stack: Stack,
    proofs: Ledger[],
    private readonly sessions: Ledger[],
  ) {
    this.idle = [...proofs];
  }

  async one(): Promise<Answer> {
    const kind = this.n++ % 5;
    if (kind < 2 && this.idle.length > 0) {
      const ledger = this.idle.shift()!;
      try {
        return (await payProof(this.stack, ledger)).answer;
      } finally {
        this.idle.push(ledger);
      }
    }
    if (kind < 4) {
      const s = this.sessions[this.n % this.sessions.length]!;
      return send(`${this.stack.url}/echofix/soak`, { headers: { "RDN-Session": s.session ?? "" } }, 30_000);
    }
    return send(`${this.stack.url}/free/soak`, {}, 30_000);
  }
}

async function measure(mix: Mix, seconds: number): Promise<number> {
  let ok = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (performance.now() < end) if ((await mix.one()).status === 200) ok++;
    }),
  );
  return (ok * 1000) / (performance.now() - t0);
}

/** Sends at `rps` for `minutes`, one minute's figures at a time. */
async function openLoop(stack: Stack, mix: Mix, rps: number, o: SoakOptions, r: SoakResult, progress: Progress) {
  const t0 = performance.now();
  let sent = 0;
  let inFlight = 0;
  let bucket: { lat: number[]; errors: number; requests: number } = { lat: [], errors: 0, requests: 0 };
  const pending = new Set<Promise<void>>();
  for (let minute = 1; minute <= o.minutes; minute++) {
    const end = t0 + minute * 60_000;
    while (performance.now() < end) {
      const due = Math.floor(((performance.now() - t0) / 1000) * rps) - sent;
      for (let i = 0; i < due && inFlight < 512; i++) {
        sent++;
        inFlight++;
        const mine = bucket;
        const p = mix.one().then((a) => {
          inFlight--;
          mine.requests++;
          if (a.status === 200) mine.lat.push(a.ms);
          else {
            mine.errors++;
            tally(r.errors, a.status === 0 ? `error ${a.error}` : String(a.status));
          }
        });
        pending.add(p);
        void p.finally(() => pending.delete(p));
      }
      await sleep(5);
    }
    const m: SoakMinute = {
      minute,
      requests: bucket.requests,
      errors: bucket.errors,
      p50Ms: percentile(bucket.lat, 50),
      p99Ms: percentile(bucket.lat, 99),
      rssMiB: rssMiB(stack.workerPid()),
      heapMiB: null,
      allHeapsMiB: null,
    };
    r.minutes.push(m);
    // Read while the load goes on (a GC in each isolate), so the sending never stalls.
    const sampled = workerdHeaps(stack.workerPid()).then((h) => {
      m.heapMiB = h?.worker?.usedMiB ?? null;
      m.allHeapsMiB = h?.all.usedMiB ?? null;
    });
    pending.add(sampled);
    void sampled.finally(() => pending.delete(sampled));
    progress(
      `soak: minute ${minute}/${o.minutes}: ${m.requests} requests, ${m.errors} errors, p99 ${m.p99Ms.toFixed(1)} ms, workerd RSS ${m.rssMiB?.toFixed(0) ?? "?"} MiB`,
    );
    bucket = { lat: [], errors: 0, requests: 0 };
  }
  await Promise.all(pending);
  r.achievedRps = (sent * 1000) / (performance.now() - t0);
}

/** The middle minute of the run: where RSS after warm-up is measured from. */
export const middleMinute = (r: SoakResult): SoakMinute | undefined =>
  r.minutes[Math.floor((r.minutes.length - 1) / 2)];

function judge(r: SoakResult): SoakResult["stable"] {
  const first = r.minutes[0];
  const last = r.minutes.at(-1);
  const middle = middleMinute(r);
  const [h0, h1] = [r.heapStart?.worker?.usedMiB, r.heapEnd?.worker?.usedMiB];
  return {
    p99: !!first && !!last && last.p99Ms <= 2 * first.p99Ms,
    heap: h0 !== undefined && h1 !== undefined && h1 < 1.5 * h0,
    rssAfterWarmUp: !!middle?.rssMiB && !!last?.rssMiB && last.rssMiB < 1.25 * middle.rssMiB,
    errors: !!first && !!last && last.errors <= first.errors,
  };
}

export async function soakScenario(stack: Stack, o: SoakOptions, progress: Progress): Promise<SoakResult> {
  const started = Date.now();
  progress(`soak: opening ${o.proofChannels + o.sessionChannels} channels and buying session credit`);
  const proofs = (await openChannels(stack, o.proofChannels, 10n ** 15n)).map((ch) => new Ledger(ch));
  const sessions = (await openChannels(stack, o.sessionChannels, 10n ** 15n)).map((ch) => new Ledger(ch));
  for (const s of sessions) {
    const n = 10n ** 13n;
    const a = await send(`${stack.url}/echofix/buy`, {
      headers: proofHeaders(s.channel, n, await signProof(stack, s.channel, n)),
    });
    s.session = a.headers.get("RDN-Session") ?? undefined;
  }
  const mix = new Mix(stack, proofs, sessions);
  progress(`soak: measuring capacity (32 slots, ${o.measureS} s)`);
  await measure(mix, 3);
  const capacityRps = await measure(mix, o.measureS);
  const r: SoakResult = {
    capacityRps,
    targetRps: 0.8 * capacityRps,
    achievedRps: 0,
    minutes: [],
    rssStartMiB: rssMiB(stack.workerPid()),
    rssEndMiB: null,
    heapStart: await workerdHeaps(stack.workerPid()),
    heapEnd: null,
    workerdPid: stack.workerPid() ?? null,
    errors: {},
    stable: { p99: false, heap: false, rssAfterWarmUp: false, errors: false },
    durationS: 0,
  };
  progress(`soak: capacity ${capacityRps.toFixed(0)} req/s; ${o.minutes} min at ${r.targetRps.toFixed(0)} req/s`);
  await openLoop(stack, mix, r.targetRps, o, r, progress);
  r.rssEndMiB = rssMiB(stack.workerPid());
  r.heapEnd = await workerdHeaps(stack.workerPid());
  r.stable = judge(r);
  r.durationS = (Date.now() - started) / 1000;
  return r;
}
