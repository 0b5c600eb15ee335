// Session requests against free ones through HTTP, 64 in flight, all sessions on ONE channel
// (issue #17: session requests/s at least 0.95× the free requests/s of the same run). The two
// kinds alternate in rounds on the same stack, so both meet the same background load; each
// kind's figure is its requests over its own time, summed over the rounds.
import { loadavg } from "node:os";
import type { Stack } from "../scripts/stack.js";
import { openChannels, proofHeaders, signProof } from "./channels.js";
import type { Measured } from "./group-commit.js";
import { benchFetch, expectStatus, runLoad, type LoadResult } from "./load.js";

type Progress = (message: string) => void;

export type Http64Result = {
  rounds: number;
  free: LoadResult[];
  session: LoadResult[];
  freeRps: number;
  sessionRps: number;
  /** sessionRps / freeRps. */
  ratio: number;
  measured?: Measured;
};

const PRICE = 5n;
const ROUNDS = 4;
const PER_ROUND = 2000;
const IN_FLIGHT = 64;

const overall = (runs: LoadResult[]) =>
  (runs.reduce((n, r) => n + r.ok, 0) * 1000) / runs.reduce((t, r) => t + r.elapsedMs, 0);

export async function benchHttp64(stack: Stack, progress: Progress): Promise<Http64Result> {
  const measured = { date: new Date().toISOString(), loadAverage: { start: loadavg()[0]!, end: Number.NaN } };
  progress("http, 64 in flight: opening a channel and prepaying its session credit");
  const [ch] = await openChannels(stack, 1, 10n ** 12n);
  const prepaid = PRICE * BigInt(ROUNDS * PER_ROUND + 1000);
  const first = await benchFetch(`${stack.url}/echofix/prepay`, {
    headers: proofHeaders(ch!, prepaid, await signProof(stack, ch!, prepaid)),
  });
  await first.arrayBuffer();
  const token = first.headers.get("RDN-Session");
  if (first.status !== 200 || !token) throw new Error(`prepaying a session failed: HTTP ${first.status}`);
  const free = async (i: number) => expectStatus(await benchFetch(`${stack.url}/free/r${i}`));
  const session = async (i: number) =>
    expectStatus(await benchFetch(`${stack.url}/echofix/r${i}`, { headers: { "RDN-Session": token } }));
  await runLoad({ concurrency: 16, total: 300, maxMs: 10_000, send: free });
  await runLoad({ concurrency: 16, total: 300, maxMs: 10_000, send: session });
  const out = { free: [] as LoadResult[], session: [] as LoadResult[] };
  for (let r = 1; r <= ROUNDS; r++) {
    for (const [kind, send] of [
      ["free", free],
      ["session", session],
    ] as const) {
      progress(`http, 64 in flight: round ${r}/${ROUNDS}, ${kind} (${PER_ROUND} requests)`);
      out[kind].push(await runLoad({ concurrency: IN_FLIGHT, total: PER_ROUND, maxMs: 20_000, send }));
    }
  }
  const freeRps = overall(out.free);
  const sessionRps = overall(out.session);
  measured.loadAverage.end = loadavg()[0]!;
  return { rounds: ROUNDS, ...out, freeRps, sessionRps, ratio: sessionRps / freeRps, measured };
}
