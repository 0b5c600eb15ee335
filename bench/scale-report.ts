// The report of issue #17's parts: group commit in one channel object, session against free
// requests at 64 in flight over HTTP, and the scale simulation (`--scale`), as Markdown for
// bench/RESULTS.md, and their targets (reported, never asserted).
import type { GroupCommitResult, Measured as MeasuredAt } from "./group-commit.js";
import type { Http64Result } from "./http64.js";
import type { ScaleResult } from "./scale.js";
import { fmt, ratio } from "./stats.js";
import type { Target } from "./report.js";

type Measured<T> = T | { error: string };
const ok = <T extends object>(x: Measured<T> | undefined): x is T => x !== undefined && !("error" in x);

function figure(g: GroupCommitResult, kind: string, concurrency: number) {
  return g.figures.find((f) => f.kind === kind && f.concurrency === concurrency) ?? null;
}

/** The targets of issue #17. */
export function scaleTargets(g: Measured<GroupCommitResult> | undefined, h: Measured<Http64Result> | undefined) {
  const proof64 = ok(g) ? figure(g, "proof", 64) : null;
  const noop = ok(g) ? figure(g, "noop", 64) : null;
  const targets: Target[] = [
    {
      name: "one channel object applies ≥ 5,000 payments/s (called directly, 64 in flight)",
      value: proof64?.median.perSecond ?? null,
      limit: "≥ 5000",
      met: proof64 ? proof64.median.perSecond >= 5000 : null,
      detail: proof64
        ? `median of ${proof64.all.length} runs; the object's cheapest call (no storage) reached ${fmt(noop?.median.perSecond, 0)}/s in the same rounds; ${fmt(proof64.median.payments / Math.max(1, proof64.median.writes), 1)} payments per storage write`
        : ok(g) || !g
          ? "not measured"
          : g.error,
    },
    {
      name: "session req/s ≥ 0.95× free req/s (HTTP, 64 in flight, one channel)",
      value: ok(h) ? h.ratio : null,
      limit: "≥ 0.95",
      met: ok(h) ? h.ratio >= 0.95 : null,
      detail: ok(h)
        ? `${fmt(h.sessionRps, 0)} vs ${fmt(h.freeRps, 0)} req/s over ${h.rounds} alternating rounds`
        : h
          ? h.error
          : "not measured",
    },
  ];
  return targets;
}

/** When a part was measured and how loaded the machine was, if the result says. */
function measuredLine(m: MeasuredAt | undefined): string[] {
  if (!m) return [];
  const { start, end } = m.loadAverage;
  return [`Measured ${m.date}; load average (1 min) ${fmt(start, 2)} at start, ${fmt(end, 2)} at end, on 2 cores.`, ""];
}

const KIND_NAMES: Record<GroupCommitResult["figures"][number]["kind"], string> = {
  noop: "no-op (writeStats: the floor of any call)",
  proof: "fresh proofs (pay)",
  session: "session spends",
  wait: "floor: a call that waits for another call (no decision, no write)",
  "write-each": "no group commit: each payment its own write (one commit each)",
};

/** Group commit and the 64-in-flight HTTP comparison. */
export function renderGroupCommit(g: Measured<GroupCommitResult> | undefined, h: Measured<Http64Result> | undefined) {
  const lines = ["### Group commit: one channel object, called directly inside workerd", ""];
  if (ok(g)) {
    lines.push(
      ...measuredLine(g.measured),
      `bench/group-commit/worker.ts drives one ChannelObject over Workers RPC (no HTTP proxy); ${g.payments} calls a run (1,000 at 1 in flight), median of ${g.rounds} rounds, settings alternated.`,
      "",
      "| calls | in flight | per second (median) | all runs | storage writes | payments per write | ms per write |",
      "|---|---:|---:|---|---:|---:|---:|",
    );
    for (const f of g.figures) {
      const noop = f.kind === "noop" || f.kind === "wait" || f.kind === "write-each";
      const perWrite = noop ? "–" : fmt(f.median.ok / Math.max(1, f.median.writes), 1);
      const msPerWrite = noop ? "–" : fmt(f.median.ms / Math.max(1, f.median.writes), 1);
      const name = KIND_NAMES[f.kind];
      lines.push(
        `| ${name} | ${f.concurrency} | ${fmt(f.median.perSecond, 0)} | ${f.all.map((x) => fmt(x, 0)).join(", ")} | ${noop ? "–" : f.median.writes} | ${perWrite} | ${msPerWrite} |`,
      );
    }
  } else lines.push(`not measured: ${g?.error ?? "not run"}`);
  lines.push("", "### Session against free requests, HTTP, 64 in flight, one channel", "");
  if (ok(h)) {
    lines.push(...measuredLine(h.measured));
    lines.push("| round | free req/s | session req/s | session / free |", "|---:|---:|---:|---:|");
    h.free.forEach((f, i) => {
      const s = h.session[i]!;
      lines.push(`| ${i + 1} | ${fmt(f.rps, 0)} | ${fmt(s.rps, 0)} | ${fmt(ratio(s.rps, f.rps), 2)} |`);
    });
    lines.push(`| all | ${fmt(h.freeRps, 0)} | ${fmt(h.sessionRps, 0)} | **${fmt(h.ratio, 2)}** |`);
  } else lines.push(`not measured: ${h?.error ?? "not run"}`);
  return `${lines.join("\n")}\n`;
}

