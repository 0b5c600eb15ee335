// Group commit in one channel object (src/worker/channel/group-commit.ts): payments that arrive
// while a write is in flight are decided in arrival order and written together by the next
// write, and no reply leaves before the write holding its decision; an object that crashes
// between writes keeps every payment it acknowledged. The object is called directly: it trusts
// the Worker for signatures and is taught its channel the way a chain look-up would.
import { env, runInDurableObject } from "cloudflare:test";
import type { Address, Hex } from "viem";
import { describe, expect, it } from "vitest";
import { decodeState } from "../../src/worker/channel/codec.js";
import type { ChainEvent } from "../../src/worker/channel/events.js";
import type { ChannelObject, LearnedChannel, PayResult } from "../../src/worker/channel/object.js";
import { channelStub } from "../../src/worker/channel/stub.js";

const PRICE = 5n;
const SIGNATURE = `0x${"22".repeat(64)}1c` as Hex;
const LEARNED: LearnedChannel = {
  deposit: 10n ** 24n,
  withdrawn: 0n,
  settleBlock: 0,
  closingBalance: 0n,
  confirmedBlock: 1,
};

function randomSender(): Address {
  const bytes = crypto.getRandomValues(new Uint8Array(20));
  return `0x${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}` as Address;
}

function largest(xs: bigint[]): bigint {
  let m = 0n;
  for (const x of xs) if (x > m) m = x;
  return m;
}

/** A channel object taught a large deposit, with one payment of `first` already accepted. */
async function channel(first = PRICE) {
  const sender = randomSender();
  const stub = channelStub(env, sender, 1);
  const taught = await stub.pay({
    sender,
    openBlock: 1,
    balance: first,
    signature: SIGNATURE,
    price: PRICE,
    learned: LEARNED,
  });
  expect(taught.ok).toBe(true);
  const proof = (balance: bigint) => ({ sender, openBlock: 1, balance, signature: SIGNATURE, price: PRICE });
  return { sender, stub, proof };
}

