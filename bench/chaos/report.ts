// The chaos run's report: every figure the promises are judged by, as rows of one table
// (scenario, figure, value, what the promise asks, held or not), rendered to bench/CHAOS.md.
// A scenario that could not run is one row with its error.
import type { CrashResult } from "./crash.js";
import type { SyncKillResult } from "./sync-kill.js";
import type { FuzzResult } from "./fuzz.js";
import type { OutageResult } from "./outage.js";
import type { RaceResult } from "./races.js";
import type { ReorgResult } from "./reorgs.js";
import { middleMinute, type SoakResult } from "./soak.js";

type Failed = { error: string };
export type ChaosFigures = {
  date: string;
  durationS: number;
  /** How long scenarios 1-5 took (stack starts included), when any of them ran. */
  scenarios1to5S?: number;
  machine: {
    cpus: number;
    cpuModel: string;
    memoryGiB: number;
    node: string;
    load: { start: number; mean: number; max: number; end: number };
  };
  crash?: CrashResult | Failed;
  outage?: OutageResult | Failed;
  races?: RaceResult | Failed;
  fuzz?: FuzzResult | Failed;
  reorgs?: ReorgResult | Failed;
  soak?: SoakResult | Failed;
};

/** One row: `held` null when the figure is informative only. */
export type Row = { scenario: string; figure: string; value: string; promise: string; held: boolean | null };

