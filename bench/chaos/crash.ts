// Scenario 1, crash: 32 payers (half paying with fresh proofs, half spending session credit,
// each on its own channel) keep paying while the workerd process that runs the Worker and its
// Durable Objects is killed with SIGKILL at random moments. Wrangler's runtime supervisor
// restarts it on the same state directory; every other kill also restarts wrangler itself from
// the state dir (unless `restartWrangler` is off). Afterwards every channel is read back (the object through the public API, the
// D1 projection through the admin API) and judged against what the client saw: every 200 is
// in C, B is at least the highest proof answered 200 and is one the client signed, with that
// proof's signature; nothing answered 200 was lost or rolled back. wrangler dev's proxy sends a
// GET again when the runtime dies under it (ProxyWorker: GET and HEAD, up to two more tries),
// so a session spend that was charged and durable when the kill came is charged once more by
// the re-sent copy and answered once: each session spend in flight at a kill may add one price
// to what the client sent. Production has no such proxy; the figure is reported on its own.
// Last, one kill lands inside a chain-sync run (sync-kill.ts): how long its lease holds the next up.
import type { Stack } from "../../scripts/stack.js";
import { openChannels } from "../channels.js";
import { killInsideSync, type SyncKillResult } from "./sync-kill.js";
import {
  adminChannel,
  heldProof,
  Ledger,
  payProof,
  PRICE,
  publicChannel,
  send,
  sleep,
  slots,
  spendSession,
  tally,
  waitFor,
  type Progress,
} from "./harness.js";

export type CrashOptions = {
  payers: number;
  kills: number;
  minGapMs: number;
  maxGapMs: number;
  /** Whether every other kill also restarts wrangler (slow: the smoke leaves it out). */
  restartWrangler: boolean;
};
export const CRASH_FULL: CrashOptions = {
  payers: 32,
  kills: 10,
  minGapMs: 2_000,
  maxGapMs: 6_000,
  restartWrangler: true,
};

export type CrashResult = {
  payers: number;
  kills: number;
  fullRestarts: number;
  /** Requests answered 200 (each one an accepted payment). */
  accepted: number;
  acceptedProofs: number;
  acceptedSessions: number;
  /** Requests with no answer or a 5xx while the runtime was down: outcome unknown. */
  unknown: number;
  refused: Record<string, number>;
  /** Accepted payments missing from C after the restarts, plus proofs rolled back below B. */
  lost: number;
  rolledBack: number;
  /** Channels whose stored B is not a proof the client signed, or whose signature differs. */
  badProofs: number;
  /** C above what the client sent (accepted + unknown outcome): charged for nothing. */
  overcharged: number;
  /** A 200 whose C was below an earlier 200's on the same channel. */
  rollbacksSeen: number;
  /** Proofs refused as already used because an earlier delivery of the same request (a retry
   *  after the crash) was accepted: paid, but the client never saw the 200. */
  acceptedUnseen: number;
  /** Session spends in flight at a kill: wrangler dev's proxy may have re-sent them (one more charge). */
  sessionSpendsAtKill: number;
  /** Channels whose D1 projection did not reach the object's B and C after the run. */
  projectionMismatches: number;
  recoveryMs: number[];
  /** The kill inside a sync run (absent in results from before it existed). */
  syncKill?: SyncKillResult;
  durationS: number;
};

/** Kills the runtime (noting when in `kills`), waits until the Worker answers again; returns how long that took. */
async function killAndRecover(stack: Stack, full: boolean, kills: number[]): Promise<number> {
  const t0 = Date.now();
  kills.push(t0);
  stack.killWorker("SIGKILL");
  if (full) await stack.restartWorker();
  await waitFor("the Worker to answer after the kill", async () =>
    (await send(`${stack.url}/api/1/stats`, {}, 5_000)).status === 200 ? true : undefined,
  );
  return Date.now() - t0;
}

/** Session spends per ledger: when each was sent and answered (ms), to find those in flight at a kill. */
const sessionSpans = new WeakMap<Ledger, Array<[number, number]>>();