/** The scale simulation (`npm run bench -- --scale`). */
export function renderScale(s: Measured<ScaleResult> | undefined, when?: { date: string; load: string }): string {
  const lines = ["### Scale simulation (`npm run bench -- --scale`)", ""];
  if (!ok(s)) {
    lines.push(`not measured: ${s?.error ?? "not run yet"}`);
    return `${lines.join("\n")}\n`;
  }
  if (when) lines.push(`Run ${when.date}; load average (1 min) ${when.load}, on 2 cores.`, "");
  lines.push(
    `${s.channels} channels opened on anvil in ${s.open.blocks} blocks (${fmt(s.open.ms / 1000, 1)} s; mint, approve and createChannel queued with auto-mining off); their first proofs signed in ${fmt(s.signMs / 1000, 1)} s. Free requests at 64 in flight just before: ${fmt(s.free.rps, 0)} req/s (this machine's pace at the time). Every phase 64 in flight.`,
    "",
    "| phase | ok / sent | req/s | p50 (ms) | D1 caught up after (s) | queue batches | messages / request | D1 rows / request | D1 statements / request | lag p50 | lag p99 | lag mean (ms) |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  );
  for (const p of s.phases) {
    const r = p.load.ok || 1;
    const x = p.projection;
    lines.push(
      `| ${p.name} | ${p.load.ok} / ${p.load.sent} | ${fmt(p.load.rps, 0)} | ${fmt(p.load.p50Ms, 0)} | ${fmt(p.catchUpMs / 1000, 1)} | ${x.batches} | ${fmt(x.messages / r, 3)} | ${fmt(x.rows / r, 3)} | ${fmt(x.statements / r, 3)} | ≤ ${x.lagP50AtMostMs ?? "n/a"} ms | ≤ ${x.lagP99AtMostMs ?? "n/a"} ms | ${fmt(x.lagMeanMs, 0)} |`,
    );
  }
  lines.push("", "Rates over each phase (from its start until D1 showed its last payment):", "");
  lines.push(
    "| phase | D1 rows/s | D1 statements/s | D1 batches/s (= queue batches/s) | rows per statement | messages per batch |",
  );
  lines.push("|---|---:|---:|---:|---:|---:|");
  for (const p of s.phases) {
    const sec = p.wallMs / 1000;
    const x = p.projection;
    lines.push(
      `| ${p.name} | ${fmt(x.rows / sec, 1)} | ${fmt(x.statements / sec, 1)} | ${fmt(x.batches / sec, 2)} | ${fmt(ratio(x.rows, x.statements), 2)} | ${fmt(ratio(x.messages, x.batches), 1)} |`,
    );
  }
  lines.push("", "Channel objects, per request sent to them (a sample read through the admin API):", "");
  lines.push("| phase | objects | requests | object calls | storage writes | projection messages |");
  lines.push("|---|---:|---:|---:|---:|---:|");
  for (const p of s.phases) {
    const o = p.objects;
    if (!o) continue;
    lines.push(
      `| ${p.name} | ${o.sampled} | ${o.requests} | ${fmt(o.callsPerRequest, 3)} | ${fmt(o.writesPerRequest, 3)} | ${fmt(o.messagesPerRequest, 3)} |`,
    );
  }
  lines.push(
    "",
    "Lag is from the object's decision to the consumer's D1 write; its percentiles are the upper bounds of the consumer's histogram buckets (250, 500, 1000, 2000, 5000, 10000, 30000 ms).",
  );
  return `${lines.join("\n")}\n`;
}