const ok = <T extends object>(x: T | Failed | undefined): x is T => x !== undefined && !("error" in x);
const n = (v: number, d = 0) => (Number.isFinite(v) ? v.toFixed(d) : "n/a");
const zero = (scenario: string, figure: string, v: number): Row => ({
  scenario,
  figure,
  value: String(v),
  promise: "0",
  held: v === 0,
});
const info = (scenario: string, figure: string, value: string): Row => ({
  scenario,
  figure,
  value,
  promise: "",
  held: null,
});
const list = (r: Record<string, number>) =>
  Object.entries(r)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k}: ${v}`)
    .join(", ") || "none";

function crashRows(c: CrashResult): Row[] {
  const s = "1 crash";
  const rec = [...c.recoveryMs].sort((a, b) => a - b);
  return [
    info(
      s,
      "payers / kill -9 of workerd / of which wrangler also restarted",
      `${c.payers} / ${c.kills} / ${c.fullRestarts}`,
    ),
    info(
      s,
      "accepted payments (200 seen by the client): proof payers / session payers",
      `${c.accepted}: ${c.acceptedProofs} / ${c.acceptedSessions}`,
    ),
    info(s, "requests with no answer or a 5xx while workerd was down (outcome unknown)", String(c.unknown)),
    zero(s, "accepted payments lost after restart (missing from C, or B below an accepted proof)", c.lost),
    zero(s, "accepted proofs rolled back", c.rolledBack),
    zero(s, "channels whose stored B or its signature is not the client's proof", c.badProofs),
    zero(
      s,
      "channels charged more than the client sent (accepted + unknown + session spends wrangler dev's proxy may have re-sent)",
      c.overcharged,
    ),
    zero(s, "200s showing a lower C than an earlier 200 on the channel", c.rollbacksSeen),
    zero(s, "channels whose D1 projection did not reach the object's B and C", c.projectionMismatches),
    info(s, "proofs accepted by a request retried after the crash, answered as used", String(c.acceptedUnseen)),
    info(
      s,
      "session spends in flight at a kill (wrangler dev's proxy re-sends such a GET: it may be charged twice, answered once)",
      String(c.sessionSpendsAtKill ?? 0),
    ),
    info(
      s,
      "time to answer again after a kill (median / max)",
      `${n((rec[Math.floor(rec.length / 2)] ?? NaN) / 1000, 1)} s / ${n((rec.at(-1) ?? NaN) / 1000, 1)} s`,
    ),
    info(s, "refusals during the run", list(c.refused)),
    ...(c.syncKill ? syncKillRows(s, c.syncKill) : []),
  ];
}

function syncKillRows(s: string, k: SyncKillResult): Row[] {
  return [
    {
      scenario: s,
      figure: "kill -9 inside a sync run: its lease still held after the kill (sync/cursor.ts LEASE_MS)",
      value: `${n(k.leaseLeftS, 1)} s`,
      promise: "≤ 15 s",
      held: k.leaseLeftS <= 15,
    },
    info(s, "kill -9 inside a sync run: next sync run finished after", `${n(k.nextRunAfterS, 1)} s`),
    {
      scenario: s,
      figure: "kill -9 inside a sync run: the sync then reached the head with no error",
      value: k.caughtUp ? "yes" : "no",
      promise: "yes",
      held: k.caughtUp,
    },
  ];
}

function outageRows(o: OutageResult): Row[] {
  const s = "2 outage";
  const p = o.known.paused;
  const unknownOk = o.unknownDuringPause.filter(
    (u) => u.status === 503 && u.code === "chain_unavailable" && u.json,
  ).length;
  const f = o.faultyNode;
  return [
    info(s, "anvil paused (SIGSTOP) for", `${n(o.pauseS, 1)} s`),
    {
      scenario: s,
      figure: "known channels served during the pause (proof and session)",
      value: `${p.ok} / ${p.sent}`,
      promise: "all",
      held: p.sent > 0 && p.ok === p.sent,
    },
    {
      scenario: s,
      figure: "known channels served before / after the pause",
      value: `${o.known.before.ok} / ${o.known.before.sent}, ${o.known.after.ok} / ${o.known.after.sent}`,
      promise: "all",
      held: o.known.before.ok === o.known.before.sent && o.known.after.ok === o.known.after.sent,
    },
    {
      scenario: s,
      figure: "unknown channels during the pause: 503 chain_unavailable with the JSON body",
      value: `${unknownOk} / ${o.unknownDuringPause.length} (after ${o.unknownDuringPause.map((u) => n(u.ms / 1000, 1)).join(", ")} s)`,
      promise: "all",
      held: unknownOk === o.unknownDuringPause.length && unknownOk > 0,
    },
    info(s, "sync at the head again after SIGCONT (and the chain moving on)", `${n(o.syncResumedS, 1)} s`),
    {
      scenario: s,
      figure: "contract events on chain / applied by the sync",
      value: `${o.eventsOnChain} / ${o.eventsApplied}`,
      promise: "equal",
      held: o.eventsOnChain === o.eventsApplied,
    },
    zero(s, "channels whose object or projection differs from the chain after the outage", o.depositMismatches),
    {
      scenario: s,
      figure: "dispute due during the outage: close at block / settle block / dispute landed at block",
      value: `${o.dispute.closeBlock} / ${o.dispute.settleBlock} / ${o.dispute.disputeBlock ?? "never"} (balance ${o.dispute.balance ?? "-"}, ${o.dispute.spareBlocks ?? 0} blocks to spare)`,
      promise: "before the settle block, at 15",
      held:
        o.dispute.disputeBlock !== null && o.dispute.disputeBlock < o.dispute.settleBlock && o.dispute.balance === "15",
    },
    info(s, `faulty node (${f.rate * 100}% of RPC answers for ${f.seconds} s): faults injected`, list(f.faults)),
    {
      scenario: s,
      figure: "faulty node: known channels served",
      value: `${f.known.ok} / ${f.known.sent}`,
      promise: "all",
      held: f.known.sent > 0 && f.known.ok === f.known.sent,
    },
    info(s, "faulty node: channels met for the first time", list(f.unknown)),
    zero(s, "faulty node: 500s or error answers without the JSON body", f.bad),
    zero(s, "faulty node: channels differing from the chain once it healed", f.depositMismatches),
  ];
}

function raceRows(r: RaceResult): Row[] {
  const s = "3 races";
  const k = r.byKind;
  return [
    {
      scenario: s,
      figure: "double-spend attempts",
      value: String(r.attempts),
      promise: ">= 1000",
      held: r.attempts >= 1000,
    },
    info(
      s,
      "same proof at once / session past its credit / proof racing a close (attempts, served)",
      `${k.sameProof.attempts}, ${k.sameProof.served} / ${k.sessionPastCredit.attempts}, ${k.sessionPastCredit.served} / ${k.proofVsClose.attempts}, ${k.proofVsClose.served}`,
    ),
    zero(s, "double accepts (served cost beyond what the receiver can collect)", r.doubleAccepts),
    zero(s, "channels whose final C differs from the sum of served costs", r.chargeMismatches),
    zero(s, "same-proof rounds with more than one 200", r.replaysServed),
    info(s, "answers", list(r.answers)),
  ];
}

function fuzzRows(f: FuzzResult): Row[] {
  const s = "4 fuzz";
  return [
    {
      scenario: s,
      figure: `generated requests (fast-check, seed ${f.seed})`,
      value: String(f.cases),
      promise: ">= 10000",
      held: f.cases >= 10_000,
    },
    zero(s, "5xx answers", f.fiveXX),
    zero(s, "requests with no answer", f.noAnswer),
    zero(s, "refusals without a stable JSON error code (or with another code's status)", f.badRefusals),
    zero(s, "answers with more than one refusal flag", f.multipleFlags),
    {
      scenario: s,
      figure: "state changes by refusals (fixture channels compared before and after each batch)",
      value: `${f.stateChangesOnRefusal} in ${f.stateChecks} checks`,
      promise: "0",
      held: f.stateChangesOnRefusal === 0,
    },
    info(
      s,
      "paid requests served / paid requests the route's handler answered >= 400",
      `${f.served} / ${f.paidThenHandlerError}`,
    ),
    info(s, "answers by status", list(f.byStatus)),
    info(s, "refusals by code", list(f.byCode)),
    info(s, "x402 PAYMENT-SIGNATURE", f.x402),
  ];
}

function reorgRows(r: ReorgResult): Row[] {
  const s = "5 reorgs";
  return [
    info(s, "reorgs (depths)", `${r.rounds} (${r.depths.join(", ")})`),
    {
      scenario: s,
      figure: "reorgs the sync detected and undid",
      value: String(r.reorgsSeenBySync),
      promise: String(r.rounds),
      held: r.reorgsSeenBySync === r.rounds,
    },
    info(s, "top-ups dropped by a reorg", String(r.topUpsDropped)),
    zero(s, "requests served above the deposit on chain after the sync", r.servedAboveDeposit),
    zero(
      s,
      "channels whose object or D1 projection differs from the chain (or each other) after it settled",
      r.projectionMismatches,
    ),
    info(s, "probes after each reorg settled", list(r.probes)),
    info(s, "background payments during the reorgs", list(r.background)),
  ];
}

function soakRows(r: SoakResult): Row[] {
  const s = "6 soak";
  const mb = (v: number | null | undefined, d = 0) => (v === null || v === undefined ? "n/a" : `${v.toFixed(d)} MiB`);
  const perMinute = (pick: (m: SoakResult["minutes"][number]) => number | null, d = 0) =>
    r.minutes.map((m) => (pick(m) === null ? "?" : pick(m)!.toFixed(d))).join(", ");
  const middle = middleMinute(r);
  return [
    info(s, "length", `${r.minutes.length} min`),
    info(
      s,
      "measured capacity (mixed: 40% proofs, 40% sessions, 20% free) / target 80% / achieved",
      `${n(r.capacityRps)} / ${n(r.targetRps)} / ${n(r.achievedRps)} req/s`,
    ),
    {
      scenario: s,
      figure: "the Worker's JS heap after a full GC (isolate with its Durable Objects), start / end",
      value: `${mb(r.heapStart?.worker?.usedMiB, 1)} / ${mb(r.heapEnd?.worker?.usedMiB, 1)}`,
      promise: "< +50%",
      held: r.stable.heap,
    },
    info(
      s,
      "every isolate's JS heap in workerd after a full GC (the Worker, D1, caches...), start / end",
      `${mb(r.heapStart?.all.usedMiB, 1)} / ${mb(r.heapEnd?.all.usedMiB, 1)} (${r.heapEnd?.all.isolates ?? 0} isolates)`,
    ),
    info(s, "workerd RSS at start / end (warm-up included)", `${mb(r.rssStartMiB)} / ${mb(r.rssEndMiB)}`),
    {
      scenario: s,
      figure: `workerd RSS after warm-up: minute ${middle?.minute ?? "?"} / last minute`,
      value: `${mb(middle?.rssMiB)} / ${mb(r.minutes.at(-1)?.rssMiB)}`,
      promise: "< +25%",
      held: r.stable.rssAfterWarmUp,
    },
    {
      scenario: s,
      figure: "p99 per minute (ms)",
      value: perMinute((m) => m.p99Ms),
      promise: "last <= 2x first",
      held: r.stable.p99,
    },
    {
      scenario: s,
      figure: "errors per minute",
      value: r.minutes.map((m) => m.errors).join(", "),
      promise: "no growth",
      held: r.stable.errors,
    },
    info(
      s,
      "workerd RSS per minute (MiB)",
      perMinute((m) => m.rssMiB),
    ),
    info(
      s,
      "the Worker's JS heap after GC per minute (MiB)",
      perMinute((m) => m.heapMiB, 1),
    ),
  ];
}

export function rows(f: ChaosFigures): Row[] {
  const out: Row[] = [];
  const add = <T extends object>(name: string, x: T | Failed | undefined, fn: (t: T) => Row[]) => {
    if (x === undefined) return;
    if (ok(x)) out.push(...fn(x));
    else out.push({ scenario: name, figure: "did not run", value: (x as Failed).error, promise: "", held: false });
  };
  add("1 crash", f.crash, crashRows);
  add("2 outage", f.outage, outageRows);
  add("3 races", f.races, raceRows);
  add("4 fuzz", f.fuzz, fuzzRows);
  add("5 reorgs", f.reorgs, reorgRows);
  add("6 soak", f.soak, soakRows);
  return out;
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

export function renderMarkdown(f: ChaosFigures): string {
  const m = f.machine;
  const table = rows(f)
    .map(
      (r) =>
        `| ${r.scenario} | ${cell(r.figure)} | ${cell(r.value)} | ${r.promise} | ${r.held === null ? "" : r.held ? "yes" : "**NO**"} |`,
    )
    .join("\n");
  return `# Chaos run: the promises under faults

