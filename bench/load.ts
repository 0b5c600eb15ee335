// The bench's load generator: runs prepared requests against a server from `concurrency`
// async slots on this process, bounded both in count and in time, and summarises the answered
// requests (latency percentiles in ms, accepted requests per second) and the refused ones by
// reason. Requests are built before the clock starts; only the send and the full read of the
// answer are timed.
import { percentile } from "./stats.js";

export type LoadResult = {
  concurrency: number;
  /** Requests sent. */
  sent: number;
  /** Requests answered as expected (e.g. 200). */
  ok: number;
  /** Other answers, by reason (`HTTP 402 invalid_amount`, `error: ...`). */
  refused: Record<string, number>;
  elapsedMs: number;
  /** Accepted requests per second over the whole run. */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
};

export type LoadOptions = {
  concurrency: number;
  /** At most this many requests... */
  total: number;
  /** ...and no new request after this many ms. */
  maxMs: number;
  /** Sends request number `i` (0-based, in send order) from `slot`; resolves to null when the
   * answer is the expected one, else to a short reason. */
  send: (i: number, slot: number) => Promise<string | null>;
};

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  const refused: Record<string, number> = {};
  let next = 0;
  let ok = 0;
  const start = performance.now();
  const deadline = start + opts.maxMs;
  const slot = async (s: number) => {
    for (;;) {
      if (next >= opts.total || performance.now() > deadline) return;
      const i = next++;
      const t0 = performance.now();
      let reason: string | null;
      try {
        reason = await opts.send(i, s);
      } catch (err) {
        reason = `error: ${(err as Error).message.slice(0, 80)}`;
      }
      const dt = performance.now() - t0;
      if (reason === null) {
        ok++;
        latencies.push(dt);
      } else {
        refused[reason] = (refused[reason] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, (_, s) => slot(s)));
  const elapsedMs = performance.now() - start;
  return {
    concurrency: opts.concurrency,
    sent: next,
    ok,
    refused,
    elapsedMs,
    rps: (ok * 1000) / elapsedMs,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    meanMs: latencies.length ? latencies.reduce((a, b) => a + b, 0) / latencies.length : Number.NaN,
  };
}

/**
 * `fetch` with one retry when a kept-alive connection turns out to be closed by the server
 * (it closes idle connections after a few seconds; undici may hand out such a socket after a
 * pause between runs). Nothing reached the server then, so the retry is safe.
 */
export async function benchFetch(url: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (err) {
    const code = (err as { cause?: { code?: string } }).cause?.code;
    if (code !== "UND_ERR_SOCKET" && code !== "ECONNRESET") throw err;
    return fetch(url, init);
  }
}

/** Reads a response fully; null when its status is `expected`, else `HTTP <status> <error code>`. */
export async function expectStatus(res: Response, expected = 200): Promise<string | null> {
  const body = await res.text();
  if (res.status === expected) return null;
  let code = "";
  try {
    code = (JSON.parse(body) as { error?: { code?: string } }).error?.code ?? "";
  } catch {
    // not JSON
  }
  return `HTTP ${res.status}${code ? ` ${code}` : ""}`;
}
