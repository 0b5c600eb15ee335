// Unit tests of how a chunk's events are cut into object calls under a budget (run.ts
// `planForward`): a prefix in chain order, one call per channel's run of events, busy channels
// split at MAX_EVENTS_PER_CALL, so a run can stop inside a chunk and the next resumes after it.
import type { Address } from "viem";
import { describe, expect, it } from "vitest";
import type { ChainEvent } from "../channel/events.js";
import { MAX_EVENTS_PER_CALL, planForward } from "./run.js";

const ev = (sender: string, i: number): ChainEvent => ({
  id: `0xb:${i}`,
  name: "ChannelToppedUp",
  blockNumber: 100 + Math.floor(i / 10),
  logIndex: i % 10,
  sender: sender as Address,
  openBlock: 7,
  amount: 1n,
});

describe("planForward", () => {
  it("takes the longest prefix the budget carries, one call per channel", () => {
    const events = ["0xa", "0xb", "0xa", "0xc", "0xb", "0xd"].map((s, i) => ev(s, i));
    expect(planForward(events, 10)).toMatchObject({ taken: 6 });
    expect(planForward(events, 10).calls.map((c) => c.length)).toEqual([2, 2, 1, 1]);
    const two = planForward(events, 2);
    expect(two.taken).toBe(3); // a, b, a: the fourth event needs a third channel
    expect(two.calls.flat().map((e) => e.logIndex)).toEqual([0, 2, 1]);
    expect(planForward(events, 0)).toEqual({ calls: [], taken: 0 });
  });

  it("splits a busy channel's events into calls of at most MAX_EVENTS_PER_CALL, in order", () => {
    const events = Array.from({ length: MAX_EVENTS_PER_CALL * 2 + 1 }, (_, i) => ev("0xa", i));
    const all = planForward(events, 5);
    expect(all.calls.map((c) => c.length)).toEqual([MAX_EVENTS_PER_CALL, MAX_EVENTS_PER_CALL, 1]);
    expect(all.calls.flat()).toEqual(events);
    expect(planForward(events, 1).taken).toBe(MAX_EVENTS_PER_CALL);
  });
});
