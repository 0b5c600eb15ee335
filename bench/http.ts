// The HTTP part of the bench, through the local Worker of `npm start` (scripts/stack.ts):
// three kinds of request to the same demo echo — free (`/free/:param`, price 0), a fresh
// balance proof (`/echofix/:param`, price 5, a new pre-signed proof per request), and a
// session request (`/echofix/:param` paid from credit with `RDN-Session`) — at concurrency 1
// and 32, on one channel and on 32 channels (with 32 slots each slot keeps to its own channel;
// with one slot it goes round the channels). Proofs and session credit are made before the
// clock starts. The three kinds are also sent one at a time in shuffled rounds, so that their
// p50s meet the same background load (the latency ratios come from that run). The x402 rows
// (x402's own peer and x402 paid through edge402) are bench/x402.ts.
import type { Hex } from "viem";
import type { Stack } from "../scripts/stack.js";
import { openChannels, proofHeaders, signProof, type BenchChannel } from "./channels.js";
import { benchFetch, expectStatus, runLoad, type LoadResult } from "./load.js";
import { percentile } from "./stats.js";

export const PRICE = 5n;
const DEPOSIT = 10n ** 12n;

type Progress = (message: string) => void;

export type HttpScenario = {
  kind: "free" | "proof" | "session";
  concurrency: 1 | 32;
  channels: 1 | 32 | 0;
  result: LoadResult;
};

/** Free, fresh-proof and session requests sent one at a time in shuffled rounds (each round
 *  one of each), so that all three meet the same background load: the p50 ratios come from here. */
export type Interleaved = { rounds: number; free: LoadResult; proof: LoadResult; session: LoadResult };

export type HttpResult = { scenarios: HttpScenario[]; interleaved: Interleaved };

/** The request counts and time bounds of each run. */
const PLAN = {
  free: { 1: { total: 1500, maxMs: 15_000 }, 32: { total: 5000, maxMs: 15_000 } },
  proof: { 1: { total: 600, maxMs: 15_000 }, 32: { total: 3000, maxMs: 15_000 } },
  session: { 1: { total: 1500, maxMs: 15_000 }, 32: { total: 5000, maxMs: 15_000 } },
  warmup: 30,
  interleavedRounds: 600,
} as const;

/** Pre-signed proofs for one channel, consumed in order. */
class ProofQueue {
  private next = 0;
  private balance = 0n;
  readonly items: Array<Record<string, string>> = [];
  constructor(
    private readonly stack: Stack,
    readonly channel: BenchChannel,
  ) {}
  async sign(count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      this.balance += PRICE;
      const signature: Hex = await signProof(this.stack, this.channel, this.balance);
      this.items.push(proofHeaders(this.channel, this.balance, signature));
    }
  }
  take(): Record<string, string> {
    const h = this.items[this.next++];
    if (!h) throw new Error("out of pre-signed proofs");
    return h;
  }
}

async function sessionFor(stack: Stack, ch: BenchChannel, requests: number): Promise<string> {
  const balance = PRICE * BigInt(requests + 1);
  const res = await benchFetch(`${stack.url}/echofix/prepay`, {
    headers: proofHeaders(ch, balance, await signProof(stack, ch, balance)),
  });
  await res.arrayBuffer();
  const token = res.headers.get("RDN-Session");
  if (res.status !== 200 || !token) throw new Error(`prepaying a session failed: HTTP ${res.status}`);
  return token;
}

