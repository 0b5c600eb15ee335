// Scenario 2, chain node outage. The Worker's RPC_URL is a fault-injecting proxy in front of
// anvil (rpc-proxy.ts), passing everything through until part B.
// A. anvil is paused (SIGSTOP) for `pauseMs` while known channels keep paying by proof and by
//    session; a channel the Worker never met must get 503 chain_unavailable with the JSON body;
//    a sender's cheating uncooperative close is mined just before the pause, so its dispute
//    falls due during the outage. After SIGCONT the chain moves on fast (anvil_mine, 20 blocks
//    every 0.5 s, against a 500-block challenge) and the dispute must land before the settle
//    block; top-ups from before and after the pause must all reach the objects and the D1
//    projection, and the sync's event count must equal the contract's.
// B. The node answers garbage (delays, 5xx, bodies that are not JSON, wrong ids, cut bodies) at
//    `faultRate` for `faultMs`: known channels keep being served, new channels get 200 or 503
//    chain_unavailable (never a 500, always JSON), and once the node heals the sync catches up
//    and every deposit the Worker learned or synced equals the chain's.
import { microTransferChannelsAbi } from "../../src/protocol/abi.js";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { freePort, mine } from "../../scripts/anvil.js";
import type { Stack } from "../../scripts/stack.js";
import { openChannels, proofHeaders, signProof, type BenchChannel } from "../channels.js";
import {
  adminSync,
  chaosStack,
  contractEventCount,
  depositMismatches,
  errorCodeOf,
  headBlock,
  Ledger,
  payProof,
  send,
  sleep,
  slots,
  spendSession,
  syncedToHead,
  tally,
  topUp,
  transact,
  type Answer,
  type Progress,
} from "./harness.js";
import { startRpcProxy, type RpcProxy } from "./rpc-proxy.js";

export type OutageOptions = { pauseMs: number; faultMs: number; faultRate: number; slots: number };
export const OUTAGE_FULL: OutageOptions = { pauseMs: 30_000, faultMs: 30_000, faultRate: 0.5, slots: 8 };

type Phase = { sent: number; ok: number; byLabel: Record<string, number> };
type Probe = { status: number; code: string | null; json: boolean; ms: number };

export type OutageResult = {
  pauseS: number;
  /** Known channels' requests before, during and after the pause. */
  known: { before: Phase; paused: Phase; after: Phase };
  /** Requests for channels the Worker never met, sent during the pause. */
  unknownDuringPause: Probe[];
  syncResumedS: number;
  eventsOnChain: number;
  eventsApplied: number;
  depositMismatches: number;
  dispute: {
    closeBlock: number;
    settleBlock: number;
    disputeBlock: number | null;
    balance: string | null;
    spareBlocks: number | null;
  };
  faultyNode: {
    seconds: number;
    rate: number;
    faults: RpcProxy["counts"];
    known: Phase;
    unknown: Record<string, number>;
    /** Answers that are 500, or an error status without the JSON error body. */
    bad: number;
    syncErrorsSeen: boolean;
    depositMismatches: number;
  };
  durationS: number;
};

const phase = (): Phase => ({ sent: 0, ok: 0, byLabel: {} });

function record(p: Phase, a: Answer, l: string): void {
  p.sent++;
  if (a.status === 200) p.ok++;
  tally(p.byLabel, l);
}

/** A paid request for a channel the Worker has not met yet (its first payment). */
async function firstPayment(stack: Stack, ch: BenchChannel): Promise<Answer> {
  return send(`${stack.url}/echofix/first`, { headers: proofHeaders(ch, 5n, await signProof(stack, ch, 5n)) }, 90_000);
}

const probeOf = (a: Answer): Probe => {
  const code = errorCodeOf(a);
  return { status: a.status, code, json: code !== null, ms: Math.round(a.ms) };
};

