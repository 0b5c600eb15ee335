// The bench's report: from the measured figures it derives the ratios and the targets of
// issue #7 (each met or missed; reported, never asserted), builds the JSON written to
// bench/results/latest.json, and renders the Markdown tables printed at the end of a run and
// committed as bench/RESULTS.md.
import type { GroupCommitResult } from "./group-commit.js";
import type { HttpResult, HttpScenario } from "./http.js";
import type { Http64Result } from "./http64.js";
import type { LoadResult } from "./load.js";
import { PAGE_BUDGET_GZIP, type PageSizeResult } from "./page.js";
import { fmt, ratio } from "./stats.js";
import type { SyncResult } from "./sync.js";
import type { VerificationResult } from "./verify.js";
import type { X402Chain, X402Result, X402Row, X402Way } from "./x402.js";

export type Machine = {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  os: string;
  /** The 1-minute load average when the bench started and when it ended (other work skews it). */
  loadAverage: { start: number; end: number };
  versions: Record<string, string>;
};

export type BenchFigures = {
  machine: Machine;
  date: string;
  durationS: number;
  verification: VerificationResult | { error: string };
  http: HttpResult | { error: string };
  x402: X402Result;
  sync: SyncResult;
  /** Issue #17 (absent in results written before it). */
  groupCommit?: GroupCommitResult | { error: string };
  http64?: Http64Result | { error: string };
  /** The paying 402 page and its script (optional: results written before it was measured). */
  page?: PageSizeResult;
};

export type Target = { name: string; value: number | null; limit: string; met: boolean | null; detail: string };

export type Ratios = {
  verifyOverNative: number | null;
  viemOverOurs: number | null;
  proofP50OverFreeP50: number | null;
  sessionP50OverFreeP50: number | null;
  oursPaidRpsOverX402: number | null;
  x402P50OverOursProofP50: number | null;
};

/** One x402 way's row on a chain, when it was measured. */
function x402Row(chain: X402Chain, way: X402Way): X402Row | null {
  return "rows" in chain ? (chain.rows.find((r) => r.way === way) ?? null) : null;
}

/** The x402 `exact` peer's best paid requests/s on the bench stack's anvil. */
function peerBestRps(f: BenchFigures): number | null {
  const peer = x402Row(f.x402.instant, "peer exact");
  return peer ? Math.max(peer.c1.rps, peer.c32.rps) : null;
}

function scenario(
  http: BenchFigures["http"],
  kind: HttpScenario["kind"],
  concurrency: 1 | 32,
  channels: 0 | 1 | 32,
): LoadResult | null {
  if (!("scenarios" in http)) return null;
  return (
    http.scenarios.find((s) => s.kind === kind && s.concurrency === concurrency && s.channels === channels)?.result ??
    null
  );
}

/** The interleaved (same background load) concurrency-1 figures of one kind. */
function interleaved(http: BenchFigures["http"], kind: "free" | "proof" | "session"): LoadResult | null {
  return "interleaved" in http ? http.interleaved[kind] : null;
}

export function deriveRatios(f: BenchFigures): Ratios {
  const v = "oursUs" in f.verification ? f.verification : null;
  const free1 = interleaved(f.http, "free");
  const proof1 = interleaved(f.http, "proof");
  const session1 = interleaved(f.http, "session");
  const proofBest = scenario(f.http, "proof", 32, 32);
  const peerBest = peerBestRps(f);
  return {
    verifyOverNative: ratio(v?.oursUs, v?.nativeUs),
    viemOverOurs: ratio(v?.viemUs, v?.oursUs),
    proofP50OverFreeP50: ratio(proof1?.p50Ms, free1?.p50Ms),
    sessionP50OverFreeP50: ratio(session1?.p50Ms, free1?.p50Ms),
    oursPaidRpsOverX402: ratio(proofBest?.rps, peerBest),
    x402P50OverOursProofP50: ratio(x402Row(f.x402.instant, "peer exact")?.c1.p50Ms, proof1?.p50Ms),
  };
}

