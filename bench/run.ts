// `npm run bench`: the whole benchmark in one run, in under ten minutes, on 127.0.0.1 only.
// 1. verification (bench/verify.ts): ours vs viem vs native libsecp256k1, and the cold first call;
// 2. HTTP through the local Worker (bench/http.ts, on scripts/stack.ts's `startStack`, with flow
//    control opened wide so nothing is rate-limited): free, fresh-proof and session requests;
// 3. x402 (bench/x402.ts): x402's own `exact` peer, and x402 `exact` and `channel` payments
//    through edge402, on the same anvil and on one that mines every 2 s;
// 4. the chain sync (bench/sync.ts);
// 5. the size of the paying 402 page and its script (bench/page.ts);
// 6. group commit in one channel object, called directly in workerd (bench/group-commit.ts), and
//    session against free requests at 64 in flight on one channel (bench/http64.ts).
// `npm run bench -- --scale` runs the scale simulation alone (bench/scale.ts, about ten minutes):
// it writes bench/results/scale.json and the scale section of RESULTS.md.
// It prints its progress to stderr, the tables to stdout, and writes bench/results/latest.json
// (machine, date, every figure, the ratios and the targets) and bench/RESULTS.md. A part that
// fails is reported as not measured with its reason; the others still run. Exit code 0 unless
// the stack could not start at all.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem, type } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startStack, type Stack } from "../scripts/stack.js";
import { benchGroupCommit } from "./group-commit.js";
import { benchHttp } from "./http.js";
import { benchHttp64 } from "./http64.js";
import { benchPage } from "./page.js";
import { deriveRatios, deriveTargets, renderMarkdown, type BenchFigures } from "./report.js";
import { benchScale, type ScaleResult } from "./scale.js";
import { renderGroupCommit, renderScale, scaleTargets } from "./scale-report.js";
import { benchSync } from "./sync.js";
import { benchVerification } from "./verify.js";
import { benchX402 } from "./x402.js";

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
    x402: { instant: { error: "not run" }, blockTime2s: { error: "not run" } },
    sync: { measured: false, reason: "not run" },
    page: { measured: false, reason: "not run" },
  };

  try {
    figures.verification = await benchVerification(progress);
  } catch (err) {
    figures.verification = { error: firstLine(err) };
  }
  try {
    figures.groupCommit = await benchGroupCommit(progress);
  } catch (err) {
    figures.groupCommit = { error: firstLine(err) };
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
    figures.x402 = { instant: { error: reason }, blockTime2s: { error: reason } };
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
      figures.http64 = await benchHttp64(stack, progress);
    } catch (err) {
      figures.http64 = { error: firstLine(err) };
    }
    try {
      figures.x402 = await benchX402(stack, progress);
    } catch (err) {
      figures.x402 = { instant: { error: firstLine(err) }, blockTime2s: { error: firstLine(err) } };
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
  mkdirSync(join(BENCH_DIR, "results"), { recursive: true });
  const { json } = report(figures);
  writeFileSync(join(BENCH_DIR, "results", "latest.json"), json);
  return writeMarkdown(figures, code);
}

type ScaleRun = { date: string; loadAverage: { start: number; end: number }; scale: ScaleResult | { error: string } };

const scaleWhen = (run: ScaleRun) => ({
  date: run.date,
  load: `${run.loadAverage.start.toFixed(2)} at start, ${run.loadAverage.end.toFixed(2)} at end`,
});

/** The report of `figures`, with the last scale simulation's section when there is one. */
function report(figures: BenchFigures) {
  const ratios = deriveRatios(figures);
  const targets = [...deriveTargets(figures, ratios), ...scaleTargets(figures.groupCommit, figures.http64)];
  const json = `${JSON.stringify({ ...figures, ratios, targets }, null, 2)}\n`;
  let scale: ScaleRun | null = null;
  try {
    scale = JSON.parse(readFileSync(join(BENCH_DIR, "results", "scale.json"), "utf8")) as ScaleRun;
  } catch {
    // never run
  }
  const sections = `${renderGroupCommit(figures.groupCommit, figures.http64)}\n${renderScale(scale?.scale, scale ? scaleWhen(scale) : undefined)}`;
  return { json, markdown: renderMarkdown(figures, ratios, targets, sections) };
}

function writeMarkdown(figures: BenchFigures, code: number): number {
  const { markdown } = report(figures);
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

/** `--scale`: the scale simulation alone; it writes results/scale.json and replaces the scale
 *  section of RESULTS.md (the other sections stay as the last full run wrote them). */
async function mainScale(): Promise<number> {
  const run: ScaleRun = {
    date: new Date().toISOString(),
    loadAverage: { start: loadavg()[0]!, end: Number.NaN },
    scale: { error: "not run" },
  };
  progress("starting the local stack (anvil, contracts, wrangler dev) with flow control opened wide");
  const stack = await startStack({
    env: { FREE_CAPACITY: "1000000", PAID_CAPACITY: "1000000", LOOKUP_RATE: "1000000" },
    scheduledEveryMs: 0,
    quiet: true,
  });
  try {
    run.scale = await benchScale(stack, progress, Number(process.env.SCALE_CHANNELS ?? 10_000));
  } catch (err) {
    run.scale = { error: firstLine(err) };
  } finally {
    progress("stopping the stack");
    await stack.stop();
  }
  run.loadAverage.end = loadavg()[0]!;
  mkdirSync(join(BENCH_DIR, "results"), { recursive: true });
  writeFileSync(join(BENCH_DIR, "results", "scale.json"), `${JSON.stringify(run, null, 2)}\n`);
  const section = renderScale(run.scale, scaleWhen(run));
  const path = join(BENCH_DIR, "RESULTS.md");
  writeFileSync(path, replaceSection(readFileSync(path, "utf8"), section));
  process.stdout.write(`\n${section}`);
  progress(`wrote ${resolve(BENCH_DIR, "results", "scale.json")} and the scale section of ${resolve(path)}`);
  return "error" in run.scale ? 1 : 0;
}

/** `markdown` with its scale section (from its heading to the next one) replaced by `section`,
 *  or `section` put before the targets when it has none; the rest is left as the last full run
 *  wrote it. */
function replaceSection(markdown: string, section: string): string {
  const heading = section.split("\n")[0]!;
  const start = markdown.indexOf(heading);
  if (start < 0) return markdown.replace("### Targets", `${section}\n### Targets`);
  const end = markdown.indexOf("\n### ", start + heading.length);
  return `${markdown.slice(0, start)}${section}${end < 0 ? "" : `\n${markdown.slice(end + 1)}`}`;
}

(process.argv.includes("--scale") ? mainScale() : main()).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
