// `npm run bench`: the whole benchmark in one run, in under ten minutes, on 127.0.0.1 only.
// 1. verification (bench/verify.ts): ours vs viem vs native libsecp256k1, and the cold first call;
// 2. HTTP through the local Worker (bench/http.ts, on scripts/stack.ts's `startStack`, with flow
//    control opened wide so nothing is rate-limited): free, fresh-proof and session requests;
// 3. the x402 `exact` peer on the same anvil (bench/x402-peer.ts);
// 4. the chain sync (bench/sync.ts);
// 5. the size of the paying 402 page and its script (bench/page.ts).
// It prints its progress to stderr, the tables to stdout, and writes bench/results/latest.json
// (machine, date, every figure, the ratios and the targets) and bench/RESULTS.md. A part that
// fails is reported as not measured with its reason; the others still run. Exit code 0 unless
// the stack could not start at all.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem, type } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startStack, type Stack } from "../scripts/stack.js";
import { benchHttp, benchPeer } from "./http.js";
import { benchPage } from "./page.js";
import { deriveRatios, deriveTargets, renderMarkdown, type BenchFigures } from "./report.js";
import { benchSync } from "./sync.js";
import { benchVerification } from "./verify.js";

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const started = performance.now();

function progress(message: string): void {
  const s = Math.round((performance.now() - started) / 1000);
  process.stderr.write(
    `[bench ${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}] ${message}\n`,
  );
}

const firstLine = (err: unknown) => (err instanceof Error ? err.message : String(err)).split("\n")[0]!;

async function main(): Promise<number> {
  const cpu = cpus();
  const figures: BenchFigures = {
    machine: {
      cpus: cpu.length,
      cpuModel: cpu[0]?.model.trim() ?? "unknown",
      memoryGiB: totalmem() / 2 ** 30,
      node: process.version,
      os: `${type()} ${release()}`,
      loadAverage: { start: loadavg()[0]!, end: Number.NaN },
      versions: versions(["viem", "wrangler", "@x402/core", "@x402/evm", "@x402/hono", "@x402/fetch", "hono"]),
    },
    date: new Date().toISOString(),
    durationS: 0,
    verification: { error: "not run" },
    http: { error: "not run" },
    peer: { measured: false, reason: "not run" },
    sync: { measured: false, reason: "not run" },
    page: { measured: false, reason: "not run" },
  };

  try {
    figures.verification = await benchVerification(progress);
  } catch (err) {
    figures.verification = { error: firstLine(err) };
  }

  progress("starting the local stack (anvil, contracts, wrangler dev) with flow control opened wide");
  let stack: Stack;
  try {
    stack = await startStack({
      env: { FREE_CAPACITY: "1000000", PAID_CAPACITY: "1000000", LOOKUP_RATE: "1000000" },
      scheduledEveryMs: 0,
      quiet: true,
    });
  } catch (err) {
    const reason = `the stack did not start: ${firstLine(err)}`;
    figures.http = { error: reason };
    figures.peer = { measured: false, reason };
    figures.sync = { measured: false, reason };
    figures.page = { measured: false, reason };
    return finish(figures, 1);
  }
  try {
    progress(`stack up at ${stack.url} (anvil ${stack.rpcUrl})`);
    try {
      figures.http = await benchHttp(stack, progress);
    } catch (err) {
      figures.http = { error: firstLine(err) };
    }
    try {
      figures.peer = await benchPeer(stack, progress);
    } catch (err) {
      figures.peer = { measured: false, reason: firstLine(err) };
    }
    try {
      figures.sync = await benchSync(stack, progress);
    } catch (err) {
      figures.sync = { measured: false, reason: firstLine(err) };
    }
    try {
      figures.page = await benchPage(stack, progress);
    } catch (err) {
      figures.page = { measured: false, reason: firstLine(err) };
    }
  } finally {
    progress("stopping the stack");
    await stack.stop();
  }
  return finish(figures, 0);
}

/** Installed versions of the packages the figures depend on. */
function versions(names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    try {
      const pkg = JSON.parse(readFileSync(join(BENCH_DIR, "..", "node_modules", name, "package.json"), "utf8")) as {
        version: string;
      };
      out[name] = pkg.version;
    } catch {
      out[name] = "missing";
    }
  }
  return out;
}

function finish(figures: BenchFigures, code: number): number {
  figures.durationS = (performance.now() - started) / 1000;
  figures.machine.loadAverage.end = loadavg()[0]!;
  const ratios = deriveRatios(figures);
  const targets = deriveTargets(figures, ratios);
  const markdown = renderMarkdown(figures, ratios, targets);
  mkdirSync(join(BENCH_DIR, "results"), { recursive: true });
  const json = `${JSON.stringify({ ...figures, ratios, targets }, null, 2)}\n`;
  writeFileSync(join(BENCH_DIR, "results", "latest.json"), json);
  writeFileSync(
    join(BENCH_DIR, "RESULTS.md"),
    "# edge402 bench: latest results\n\n" +
      "Written by `npm run bench` (bench/run.ts); every figure is also in bench/results/latest.json.\n\n" +
      markdown,
  );
  process.stdout.write(`\n${markdown}`);
  progress(`wrote ${resolve(BENCH_DIR, "results", "latest.json")} and ${resolve(BENCH_DIR, "RESULTS.md")}`);
  return code;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
