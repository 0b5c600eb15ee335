// The group-commit part of the bench: one channel object driven directly (bench/group-commit/
// worker.ts, run in workerd by wrangler's startWorker API, no HTTP proxy in front of the object),
// and the HTTP comparison of issue #17: session requests against free ones, 64 in flight on one
// channel, in alternating rounds of the same run (bench/http64.ts). Each object figure is the
// median of a few runs, alternated with runs of the object's cheapest call (the floor of a call
// into an object on this machine at that moment), so the background load hits both alike.
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { unstable_startWorker } from "wrangler";
import type { GroupCommitKind, GroupCommitRun } from "./group-commit/worker.js";

type Progress = (message: string) => void;

/** One measured setting: the median run of several, and every run's payments/s. */
export type GroupCommitFigure = { kind: GroupCommitKind; concurrency: number; median: GroupCommitRun; all: number[] };

/** `measured`: when, and the 1-minute load average around the runs (2 cores shared with others). */
export type GroupCommitResult = {
  figures: GroupCommitFigure[];
  payments: number;
  rounds: number;
  measured?: Measured;
};

export type Measured = { date: string; loadAverage: { start: number; end: number } };

const CONFIG = join(dirname(fileURLToPath(import.meta.url)), "group-commit", "wrangler.jsonc");
const PAYMENTS = 5000;
const ROUNDS = 3;
/** The settings measured, in the order each round runs them. */
const SETTINGS: Array<[GroupCommitKind, number]> = [
  ["noop", 64],
  ["proof", 1],
  ["proof", 64],
  ["noop", 64],
  ["session", 64],
  ["proof", 256],
  ["wait", 64],
  ["write-each", 64],
];

export async function benchGroupCommit(progress: Progress): Promise<GroupCommitResult> {
  const persist = mkdtempSync(join(tmpdir(), "edge402-group-commit-"));
  const measured = { date: new Date().toISOString(), loadAverage: { start: loadavg()[0]!, end: Number.NaN } };
  progress("group commit: starting the bench Worker in workerd");
  const worker = await unstable_startWorker({
    config: CONFIG,
    dev: { server: { port: 0 }, inspector: false, persist, logLevel: "error" },
  } as Parameters<typeof unstable_startWorker>[0]);
  try {
    await worker.ready;
    const runs = new Map<string, GroupCommitRun[]>();
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [kind, concurrency] of SETTINGS) {
        const payments = concurrency === 1 ? PAYMENTS / 5 : PAYMENTS;
        progress(`group commit: round ${round}/${ROUNDS}, ${kind} × ${payments}, ${concurrency} in flight`);
        const res = await worker.fetch(`http://bench/?kind=${kind}&concurrency=${concurrency}&payments=${payments}`);
        const body = (await res.json()) as GroupCommitRun | { error: string };
        if ("error" in body) throw new Error(`the bench Worker failed: ${body.error}`);
        const key = `${kind}/${concurrency}`;
        runs.set(key, [...(runs.get(key) ?? []), body]);
      }
    }
    const figures = [...runs.values()].map((all) => {
      const sorted = [...all].sort((a, b) => a.perSecond - b.perSecond);
      const median = sorted[Math.floor(sorted.length / 2)]!;
      return { kind: median.kind, concurrency: median.concurrency, median, all: all.map((r) => r.perSecond) };
    });
    measured.loadAverage.end = loadavg()[0]!;
    return { figures, payments: PAYMENTS, rounds: ROUNDS, measured };
  } finally {
    await worker.dispose();
    rmSync(persist, { recursive: true, force: true });
  }
}