export function deriveTargets(f: BenchFigures, r: Ratios): Target[] {
  const check = (value: number | null, ok: (v: number) => boolean) => (value === null ? null : ok(value));
  const oneChannel = scenario(f.http, "proof", 32, 1);
  const v = "oursUs" in f.verification ? f.verification : null;
  return [
    {
      name: "verification ≤ 3× native libsecp256k1",
      value: r.verifyOverNative,
      limit: "≤ 3",
      met: check(r.verifyOverNative, (x) => x <= 3),
      detail: v ? `${fmt(v.oursUs)} µs vs ${fmt(v.nativeUs)} µs native` : "verification not measured",
    },
    {
      name: "fresh-proof p50 ≤ 1.5× free p50 (concurrency 1)",
      value: r.proofP50OverFreeP50,
      limit: "≤ 1.5",
      met: check(r.proofP50OverFreeP50, (x) => x <= 1.5),
      detail: `${fmt(interleaved(f.http, "proof")?.p50Ms, 2)} ms vs ${fmt(interleaved(f.http, "free")?.p50Ms, 2)} ms (interleaved)`,
    },
    {
      name: "session p50 ≤ 1.2× free p50 (concurrency 1)",
      value: r.sessionP50OverFreeP50,
      limit: "≤ 1.2",
      met: check(r.sessionP50OverFreeP50, (x) => x <= 1.2),
      detail: `${fmt(interleaved(f.http, "session")?.p50Ms, 2)} ms vs ${fmt(interleaved(f.http, "free")?.p50Ms, 2)} ms (interleaved)`,
    },
    {
      name: "paid requests/s ≥ 50× the x402 exact scheme",
      value: r.oursPaidRpsOverX402,
      limit: "≥ 50",
      met: check(r.oursPaidRpsOverX402, (x) => x >= 50),
      detail:
        peerBestRps(f) !== null
          ? `${fmt(scenario(f.http, "proof", 32, 32)?.rps, 0)} vs ${fmt(peerBestRps(f), 1)} req/s`
          : "x402 peer not measured",
    },
    {
      name: "402 page + script ≤ 60 KB gzip",
      value: f.page?.measured ? f.page.totalGzip / 1024 : null,
      limit: "≤ 60",
      met: f.page?.measured ? f.page.totalGzip <= PAGE_BUDGET_GZIP : null,
      detail: f.page?.measured ? `${fmt(f.page.totalGzip / 1024, 1)} KiB` : (f.page?.reason ?? "not measured"),
    },
    {
      name: "one channel accepts ≥ 500 payments/s",
      value: oneChannel?.rps ?? null,
      limit: "≥ 500",
      met: check(oneChannel?.rps ?? null, (x) => x >= 500),
      detail: oneChannel
        ? `fresh proofs, 32 in flight on one channel (${refusedText(oneChannel)}); ` +
          `session requests on one channel: ${fmt(scenario(f.http, "session", 32, 1)?.rps, 0)} req/s`
        : "not measured",
    },
  ];
}

function refusedText(r: LoadResult): string {
  const entries = Object.entries(r.refused);
  if (entries.length === 0) return "none refused";
  return `refused: ${entries.map(([k, n]) => `${n} × ${k}`).join(", ")}`;
}

