import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Address } from "viem";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FileChannelStore } from "./file-store.js";
import { MemoryChannelStore, parseStoredChannels, storedChannelKey, type StoredChannel } from "./store.js";

const alice: Address = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
const bob: Address = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65";

function channel(sender: Address, openBlock: number, balance = "5"): StoredChannel {
  return {
    chainId: 31337,
    contract: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
    token: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    sender,
    receiver: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    openBlock,
    state: "open",
    deposit: "500",
    balance,
    signed: balance,
    credit: "0",
    session: "s1.token",
    gateways: ["http://127.0.0.1:8787/api/1"],
    updatedAt: 1,
  };
}

describe("parseStoredChannels", () => {
  it("reads a valid file and checksums addresses", () => {
    const c = channel(alice, 4);
    const parsed = parseStoredChannels({ version: 1, channels: [{ ...c, sender: alice.toLowerCase() }] });
    expect(parsed).toEqual([c]);
  });

  it("names the first problem of an invalid file", () => {
    expect(() =>
      parseStoredChannels({ version: 1, channels: [{ ...channel(alice, 4), balance: "0x5" }] }, "x.json"),
    ).toThrow(/x\.json .*channels\.0\.balance/);
    expect(() => parseStoredChannels({ version: 2, channels: [] })).toThrow(/version/);
    expect(() => parseStoredChannels([])).toThrow(/not a valid/);
  });

  it("keys a channel by chain, contract, sender, receiver and open block, case-insensitively", () => {
    const c = channel(alice, 4);
    expect(storedChannelKey({ ...c, sender: alice.toLowerCase() as Address })).toBe(storedChannelKey(c));
    expect(storedChannelKey(channel(alice, 5))).not.toBe(storedChannelKey(c));
  });
});

describe("MemoryChannelStore", () => {
  it("keeps each sender's channels apart and returns copies", async () => {
    const store = new MemoryChannelStore();
    expect(await store.load(alice)).toEqual([]);
    await store.save(alice, [channel(alice, 4)]);
    await store.save(bob, [channel(bob, 9)]);
    const loaded = await store.load(alice.toLowerCase() as Address);
    expect(loaded).toEqual([channel(alice, 4)]);
    loaded[0]!.balance = "999";
    expect((await store.load(alice))[0]!.balance).toBe("5");
    expect(await store.load(bob)).toEqual([channel(bob, 9)]);
    store.clear();
    expect(await store.load(alice)).toEqual([]);
  });
});

describe("FileChannelStore", () => {
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), "edge402-store-"));
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it("writes one owner-only JSON file per sender under <home>/channels", async () => {
    const store = new FileChannelStore(home);
    expect(await store.load(alice)).toEqual([]);
    await store.save(alice, [channel(alice, 4)]);
    await store.save(bob, [channel(bob, 9)]);
    expect((await readdir(join(home, "channels"))).sort()).toEqual(
      [`${bob.toLowerCase()}.json`, `${alice.toLowerCase()}.json`].sort(),
    );
    const file = store.pathOf(alice);
    expect(JSON.parse(await readFile(file, "utf8"))).toEqual({ version: 1, channels: [channel(alice, 4)] });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(home, "channels"))).mode & 0o777).toBe(0o700);
    expect(await new FileChannelStore(home).load(alice)).toEqual([channel(alice, 4)]);
  });

  it("applies many saves in order and leaves no temporary files", async () => {
    const store = new FileChannelStore(home);
    await Promise.all(Array.from({ length: 25 }, (_, i) => store.save(alice, [channel(alice, 4, String(i))])));
    expect((await store.load(alice))[0]!.balance).toBe("24");
    expect(await readdir(join(home, "channels"))).toEqual([`${alice.toLowerCase()}.json`]);
  });

  it("refuses a corrupt file, naming it, and does not overwrite it on load", async () => {
    const store = new FileChannelStore(home);
    await store.save(alice, [channel(alice, 4)]);
    await writeFile(store.pathOf(alice), "{ not json");
    await expect(store.load(alice)).rejects.toThrow(store.pathOf(alice));
    await writeFile(store.pathOf(alice), JSON.stringify({ version: 1, channels: [{ openBlock: -1 }] }));
    await expect(store.load(alice)).rejects.toThrow(/not a valid edge402 channel file/);
    expect(await readFile(store.pathOf(alice), "utf8")).toContain("openBlock");
  });
});
