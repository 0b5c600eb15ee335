// Scenario 5, reorgs: `rounds` random reorgs of depth 1-20 while two background channels keep
// paying (proofs and sessions) and four "victim" channels (deposit 100) are topped up on a fork
// that is then replaced. Each round: snapshot (evm_snapshot), top up one or two victims on the
// fork (fork A) and mine it to the drawn depth; once the sync has read fork A, each victim pays
// a proof for its whole new deposit (the rest is credit). Then the fork is reverted (evm_revert)
// and a longer one mined (fork B) that re-includes a smaller top-up or none. After the sync has
// undone the reorg, the first victim of the round reads a metered event stream paid from its
// session, then each victim spends its session credit until refused and offers a proof one
// step above the chain's deposit: the paywall must not serve anything that takes C (or an
// accepted B) above the deposit on chain. Then every object and D1 projection must equal the
// chain (deposit) and each other (B, C).
import { mine, revert, snapshot } from "../../scripts/anvil.js";
import type { Stack } from "../../scripts/stack.js";
import { maxBigint } from "../../src/protocol/amount.js";
import { openChannels, proofHeaders, signProof, type BenchChannel } from "../channels.js";
import {
  chainDeposit,
  depositMismatches,
  fund,
  headBlock,
  Ledger,
  payProof,
  publicChannel,
  send,
  sleep,
  slots,
  spendSession,
  syncedToHead,
  syncStats,
  tally,
  topUp,
  waitFor,
  type Progress,
} from "./harness.js";

export type ReorgOptions = { rounds: number; victims: number };
export const REORGS_FULL: ReorgOptions = { rounds: 12, victims: 4 };

export type ReorgResult = {
  rounds: number;
  depths: number[];
  reorgsSeenBySync: number;
  topUpsDropped: number;
  background: Record<string, number>;
  /** Requests served after the sync settled a reorg that took C (or an accepted B) above the
   *  deposit on chain. */
  servedAboveDeposit: number;
  /** Probes after the sync settled: session spends and proofs above the deposit. */
  probes: Record<string, number>;
  /** Channels whose object or projection differed from the chain (or each other) after the run. */
  projectionMismatches: number;
  durationS: number;
};

const PRICE = 5n;

/** After the sync settled: spends credit until refused (at most 60), then offers a proof one step
 *  above the chain's deposit. Counts what was served above the chain's deposit. */
async function probeVictim(stack: Stack, ledger: Ledger, r: ReorgResult): Promise<void> {
  const onChain = await chainDeposit(stack, ledger.channel);
  for (let i = 0; i < 60; i++) {
    const { answer, label } = await spendSession(stack, ledger);
    tally(r.probes, `session ${label}`);
    if (answer.status !== 200) break;
    const charged = BigInt(answer.headers.get("RDN-Sender-Balance")!) - BigInt(answer.headers.get("RDN-Credit")!);
    if (charged > onChain) r.servedAboveDeposit++;
  }
  const s = await publicChannel(stack, ledger.channel);
  const n = maxBigint(s.balance, onChain) + PRICE;
  const a = await send(`${stack.url}/echofix/above`, {
    headers: proofHeaders(ledger.channel, n, await signProof(stack, ledger.channel, n)),
  });
  tally(r.probes, `proof above the deposit ${a.status}`);
  if (a.status === 200) r.servedAboveDeposit++;
}

/** After the sync settled: a metered event stream (demo /stream, 2 per event, reserved 20 at a
 *  time) paid from the session's credit, read to its end; its slices must stop at the chain's
 *  deposit too. Counts a stream that took C above it as served above the deposit. */
async function probeStream(stack: Stack, ledger: Ledger, r: ReorgResult): Promise<void> {
  const onChain = await chainDeposit(stack, ledger.channel);
  const before = (await publicChannel(stack, ledger.channel)).charged;
  const a = await send(`${stack.url}/stream/60`, { headers: { "RDN-Session": ledger.session ?? "" } });
  tally(r.probes, `stream ${a.status}${a.text.includes("rdn-payment-required") ? " (ended: payment required)" : ""}`);
  const after = (await publicChannel(stack, ledger.channel)).charged;
  // C may already be above the deposit (a proof accepted on the dropped fork): what the stream
  // adds on top of that, or past the deposit, is what it served for nothing.
  if (after > maxBigint(before, onChain)) {
    r.servedAboveDeposit++;
    tally(r.probes, `stream above the deposit: C ${before} -> ${after}, deposit ${onChain}`);
  }
}