Generated by \`npm run chaos${f.soak ? " -- --soak" : ""}\` (bench/chaos/run.ts) on ${f.date}, in ${n(f.durationS / 60, 1)} minutes${f.scenarios1to5S !== undefined && f.soak ? ` (scenarios 1-5: ${n(f.scenarios1to5S / 60, 1)} minutes; the soak: the rest)` : ""}.
Every scenario runs against the real stack: anvil and the Worker under \`wrangler dev\` (workerd, local
D1 and Durable Objects), through scripts/stack.ts. The raw figures are in \`bench/results/chaos.json\`.

**Machine:** ${m.cpus} × ${m.cpuModel}, ${n(m.memoryGiB, 1)} GiB, Node ${m.node}. Load average (1 min)
${n(m.load.start, 1)} at the start, ${n(m.load.mean, 1)} on average, ${n(m.load.max, 1)} at most, ${n(m.load.end, 1)} at the end: the
2 cores are shared with other engineers' test runs, so every latency and rate here is noisy and
only the counts are exact.

| scenario | figure | value | promise | held |
|---|---|---|---|---|
${table}

How each figure is counted is written at the top of its scenario's module in bench/chaos/
(crash.ts with sync-kill.ts, outage.ts with rpc-proxy.ts, races.ts, fuzz.ts with fuzz-cases.ts, reorgs.ts, soak.ts).
`;
}

/** True when every judged figure held. */
export function allHeld(f: ChaosFigures): boolean {
  return rows(f).every((r) => r.held !== false);
}
