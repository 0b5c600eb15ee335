import type { Address } from "viem";
import { describe, expect, it } from "vitest";
import { ChannelBook } from "./book.js";
import { ChannelLedger } from "./ledger.js";
import { MemoryChannelStore, type ChannelStore, type StoredChannel } from "./store.js";

const sender: Address = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
const id = (openBlock: number) => ({
  chainId: 31337,
  contract: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512" as Address,
  token: "0x5FbDB2315678afecb367f032d93F642f64180aa3" as Address,
  sender,
  receiver: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" as Address,
  openBlock,
});

/** A store that counts its writes (a real MemoryChannelStore underneath). */
class CountingStore implements ChannelStore {
  readonly inner = new MemoryChannelStore();
  writes = 0;
  load(s: Address) {
    return this.inner.load(s);
  }
  async save(s: Address, channels: StoredChannel[]) {
    this.writes++;
    await new Promise((r) => setTimeout(r, 1));
    return this.inner.save(s, channels);
  }
}

describe("ChannelBook", () => {
  it("never erases the stored channels by saving before it has loaded them", async () => {
    const store = new MemoryChannelStore();
    await store.save(sender, [new ChannelLedger(id(4), 500n).toStored()]);
    const book = new ChannelBook(store, sender);
    await book.save();
    expect((await store.load(sender)).map((c) => c.openBlock)).toEqual([4]);
    expect(book.all().map((l) => l.openBlock)).toEqual([4]);
  });

  it("coalesces a burst of saves into few writes that end with the latest state", async () => {
    const store = new CountingStore();
    const book = new ChannelBook(store, sender);
    await book.load();
    const ledger = book.add(new ChannelLedger(id(4), 500n));
    const saves: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      ledger.settleAccepted(ledger.reserve(5n));
      saves.push(book.save());
    }
    await Promise.all(saves);
    expect(store.writes).toBeLessThanOrEqual(2);
    expect((await store.inner.load(sender))[0]!.balance).toBe("100");
  });

  it("finds channels by receiver, keeps the first ledger of a key, and sums what was spent", async () => {
    const book = new ChannelBook(new MemoryChannelStore(), sender);
    await book.load();
    const a = book.add(new ChannelLedger(id(4), 500n));
    expect(book.add(new ChannelLedger(id(4), 999n))).toBe(a);
    book.add(new ChannelLedger({ ...id(5), receiver: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC" }, 500n));
    expect(book.forReceiver(id(0)).map((l) => l.openBlock)).toEqual([4]);
    a.settleAccepted(a.reserve(7n));
    expect(book.spent).toBe(7n);
  });

  it("counts the budgets per store: a second book over the same store starts from what the first signed and deposited", async () => {
    const store = new MemoryChannelStore();
    const first = new ChannelBook(store, sender);
    const policy = { maxDeposit: 600n };
    const a = await first.fund(500n, policy, async () => {
      const l = first.add(new ChannelLedger(id(4), 500n));
      l.funded += 500n;
      return l;
    });
    a.settleAccepted(a.reserve(7n));
    await first.save();

    const second = new ChannelBook(store, sender);
    await second.load();
    expect([second.spent, second.deposited]).toEqual([7n, 500n]);
    await expect(second.fund(101n, policy, async () => "sent")).rejects.toMatchObject({ code: "budget_exceeded" });
    expect(second.deposited).toBe(500n);
  });

  it("counts a deposit in flight, so two at once cannot both slip under the budget", async () => {
    const book = new ChannelBook(new MemoryChannelStore(), sender);
    const policy = { maxDeposit: 100n };
    let release!: () => void;
    const first = book.fund(60n, policy, () => new Promise<void>((r) => (release = r)));
    await new Promise((r) => setTimeout(r, 0));
    expect(book.deposited).toBe(60n);
    await expect(book.fund(60n, policy, async () => undefined)).rejects.toMatchObject({ code: "budget_exceeded" });
    release();
    await first;
    // Nothing was funded (the transaction added no ledger): the budget is free again.
    expect(book.deposited).toBe(0n);
  });
});
