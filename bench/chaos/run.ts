// `npm run chaos`: the promises measured under faults, scenarios 1-5 in under ten minutes;
// `npm run chaos -- --soak` adds the ten-minute soak (6). `--only=crash,fuzz` runs a subset,
// `--soak-minutes=N` shortens the soak (for a try; the report states its length).
// Scenarios 1, 3, 4 and 5 share one stack (started once; the crash scenario leaves it restarted
// on its own state); 2 runs on its own, with the Worker's RPC_URL through the fault proxy; 6 on
// a fresh one. Progress goes to stderr, one line per step; the figures to
// bench/results/chaos.json and bench/CHAOS.md. Exit code 1 when a promise did not hold.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Stack } from "../../scripts/stack.js";
import { CRASH_FULL, crashScenario } from "./crash.js";
import { FUZZ_FULL, fuzzScenario } from "./fuzz.js";
import { chaosStack } from "./harness.js";
import { OUTAGE_FULL, outageScenario } from "./outage.js";
import { RACES_FULL, raceScenario } from "./races.js";
import { REORGS_FULL, reorgScenario } from "./reorgs.js";
import { allHeld, renderMarkdown, rows, type ChaosFigures } from "./report.js";
import { SOAK_FULL, soakScenario } from "./soak.js";

const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const started = performance.now();
const SCENARIOS = ["crash", "outage", "races", "fuzz", "reorgs", "soak"] as const;
type Name = (typeof SCENARIOS)[number];

function progress(message: string): void {
  const s = Math.round((performance.now() - started) / 1000);
  process.stderr.write(
    `[chaos ${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}] ${message}\n`,
  );
}

function selected(): Set<Name> {
  const only = process.argv.find((a) => a.startsWith("--only="))?.slice("--only=".length);
  const names = only
    ? (only.split(",") as Name[])
    : SCENARIOS.filter((s) => s !== "soak" || process.argv.includes("--soak"));
  for (const n of names)
    if (!SCENARIOS.includes(n)) throw new Error(`unknown scenario ${n}; known: ${SCENARIOS.join(", ")}`);
  return new Set(names);
}

/** x402 is judged by the code this run has: src/x402 exists once the x402 branch is merged. */
function x402Status(): string {
  const root = resolve(BENCH_DIR, "..");
  return existsSync(join(root, "src", "x402"))
    ? "x402 is merged: PAYMENT-SIGNATURE payloads (channel scheme) are judged by the paywall"
    : "x402 not merged yet: PAYMENT-SIGNATURE payloads in PROTOCOL.md section 5's shape (base64 JSON, channel scheme) are sent and must be answered like requests without a payment";
}

/** Runs one scenario; its failure is recorded, the run goes on. */
async function attempt<T>(name: Name, fn: () => Promise<T>): Promise<T | { error: string }> {
  progress(`${name}: starting`);
  try {
    const r = await fn();
    progress(`${name}: done`);
    return r;
  } catch (err) {
    const error = (err instanceof Error ? err.message : String(err)).split("\n")[0]!;
    progress(`${name}: FAILED: ${error}`);
    return { error };
  }
}

async function sharedStackScenarios(want: Set<Name>, f: ChaosFigures): Promise<void> {
  if (!["crash", "races", "fuzz", "reorgs"].some((n) => want.has(n as Name))) return;
  progress("starting the stack (anvil, contracts, wrangler dev) for scenarios 1, 3, 4 and 5");
  const stack: Stack = await chaosStack();
  try {
    if (want.has("crash")) f.crash = await attempt("crash", () => crashScenario(stack, CRASH_FULL, progress));
    if (want.has("races")) f.races = await attempt("races", () => raceScenario(stack, RACES_FULL, progress));
    if (want.has("fuzz")) f.fuzz = await attempt("fuzz", () => fuzzScenario(stack, FUZZ_FULL, x402Status(), progress));
    if (want.has("reorgs")) f.reorgs = await attempt("reorgs", () => reorgScenario(stack, REORGS_FULL, progress));
  } finally {
    await stack.stop();
  }
}

async function soak(f: ChaosFigures): Promise<void> {
  progress("starting a fresh stack for the soak");
  const stack = await chaosStack();
  try {
    const minutes = Number(
      process.argv.find((a) => a.startsWith("--soak-minutes="))?.split("=")[1] ?? SOAK_FULL.minutes,
    );
    f.soak = await attempt("soak", () => soakScenario(stack, { ...SOAK_FULL, minutes }, progress));
  } finally {
    await stack.stop();
  }
}

async function main(): Promise<number> {
  const want = selected();
  const load: number[] = [loadavg()[0]!];
  const sampler = setInterval(() => load.push(loadavg()[0]!), 10_000);
  const cpu = cpus();
  const f: ChaosFigures = {
    date: new Date().toISOString(),
    durationS: 0,
    machine: {
      cpus: cpu.length,
      cpuModel: cpu[0]?.model.trim() ?? "unknown",
      memoryGiB: totalmem() / 2 ** 30,
      node: process.version,
      load: { start: load[0]!, mean: 0, max: 0, end: 0 },
    },
  };
  try {
    await sharedStackScenarios(want, f);
    if (want.has("outage")) f.outage = await attempt("outage", () => outageScenario(OUTAGE_FULL, progress));
    if (want.size > (want.has("soak") ? 1 : 0)) f.scenarios1to5S = (performance.now() - started) / 1000;
    if (want.has("soak")) await soak(f);
  } finally {
    clearInterval(sampler);
  }
  load.push(loadavg()[0]!);
  f.machine.load = {
    start: load[0]!,
    mean: load.reduce((a, b) => a + b, 0) / load.length,
    max: Math.max(...load),
    end: load.at(-1)!,
  };
  f.durationS = (performance.now() - started) / 1000;
  mkdirSync(join(BENCH_DIR, "results"), { recursive: true });
  writeFileSync(join(BENCH_DIR, "results", "chaos.json"), `${JSON.stringify(f, null, 2)}\n`);
  writeFileSync(join(BENCH_DIR, "CHAOS.md"), renderMarkdown(f));
  for (const r of rows(f)) if (r.held === false) progress(`NOT HELD: ${r.scenario}: ${r.figure}: ${r.value}`);
  progress(`wrote bench/results/chaos.json and bench/CHAOS.md in ${(f.durationS / 60).toFixed(1)} min`);
  return allHeld(f) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