/** A victim pays a proof for its whole deposit as the paywall knows it (credit for the rest). */
async function spendWhole(stack: Stack, ledger: Ledger): Promise<void> {
  const s = await publicChannel(stack, ledger.channel);
  if (s.deposit <= ledger.lastSent + PRICE) return;
  await payProof(stack, ledger, PRICE, s.deposit - ledger.lastSent - PRICE);
}

async function round(stack: Stack, victims: Ledger[], r: ReorgResult, progress: Progress): Promise<void> {
  const depth = 1 + Math.floor(Math.random() * 20);
  r.depths.push(depth);
  await syncedToHead(stack);
  const reorgsBefore = (await syncStats(stack)).sync?.reorgs ?? 0;
  const snap = await snapshot(stack.rpcUrl);
  const start = await headBlock(stack);
  const lifted = victims.filter(() => Math.random() < 0.6).slice(0, depth);
  if (lifted.length === 0) lifted.push(victims[Math.floor(Math.random() * victims.length)]!);
  for (const v of lifted.slice(0, depth)) await topUp(stack, v.channel, 100n, true);
  const used = (await headBlock(stack)) - start;
  if (depth > used) await mine(stack.rpcUrl, depth - used);
  await syncedToHead(stack);
  for (const v of lifted) await spendWhole(stack, v);
  if (!(await revert(stack.rpcUrl, snap))) throw new Error("evm_revert refused the snapshot");
  const keep = lifted.filter(() => Math.random() < 0.3);
  for (const v of keep) await topUp(stack, v.channel, 40n, true);
  r.topUpsDropped += lifted.length - keep.length;
  const mined = (await headBlock(stack)) - start;
  await mine(stack.rpcUrl, Math.max(1, Math.max(depth, used) + 1 - mined));
  await waitFor("the sync to see the reorg", async () =>
    ((await syncStats(stack)).sync?.reorgs ?? 0) > reorgsBefore ? true : undefined,
  );
  await syncedToHead(stack);
  await probeStream(stack, lifted[0]!, r);
  for (const v of victims) await probeVictim(stack, v, r);
  progress(`reorgs: depth ${depth}, ${lifted.length} top-up(s) on the dropped fork, ${keep.length} re-mined`);
}

export async function reorgScenario(stack: Stack, o: ReorgOptions, progress: Progress): Promise<ReorgResult> {
  const started = Date.now();
  const r: ReorgResult = {
    rounds: o.rounds,
    depths: [],
    reorgsSeenBySync: 0,
    topUpsDropped: 0,
    background: {},
    servedAboveDeposit: 0,
    probes: {},
    projectionMismatches: 0,
    durationS: 0,
  };
  progress(`reorgs: opening ${o.victims} victim channels (deposit 100) and 2 background channels`);
  const victimChannels: BenchChannel[] = await openChannels(stack, o.victims, 100n);
  await fund(stack, victimChannels[0]!.account, 10n ** 9n);
  const victims = victimChannels.map((ch) => new Ledger(ch));
  for (const v of victims) await payProof(stack, v, PRICE, 20n);
  const background = (await openChannels(stack, 2, 10n ** 12n)).map((ch) => new Ledger(ch));
  const reorgsAtStart = (await syncStats(stack)).sync?.reorgs ?? 0;
  let stop = false;
  const load = slots(
    2,
    () => stop,
    async (slot) => {
      const l = background[slot]!;
      const res =
        slot === 0 || !l.session
          ? await payProof(stack, l, PRICE, slot === 0 ? 0n : 5_000n)
          : await spendSession(stack, l);
      tally(r.background, res.label);
      await sleep(20);
    },
  );
  try {
    for (let i = 0; i < o.rounds; i++) await round(stack, victims, r, progress);
  } finally {
    stop = true;
    await load;
  }
  r.reorgsSeenBySync = ((await syncStats(stack)).sync?.reorgs ?? 0) - reorgsAtStart;
  await syncedToHead(stack);
  r.projectionMismatches = await depositMismatches(stack, [...victimChannels, ...background.map((l) => l.channel)]);
  r.durationS = (Date.now() - started) / 1000;
  return r;
}