/** Known channels pay in `n` slots (even: proofs, odd: sessions) into the current phase. */
function knownLoad(stack: Stack, ledgers: Ledger[], current: () => Phase, stopped: () => boolean) {
  return slots(ledgers.length, stopped, async (slot) => {
    const ledger = ledgers[slot]!;
    const r =
      slot % 2 === 0 || !ledger.session
        ? await payProof(stack, ledger, 5n, slot % 2 === 0 ? 0n : 10_000n)
        : await spendSession(stack, ledger);
    record(current(), r.answer, r.label);
    await sleep(50);
  });
}

async function openDispute(stack: Stack, progress: Progress) {
  const [ch] = await openChannels(stack, 1, 1_000n);
  const ledger = new Ledger(ch!);
  for (let i = 0; i < 3; i++) await payProof(stack, ledger);
  if (ledger.accepted !== 3) throw new Error("the dispute channel's payments were refused");
  const receipt = await transact(stack, ch!.account, {
    address: stack.contract,
    abi: microTransferChannelsAbi,
    functionName: "uncooperativeClose",
    args: [stack.receiver, ch!.openBlock, 0n],
  });
  const closeBlock = Number(receipt.blockNumber);
  progress(`outage: ${ch!.sender} paid 15, then closed claiming 0 at block ${closeBlock}`);
  return { ch: ch!, closeBlock, settleBlock: closeBlock + 500 };
}

/** Mines 20 blocks every 0.5 s until the dispute's ChannelSettled is there or the settle block passed. */
async function driveDispute(stack: Stack, d: { ch: BenchChannel; closeBlock: number; settleBlock: number }) {
  const { createPublicClient, http } = await import("viem");
  const pub = createPublicClient({ transport: http(stack.rpcUrl) });
  for (;;) {
    const [settled] = await pub.getContractEvents({
      address: stack.contract,
      abi: microTransferChannelsAbi,
      eventName: "ChannelSettled",
      args: { sender: d.ch.sender, receiver: stack.receiver, openBlock: d.ch.openBlock },
      fromBlock: BigInt(d.closeBlock),
    });
    if (settled) {
      const block = Number(settled.blockNumber);
      return { disputeBlock: block, balance: String(settled.args.balance), spareBlocks: d.settleBlock - block };
    }
    if ((await headBlock(stack)) >= d.settleBlock) return { disputeBlock: null, balance: null, spareBlocks: null };
    await mine(stack.rpcUrl, 20);
    await sleep(500);
  }
}

/** Channel identities no chain has: fresh keys, an open block near the head. */
async function strangerChannels(stack: Stack, n: number): Promise<BenchChannel[]> {
  const head = await headBlock(stack);
  return Array.from({ length: n }, (_, i) => {
    const account = privateKeyToAccount(generatePrivateKey());
    return { account, sender: account.address, openBlock: head - i, deposit: 0n };
  });
}

async function pausePart(stack: Stack, r: OutageResult, known: Ledger[], opts: OutageOptions, progress: Progress) {
  const strangers = await strangerChannels(stack, 3);
  let current = r.known.before;
  let stop = false;
  const load = knownLoad(
    stack,
    known,
    () => current,
    () => stop,
  );
  await sleep(2_000);
  await topUp(stack, known[0]!.channel, 1_000n);
  const dispute = await openDispute(stack, progress);
  process.kill(stack.anvilPid, "SIGSTOP");
  progress(`outage: SIGSTOP anvil (pid ${stack.anvilPid}) for ${opts.pauseMs / 1000} s, load going on`);
  const t0 = Date.now();
  current = r.known.paused;
  try {
    const probes = Promise.all(strangers.map((ch) => firstPayment(stack, ch)));
    r.unknownDuringPause = (await probes).map(probeOf);
    await sleep(Math.max(0, opts.pauseMs - (Date.now() - t0)));
  } finally {
    process.kill(stack.anvilPid, "SIGCONT");
  }
  r.pauseS = (Date.now() - t0) / 1000;
  current = r.known.after;
  progress(`outage: SIGCONT after ${r.pauseS.toFixed(1)} s; moving the chain 20 blocks every 0.5 s`);
  const { ch: _ch, ...due } = dispute;
  r.dispute = { ...due, ...(await driveDispute(stack, dispute)) };
  await topUp(stack, known[1]!.channel, 1_000n);
  const t1 = Date.now();
  await syncedToHead(stack, 120_000);
  r.syncResumedS = (Date.now() - t1) / 1000;
  stop = true;
  await load;
  r.eventsOnChain = await contractEventCount(stack);
  r.eventsApplied = (await adminSync(stack)).eventsApplied;
  r.depositMismatches = await depositMismatches(
    stack,
    known.map((l) => l.channel),
  );
}