describe("group commit", () => {
  it("decides concurrent payments in arrival order and writes them together", async () => {
    const { sender, stub, proof } = await channel();
    const before = await stub.writeStats();
    // 100 rounds of a fresh proof that leaves one price of credit, then a session spend of that
    // credit: every spend is accepted only if the proof sent before it was decided before it.
    const calls: Promise<PayResult>[] = [];
    for (let i = 1; i <= 100; i++) {
      calls.push(stub.pay(proof(PRICE + 2n * PRICE * BigInt(i))) as Promise<PayResult>);
      calls.push(stub.spend({ sender, openBlock: 1, price: PRICE }) as Promise<PayResult>);
    }
    const results = await Promise.all(calls);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    const state = (await stub.raw())!;
    expect(state.balance).toBe(PRICE + 200n * PRICE);
    expect(state.charged).toBe(PRICE + 200n * PRICE);
    expect(state.payments).toBe(201);
    const after = await stub.writeStats();
    // 200 decisions, fewer writes: the ones that arrived during a write went with the next.
    expect(after.decisions - before.decisions).toBe(200);
    expect(after.writes - before.writes).toBeLessThan(200);
  });

  it("releases each reply only once the storage holds its decision", async () => {
    const { stub, proof } = await channel();
    const seen = await runInDurableObject(stub, async (instance: ChannelObject, state) => {
      const stored = () => decodeState(state.storage.sql.exec<{ data: string }>("SELECT data FROM channel").one().data);
      // Issued at once: the first is written now, the rest are decided while it is in flight.
      return Promise.all(
        Array.from({ length: 20 }, (_, i) => {
          const balance = PRICE * BigInt(i + 2);
          return instance.pay(proof(balance)).then((r) => ({ ok: r.ok, balance, stored: stored().balance }));
        }),
      );
    });
    for (const s of seen) {
      expect(s.ok).toBe(true);
      // At the moment the reply left, the stored state already held that payment.
      expect(s.stored).toBeGreaterThanOrEqual(s.balance);
    }
  });

  it("releases a metered stream's next slice only once the storage holds it", async () => {
    const { sender, stub, proof } = await channel(PRICE * 100n);
    const reserved = await stub.spend({ sender, openBlock: 1, price: 20n, reserveId: "st", reserveMs: 60_000 });
    expect(reserved.ok).toBe(true);
    const seen = await runInDurableObject(stub, async (instance: ChannelObject, state) => {
      const stored = () => decodeState(state.storage.sql.exec<{ data: string }>("SELECT data FROM channel").one().data);
      // A payment is written at once; the slices are decided while that write is in flight.
      const paid = instance.pay(proof(PRICE * 101n));
      const slices = Array.from({ length: 5 }, () =>
        instance.extend("st", 20n, 1n, 60_000).then((r) => ({ ok: r.ok, charged: r.channel?.charged ?? -1n })),
      );
      const replies = await Promise.all(slices.map((p) => p.then((r) => ({ ...r, stored: stored().charged }))));
      await paid;
      return replies;
    });
    for (const s of seen) {
      expect(s.ok).toBe(true);
      // At the moment the reply left, the stored state already held that slice.
      expect(s.stored).toBeGreaterThanOrEqual(s.charged);
    }
  });

  it("acknowledges nothing a crash right after a reply could take back", async () => {
    const { sender, proof } = await channel();
    const stub = channelStub(env, sender, 1);
    const acknowledged: bigint[] = [];
    const crashed = runInDurableObject(stub, async (instance: ChannelObject, state) => {
      // The first is written at once; the other 19 are decided while it is in flight.
      const replies = Array.from({ length: 20 }, (_, i) => {
        const balance = PRICE * BigInt(i + 2);
        return instance.pay(proof(balance)).then((r) => {
          if (r.ok) acknowledged.push(balance);
        });
      });
      // Crash as soon as any reply of the second write is out.
      await Promise.race(replies.slice(1));
      state.abort("test crash right after a reply");
    });
    await crashed.catch(() => {});
    expect(acknowledged.length).toBeGreaterThan(1);
    const restarted = (await channelStub(env, sender, 1).raw())!;
    expect(restarted.balance).toBeGreaterThanOrEqual(largest(acknowledged));
  });

  it("keeps every acknowledged payment when the object crashes between writes", async () => {
    const { sender, proof } = await channel();
    const stub = channelStub(env, sender, 1);
    const sent = Array.from({ length: 300 }, (_, i) => PRICE * BigInt(i + 2));
    const replies = sent.map((balance) => stub.pay(proof(balance)).then((r) => ({ balance, ok: r.ok })));
    // The crash arrives behind the first 150 calls, while later ones are decided or queued.
    await Promise.all(replies.slice(0, 150));
    const crash = runInDurableObject(stub, (_instance, state) => state.abort("test crash between writes"));
    await crash.catch(() => {});
    const settled = await Promise.allSettled(replies);
    const acknowledged = settled.flatMap((s) => (s.status === "fulfilled" && s.value.ok ? [s.value.balance] : []));
    expect(acknowledged.length).toBeGreaterThanOrEqual(150);
    // A fresh object starts from storage: it holds every acknowledged balance.
    const restarted = channelStub(env, sender, 1);
    const state = (await restarted.raw())!;
    expect(state.balance).toBeGreaterThanOrEqual(largest(acknowledged));
    expect(state.payments).toBeGreaterThanOrEqual(acknowledged.length + 1);
  });

  it("never stores a chain event apart from the state it changes, even while a payment's write is in flight", async () => {
    const { sender, stub, proof } = await channel();
    const closeRequested: ChainEvent = {
      id: `0x${"ab".repeat(32)}:0`,
      name: "ChannelCloseRequested",
      blockNumber: 10,
      logIndex: 0,
      sender,
      openBlock: 1,
      amount: PRICE,
      settleBlock: 600,
    };
    const split = await runInDurableObject(stub, async (instance: ChannelObject, state) => {
      const sql = state.storage.sql;
      // The payment is written at once; the event arrives while that write is in flight.
      const paid = instance.pay(proof(PRICE * 2n));
      const applied = instance.applyEvents([closeRequested]);
      // What storage holds at this moment is what a crash now could commit: an event remembered
      // as applied must come with its effect, or the sync's resend would be skipped for good.
      const remembered =
        sql.exec("SELECT name FROM sqlite_master WHERE name = 'chain_events'").toArray().length > 0 &&
        sql.exec("SELECT id FROM chain_events WHERE id = ?", closeRequested.id).toArray().length > 0;
      const stored = decodeState(sql.exec<{ data: string }>("SELECT data FROM channel").one().data).status;
      await Promise.all([paid, applied]);
      return remembered && stored !== "closing";
    });
    expect(split).toBe(false);
    expect((await stub.raw())!.status).toBe("closing");
  });
});