export async function benchHttp(stack: Stack, progress: Progress): Promise<HttpResult> {
  const out: HttpScenario[] = [];
  const url = (kind: "free" | "echofix", i: number) => `${stack.url}/${kind}/r${i}`;

  progress("http: opening 66 channels on anvil");
  const [proofOne, ...proofMany] = await openChannels(stack, 33, DEPOSIT);
  const [sessionOne, ...sessionMany] = await openChannels(stack, 33, DEPOSIT);

  progress("http: signing balance proofs before the clock starts");
  const warm = PLAN.warmup;
  const oneQueue = new ProofQueue(stack, proofOne!);
  await oneQueue.sign(PLAN.proof[1].total + PLAN.proof[32].total + PLAN.interleavedRounds + 3 * warm);
  const manyQueues = proofMany.map((ch) => new ProofQueue(stack, ch));
  // Each of 32 slots keeps to its channel: room for twice its even share, plus the round robin.
  const perChannel = Math.ceil((2 * PLAN.proof[32].total) / 32) + Math.ceil((PLAN.proof[1].total + 2 * warm) / 32) + 2;
  for (const q of manyQueues) await q.sign(perChannel);

  progress("http: prepaying session credit");
  const sessionOneToken = await sessionFor(
    stack,
    sessionOne!,
    PLAN.session[1].total + PLAN.session[32].total + PLAN.interleavedRounds + 3 * warm,
  );
  const sessionManyTokens: string[] = [];
  for (const ch of sessionMany)
    sessionManyTokens.push(
      await sessionFor(stack, ch, 2 * Math.ceil(PLAN.session[32].total / 32) + PLAN.session[1].total),
    );

  const run = async (
    kind: HttpScenario["kind"],
    concurrency: 1 | 32,
    channels: 1 | 32 | 0,
    send: (i: number, slot: number) => Promise<string | null>,
  ) => {
    const label = `${kind}, concurrency ${concurrency}${channels ? `, ${channels} channel${channels > 1 ? "s" : ""}` : ""}`;
    progress(`http: ${label} (warm-up)`);
    await runLoad({ concurrency: Math.min(concurrency, 8), total: warm, maxMs: 10_000, send });
    const plan = PLAN[kind][concurrency];
    progress(`http: ${label} (${plan.total} requests, at most ${plan.maxMs / 1000} s)`);
    const result = await runLoad({ concurrency, total: plan.total, maxMs: plan.maxMs, send });
    out.push({ kind, concurrency, channels, result });
  };

  const free = async (i: number) => expectStatus(await benchFetch(url("free", i)));
  const proof = async (i: number) => expectStatus(await benchFetch(url("echofix", i), { headers: oneQueue.take() }));
  const session = async (i: number) =>
    expectStatus(await benchFetch(url("echofix", i), { headers: { "RDN-Session": sessionOneToken } }));

  progress(
    `http: free, fresh-proof and session requests interleaved, concurrency 1 (${PLAN.interleavedRounds} rounds)`,
  );
  await runLoad({ concurrency: 1, total: warm, maxMs: 10_000, send: (i) => [free, proof, session][i % 3]!(i) });
  const interleaved = await interleave(PLAN.interleavedRounds, 45_000, { free, proof, session });

  for (const c of [1, 32] as const) {
    await run("free", c, 0, async (i) => expectStatus(await benchFetch(url("free", i))));
  }
  for (const c of [1, 32] as const) {
    await run("proof", c, 1, async (i) =>
      expectStatus(await benchFetch(url("echofix", i), { headers: oneQueue.take() })),
    );
    await run("proof", c, 32, async (i, slot) => {
      const q = c === 32 ? manyQueues[slot]! : manyQueues[i % 32]!;
      return expectStatus(await benchFetch(url("echofix", i), { headers: q.take() }));
    });
  }
  for (const c of [1, 32] as const) {
    await run("session", c, 1, async (i) =>
      expectStatus(await benchFetch(url("echofix", i), { headers: { "RDN-Session": sessionOneToken } })),
    );
    await run("session", c, 32, async (i, slot) => {
      const token = c === 32 ? sessionManyTokens[slot]! : sessionManyTokens[i % 32]!;
      return expectStatus(await benchFetch(url("echofix", i), { headers: { "RDN-Session": token } }));
    });
  }
  return { scenarios: out, interleaved };
}

/** Rounds of one request of each kind, in a shuffled order per round, one at a time. */
async function interleave(
  rounds: number,
  maxMs: number,
  send: Record<"free" | "proof" | "session", (i: number) => Promise<string | null>>,
): Promise<Interleaved> {
  const kinds = ["free", "proof", "session"] as const;
  const samples = { free: [] as number[], proof: [] as number[], session: [] as number[] };
  const refused = {
    free: {} as Record<string, number>,
    proof: {} as Record<string, number>,
    session: {} as Record<string, number>,
  };
  const busy = { free: 0, proof: 0, session: 0 };
  const start = performance.now();
  let done = 0;
  for (let r = 0; r < rounds && performance.now() - start < maxMs; r++) {
    const order = [...kinds].sort(() => Math.random() - 0.5);
    for (const kind of order) {
      const t0 = performance.now();
      let reason: string | null;
      try {
        reason = await send[kind](3 * r + kinds.indexOf(kind));
      } catch (err) {
        reason = `error: ${(err as Error).message.slice(0, 80)}`;
      }
      const dt = performance.now() - t0;
      busy[kind] += dt;
      if (reason === null) samples[kind].push(dt);
      else refused[kind][reason] = (refused[kind][reason] ?? 0) + 1;
    }
    done++;
  }
  const summary = (kind: (typeof kinds)[number]): LoadResult => ({
    concurrency: 1,
    sent: done,
    ok: samples[kind].length,
    refused: refused[kind],
    elapsedMs: busy[kind],
    // Requests per second of this kind's own time (one at a time): 1000 / mean latency.
    rps: (samples[kind].length * 1000) / busy[kind],
    p50Ms: percentile(samples[kind], 50),
    p99Ms: percentile(samples[kind], 99),
    meanMs: samples[kind].length ? samples[kind].reduce((a, b) => a + b, 0) / samples[kind].length : Number.NaN,
  });
  return { rounds: done, free: summary("free"), proof: summary("proof"), session: summary("session") };
}
