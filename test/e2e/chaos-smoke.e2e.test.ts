// A short chaos run inside `npm test` (the full one is `npm run chaos`, bench/chaos/run.ts): the
// same scenario code against one real stack, smaller. Two kill -9 of workerd under 8 payers and
// one inside a sync run, a 3-second pause of anvil and a short spell of a garbage-answering node, about 120 double-spend
// attempts, and 500 fuzzed requests. Each promise is asserted as a count (the one bound in seconds is
// the sync lease's length, read from D1, not a speed), never as a measured time.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../scripts/stack.js";
import { crashScenario } from "../../bench/chaos/crash.js";
import { fuzzScenario } from "../../bench/chaos/fuzz.js";
import { outageScenario, proxiedStack } from "../../bench/chaos/outage.js";
import { raceScenario } from "../../bench/chaos/races.js";
import type { RpcProxy } from "../../bench/chaos/rpc-proxy.js";

const quiet = () => undefined;
let stack: Stack;
let proxy: RpcProxy;

// One stack for the four (the outage needs the Worker's RPC_URL through the fault proxy, which
// passes everything through until it runs), so the smoke pays for one start. The crash comes
// first and ends with a kill inside a sync run: the outage's dispute, on a chain moved 40 blocks
// a second, must then land within seconds, which a lease left by the killed run would prevent.
beforeAll(async () => {
  ({ stack, proxy } = await proxiedStack());
});

afterAll(async () => {
  await stack?.stop();
  await proxy?.stop();
});

describe("chaos smoke", () => {
  it("crash: two kill -9 of workerd under 8 payers lose no accepted payment, roll nothing back, and a kill inside a sync run holds the next up 15 s at most", async () => {
    const r = await crashScenario(
      stack,
      { payers: 8, kills: 2, minGapMs: 1_000, maxGapMs: 2_000, restartWrangler: false },
      quiet,
    );
    expect(r.kills).toBe(2);
    expect(r.accepted).toBeGreaterThan(0);
    expect({
      lost: r.lost,
      rolledBack: r.rolledBack,
      badProofs: r.badProofs,
      overcharged: r.overcharged,
      rollbacksSeen: r.rollbacksSeen,
      projectionMismatches: r.projectionMismatches,
    }).toEqual({ lost: 0, rolledBack: 0, badProofs: 0, overcharged: 0, rollbacksSeen: 0, projectionMismatches: 0 });
    // A run killed inside the sync holds the next up for the lease's 15 s at most, then it catches up.
    expect(r.syncKill!.leaseLeftS).toBeGreaterThan(0); // the kill did land inside the run
    expect(r.syncKill!.leaseLeftS).toBeLessThanOrEqual(15);
    expect(r.syncKill!.caughtUp).toBe(true);
  }, 180_000);

  it("outage: known channels are served through a paused node, strangers get 503 chain_unavailable, the dispute lands", async () => {
    const r = await outageScenario({ pauseMs: 3_000, faultMs: 3_000, faultRate: 0.5, slots: 4 }, quiet, {
      stack,
      proxy,
    });
    expect(r.known.paused.sent).toBeGreaterThan(0);
    expect(r.known.paused.ok).toBe(r.known.paused.sent);
    expect(r.unknownDuringPause.map((u) => [u.status, u.code])).toEqual([
      [503, "chain_unavailable"],
      [503, "chain_unavailable"],
      [503, "chain_unavailable"],
    ]);
    expect(r.dispute.balance).toBe("15");
    expect(r.dispute.disputeBlock).toBeLessThan(r.dispute.settleBlock);
    expect(r.eventsApplied).toBe(r.eventsOnChain);
    expect(r.depositMismatches).toBe(0);
    expect(r.faultyNode.known.ok).toBe(r.faultyNode.known.sent);
    expect(r.faultyNode.bad).toBe(0);
    expect(r.faultyNode.depositMismatches).toBe(0);
  }, 240_000);

  it("races: replayed proofs, sessions past their credit and proofs racing a close are never served twice", async () => {
    const r = await raceScenario(stack, { proofRounds: 4, copies: 8, sessionRounds: 4, credit: 5, closes: 4 }, quiet);
    expect(r.attempts).toBeGreaterThanOrEqual(100);
    expect(r.byKind.sameProof.served).toBe(4);
    expect({
      doubleAccepts: r.doubleAccepts,
      chargeMismatches: r.chargeMismatches,
      replaysServed: r.replaysServed,
    }).toEqual({ doubleAccepts: 0, chargeMismatches: 0, replaysServed: 0 });
  }, 120_000);

  it("fuzz: 500 generated requests get no 5xx, only stable JSON refusals, and refusals change nothing", async () => {
    const r = await fuzzScenario(stack, { cases: 500, batch: 16, seed: Date.now() % 100_000 }, "smoke", quiet);
    expect(r.cases).toBe(500);
    expect(r.served).toBeGreaterThan(0);
    expect({
      fiveXX: r.fiveXX,
      noAnswer: r.noAnswer,
      badRefusals: r.badRefusals,
      multipleFlags: r.multipleFlags,
      stateChangesOnRefusal: r.stateChangesOnRefusal,
      samples: r.samples,
    }).toEqual({ fiveXX: 0, noAnswer: 0, badRefusals: 0, multipleFlags: 0, stateChangesOnRefusal: 0, samples: [] });
  }, 180_000);
});