async function faultPart(stack: Stack, proxy: RpcProxy, known: Ledger[], opts: OutageOptions, progress: Progress) {
  const f: OutageResult["faultyNode"] = {
    seconds: opts.faultMs / 1000,
    rate: opts.faultRate,
    faults: proxy.counts,
    known: phase(),
    unknown: {},
    bad: 0,
    syncErrorsSeen: false,
    depositMismatches: 0,
  };
  const strangers = await openChannels(stack, 6, 1_000n);
  progress(`outage: the node answers garbage (${opts.faultRate * 100}% of requests) for ${f.seconds} s`);
  for (const k of Object.keys(proxy.counts)) proxy.counts[k as keyof RpcProxy["counts"]] = 0;
  proxy.setRate(opts.faultRate);
  let stop = false;
  const load = knownLoad(
    stack,
    known,
    () => f.known,
    () => stop,
  );
  const check = (a: Answer, l: string) => {
    if (a.status === 500 || (a.status >= 400 && errorCodeOf(a) === null)) f.bad++;
    return l;
  };
  const deadline = Date.now() + opts.faultMs;
  const newcomers = strangers.map((ch) => new Ledger(ch));
  const work = (async () => {
    await topUp(stack, known[2]!.channel, 1_000n);
    while (Date.now() < deadline) {
      for (const ledger of newcomers) {
        const { answer, label: l } = await payProof(stack, ledger);
        tally(f.unknown, check(answer, l));
      }
      f.syncErrorsSeen ||= (await adminSync(stack)).lastError !== null;
      await mine(stack.rpcUrl, 1);
    }
  })();
  await work;
  proxy.setRate(0);
  stop = true;
  await load;
  for (const [l, n] of Object.entries(f.known.byLabel)) if (l.startsWith("500") || l.includes("(not JSON)")) f.bad += n;
  progress("outage: node healed; waiting for the sync to catch up");
  await syncedToHead(stack, 120_000);
  f.depositMismatches = await depositMismatches(stack, [...known.map((l) => l.channel), ...strangers]);
  return f;
}

/** A stack whose Worker reads the chain through the fault proxy (RPC_URL), anvil on a port
 *  chosen first so the proxy can point at it. */
export async function proxiedStack(): Promise<{ stack: Stack; proxy: RpcProxy }> {
  const anvilPort = await freePort();
  const proxy = await startRpcProxy(`http://127.0.0.1:${anvilPort}`);
  try {
    return { stack: await chaosStack({ RPC_URL: proxy.url }, { anvilPort }), proxy };
  } catch (err) {
    await proxy.stop();
    throw err;
  }
}

/** Runs the scenario on `given` (a proxiedStack the caller stops), or on a stack of its own. */
export async function outageScenario(
  opts: OutageOptions,
  progress: Progress,
  given?: { stack: Stack; proxy: RpcProxy },
): Promise<OutageResult> {
  const started = Date.now();
  if (!given) progress("outage: starting the stack with RPC_URL through the fault proxy");
  const { stack, proxy } = given ?? (await proxiedStack());
  const r = {
    known: { before: phase(), paused: phase(), after: phase() },
    unknownDuringPause: [],
    dispute: {},
  } as unknown as OutageResult;
  try {
    const known = (await openChannels(stack, opts.slots, 10n ** 15n)).map((ch) => new Ledger(ch));
    for (const l of known) await payProof(stack, l, 5n, 10_000n);
    await pausePart(stack, r, known, opts, progress);
    r.faultyNode = await faultPart(stack, proxy, known, opts, progress);
  } finally {
    if (!given) {
      await stack.stop();
      await proxy.stop();
    }
  }
  r.durationS = (Date.now() - started) / 1000;
  return r;
}