/** Judges one channel after the run; adds to `r`. */
async function judge(stack: Stack, ledger: Ledger, r: CrashResult, kills: number[]): Promise<void> {
  const server = await publicChannel(stack, ledger.channel);
  const missing = ledger.acceptedCost - server.charged;
  if (missing > 0n) r.lost += Number(missing / PRICE);
  const atKill = (sessionSpans.get(ledger) ?? []).filter(([t0, t1]) => kills.some((k) => t0 <= k && k <= t1)).length;
  r.sessionSpendsAtKill += atKill;
  if (server.charged > ledger.acceptedCost + ledger.unknownCost + BigInt(atKill) * PRICE) r.overcharged++;
  if (server.balance < ledger.maxAccepted) {
    const rolled = [...ledger.signed.keys()].filter((n) => n > server.balance && n <= ledger.maxAccepted).length;
    r.rolledBack += rolled;
    r.lost += rolled;
  }
  const held = await heldProof(stack, ledger.channel);
  const signed = ledger.signed.get(server.balance);
  if (held.balance !== server.balance || (server.balance > 0n && held.signature !== signed)) r.badProofs++;
  r.rollbacksSeen += ledger.rollbacksSeen;
  r.acceptedUnseen += ledger.acceptedUnseen;
  const projected = await waitFor(
    "the projection",
    async () => {
      const { projection } = await adminChannel(stack, ledger.channel);
      return projection &&
        BigInt(projection.charged) === server.charged &&
        BigInt(projection.balance) === server.balance
        ? true
        : undefined;
    },
    15_000,
  ).catch(() => false);
  if (!projected) r.projectionMismatches++;
}

/** One payer's next request: a proof payer pays a fresh proof; a session payer spends, and
 *  buys credit (a proof with 200 requests' surplus) when it has none or no session. */
async function payOnce(stack: Stack, ledger: Ledger, proofs: boolean): Promise<string> {
  if (proofs || !ledger.session) return (await payProof(stack, ledger, PRICE, proofs ? 0n : 200n * PRICE)).label;
  const t0 = Date.now();
  const spent = await spendSession(stack, ledger);
  const spans = sessionSpans.get(ledger) ?? [];
  spans.push([t0, Date.now()]);
  sessionSpans.set(ledger, spans);
  if (spent.label.includes("insufficient_credit") || spent.label.includes("invalid_session"))
    ledger.session = undefined;
  return spent.label;
}

export async function crashScenario(stack: Stack, opts: CrashOptions, progress: Progress): Promise<CrashResult> {
  const started = Date.now();
  progress(`crash: opening ${opts.payers} channels`);
  const ledgers = (await openChannels(stack, opts.payers, 10n ** 15n)).map((ch) => new Ledger(ch));
  const r: CrashResult = {
    payers: opts.payers,
    kills: 0,
    fullRestarts: 0,
    accepted: 0,
    acceptedProofs: 0,
    acceptedSessions: 0,
    unknown: 0,
    refused: {},
    lost: 0,
    rolledBack: 0,
    badProofs: 0,
    overcharged: 0,
    rollbacksSeen: 0,
    acceptedUnseen: 0,
    sessionSpendsAtKill: 0,
    projectionMismatches: 0,
    recoveryMs: [],
    durationS: 0,
  };
  const kills: number[] = [];
  let stop = false;
  const load = slots(
    opts.payers,
    () => stop,
    async (slot) => {
      const l = await payOnce(stack, ledgers[slot]!, slot % 2 === 0);
      if (l !== "200" && !l.startsWith("error") && !l.startsWith("5")) tally(r.refused, l);
      if (l.startsWith("error") || l.startsWith("5")) await sleep(100);
    },
  );
  try {
    for (let k = 0; k < opts.kills; k++) {
      await sleep(opts.minGapMs + Math.random() * (opts.maxGapMs - opts.minGapMs));
      const full = opts.restartWrangler && k % 2 === 1;
      const ms = await killAndRecover(stack, full, kills);
      r.kills++;
      if (full) r.fullRestarts++;
      r.recoveryMs.push(ms);
      progress(
        `crash: kill -9 ${k + 1}/${opts.kills}${full ? " (and wrangler restarted)" : ""}: answering again after ${(ms / 1000).toFixed(1)} s`,
      );
    }
    await sleep(1_000);
  } finally {
    stop = true;
    await load;
  }
  progress("crash: reading every channel back");
  for (const [i, ledger] of ledgers.entries()) {
    r.accepted += ledger.accepted;
    if (i % 2 === 0) r.acceptedProofs += ledger.accepted;
    else r.acceptedSessions += ledger.accepted;
    r.unknown += ledger.unknown;
    await judge(stack, ledger, r, kills);
  }
  r.syncKill = await killInsideSync(stack, progress);
  r.durationS = (Date.now() - started) / 1000;
  return r;
}