/** The whole report; `sections` (Markdown) go before the targets. */
export function renderMarkdown(f: BenchFigures, r: Ratios, targets: Target[], sections = ""): string {
  const lines: string[] = [];
  const m = f.machine;
  lines.push(
    `Machine: ${m.cpus} × ${m.cpuModel}, ${fmt(m.memoryGiB, 0)} GiB, Node ${m.node}, ${m.os}. Date: ${f.date}. Bench run: ${fmt(f.durationS, 0)} s.`,
  );
  lines.push(
    `Versions: ${Object.entries(m.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}.`,
  );
  lines.push(
    `Load average (1 min) at start ${fmt(m.loadAverage.start, 2)}, at end ${fmt(m.loadAverage.end, 2)}` +
      (Math.max(m.loadAverage.start, m.loadAverage.end) > m.cpus / 2
        ? ": **other work was running; the figures are pessimistic**."
        : "."),
  );
  lines.push("");

  lines.push("### Verification (one balance proof)");
  lines.push("");
  if ("oursUs" in f.verification) {
    const v = f.verification;
    lines.push("| path | µs per proof | vs native |");
    lines.push("|---|---:|---:|");
    lines.push(
      `| ours: verifyBalanceProof (libsecp256k1 0.5.0 in WebAssembly, cached domain) | ${fmt(v.oursUs)} | ${fmt(ratio(v.oursUs, v.nativeUs), 2)}× |`,
    );
    lines.push(`| viem recoverTypedDataAddress | ${fmt(v.viemUs)} | ${fmt(ratio(v.viemUs, v.nativeUs), 1)}× |`);
    lines.push(`| viem hashTypedData alone | ${fmt(v.viemHashUs)} | |`);
    lines.push(`| native libsecp256k1 recovery | ${fmt(v.nativeUs)} | 1× |`);
    lines.push("");
    lines.push(`Ours is ${fmt(r.viemOverOurs, 1)}× faster than viem. Native figure: ${v.nativeNote}.`);
    lines.push("");
    lines.push(
      "| cold, fresh Node process (median of " +
        v.coldOurs.runs +
        ") | import (ms) | first verification (ms) | second (µs) |",
    );
    lines.push("|---|---:|---:|---:|");
    lines.push(
      `| ours (reads, compiles and instantiates the module on first use) | ${fmt(v.coldOurs.importMs)} | ${fmt(v.coldOurs.firstMs, 2)} | ${fmt(v.coldOurs.secondUs, 0)} |`,
    );
    lines.push(
      `| viem | ${fmt(v.coldViem.importMs)} | ${fmt(v.coldViem.firstMs, 2)} | ${fmt(v.coldViem.secondUs, 0)} |`,
    );
  } else {
    lines.push(`not measured: ${f.verification.error}`);
  }
  lines.push("");

  lines.push("### HTTP through the local Worker (`npm start`'s stack: wrangler dev, workerd, anvil)");
  lines.push("");
  if ("scenarios" in f.http) {
    const il = f.http.interleaved;
    lines.push(
      `Concurrency 1, the three kinds interleaved in ${il.rounds} shuffled rounds (same background load; the p50 ratios come from here):`,
    );
    lines.push("");
    lines.push("| request | ok | p50 (ms) | p99 (ms) | p50 / free p50 |");
    lines.push("|---|---:|---:|---:|---:|");
    for (const kind of ["free", "proof", "session"] as const) {
      const x = il[kind];
      lines.push(
        `| ${kind} | ${x.ok}/${x.sent} | ${fmt(x.p50Ms, 2)} | ${fmt(x.p99Ms, 2)} | ${fmt(ratio(x.p50Ms, il.free.p50Ms), 2)} |`,
      );
    }
    lines.push("");
    lines.push("Each kind on its own (throughput):");
    lines.push("");
    lines.push("| request | concurrency | channels | sent | ok | p50 (ms) | p99 (ms) | ok req/s | refused |");
    lines.push("|---|---:|---:|---:|---:|---:|---:|---:|---|");
    for (const s of f.http.scenarios) {
      const x = s.result;
      lines.push(
        `| ${s.kind} | ${s.concurrency} | ${s.channels || "–"} | ${x.sent} | ${x.ok} | ${fmt(x.p50Ms, 2)} | ${fmt(x.p99Ms, 2)} | ${fmt(x.rps, 0)} | ${Object.keys(x.refused).length ? refusedText(x).replace(/^refused: /, "") : "–"} |`,
      );
    }
  } else {
    lines.push(`not measured: ${f.http.error}`);
  }
  lines.push("");

  renderX402(lines, f, r);

  lines.push("### Chain sync");
  lines.push("");
  if (f.sync.measured) {
    const s = f.sync;
    lines.push(
      `${s.events} events applied in ${fmt(s.ms, 0)} ms (${s.runs} run${s.runs === 1 ? "" : "s"}) via ${s.via}: **${fmt(s.eventsPerSecond, 0)} events/s**.`,
    );
  } else {
    lines.push(`not measured: ${f.sync.reason}`);
  }
  lines.push("");

  lines.push("### The paying 402 page (what a browser downloads to pay)");
  lines.push("");
  if (f.page?.measured) {
    const p = f.page;
    lines.push("| part | bytes | gzip |");
    lines.push("|---|---:|---:|");
    lines.push(`| the 402 page (HTML) | ${p.htmlBytes} | ${p.htmlGzip} |`);
    lines.push(`| its script (immutable, cached a year) | ${p.scriptBytes} | ${p.scriptGzip} |`);
    lines.push(
      `| **together** | ${p.htmlBytes + p.scriptBytes} | **${p.totalGzip}** (${fmt(p.totalGzip / 1024, 1)} KiB) |`,
    );
  } else {
    lines.push(`not measured: ${f.page?.reason ?? "not run"}`);
  }
  lines.push("");

  if (sections) lines.push(sections);
  lines.push("### Targets (issues #7, #14 and #17; reported, not asserted)");
  lines.push("");
  lines.push("| target | value | limit | | detail |");
  lines.push("|---|---:|---:|---|---|");
  for (const t of targets) {
    lines.push(
      `| ${t.name} | ${fmt(t.value, 2)} | ${t.limit} | ${t.met === null ? "not measured" : t.met ? "met" : "**missed**"} | ${t.detail} |`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/** The x402 rows: each way at concurrency 1 and 32, on both chains, with its transactions per 1,000. */
function renderX402(lines: string[], f: BenchFigures, r: Ratios): void {
  lines.push(
    "### x402 v2, paid by @x402/fetch: x402's own peer, and x402 through edge402 (same anvil, token, facilitator)",
  );
  lines.push("");
  lines.push(
    "| way | chain | concurrency | sent | ok | p50 (ms) | p99 (ms) | paid req/s | on-chain tx per 1,000 paid |",
  );
  lines.push("|---|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const [chain, name] of [
    [f.x402.instant, "mines at once"],
    [f.x402.blockTime2s, "2 s blocks"],
  ] as const) {
    if (!("rows" in chain)) {
      lines.push(`| not measured (${name}): ${chain.error} | | | | | | | | |`);
      continue;
    }
    for (const row of chain.rows) {
      for (const x of [row.c1, row.c32]) {
        lines.push(
          `| ${row.way} | ${name} | ${x.concurrency} | ${x.sent} | ${x.ok} | ${fmt(x.p50Ms, 1)} | ${fmt(x.p99Ms, 1)} | ${fmt(x.rps, 1)} | ${fmt(row.transactionsPer1000, 1)} (${row.transactions} for ${row.paid}) |`,
        );
      }
    }
  }
  lines.push("");
  lines.push(
    "Every paid request is two round trips (the unpaid one that gets the 402, then the paid retry), as @x402/fetch sends " +
      "them. `exact`: an EIP-3009 signature, /verify and /settle at the local facilitator, one transferWithAuthorization " +
      "mined before the answer; `channel`: edge402's scheme, prepaying ten prices a proof and spending the credit through " +
      "its session token, one transaction (the channel's opening, with permit) for the whole run. " +
      `Ours (fresh RDN-* proof, 32 channels) / the x402 peer's paid req/s on the same anvil: ${fmt(r.oursPaidRpsOverX402, 1)}×; ` +
      `the peer's p50 / our fresh-proof p50 at concurrency 1: ${fmt(r.x402P50OverOursProofP50, 1)}×.`,
  );
}
