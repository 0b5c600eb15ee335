// Look-ups of channels the paywall does not know, in workerd against anvil: anyone can name a
// channel (a GET of /api/1/channels/{sender}/{openBlock}, or a validly signed proof from a
// throwaway key), and each unknown one costs RPC calls. They are charged to the requester's
// free bucket (FREE_CAPACITY is 5 here, a buffer of 30, two units a look-up), answered from a
// negative cache when asked again, and bounded as a whole by the LookupObject's own budget, so
// strangers cannot spend the RPC capacity the sync and the disputes need. A known channel
// costs no look-up at all.
import { env, runInDurableObject } from "cloudflare:test";
import type { Address, Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { encodeProofHeaders } from "../../src/protocol/codec.js";
import { LOOKUP_COST_UNITS, lookupStub } from "../../src/worker/lookup/learn.js";
import type { LookupObject } from "../../src/worker/lookup/object.js";
import { freshAccount, openChannel, pay, request, signProof } from "./helpers.js";

const FREE_BUFFER = 30;
const FREE_CAPACITY = 5;
/** The most look-ups one client's bucket pays for over `ms`: the buffer and what refilled. */
const allowance = (ms: number) =>
  Math.floor((FREE_BUFFER + Math.ceil((FREE_CAPACITY * ms) / 1000)) / LOOKUP_COST_UNITS);
let nextIp = 1;
const newClient = () => `198.51.100.${nextIp++}`;
const randomAddress = () =>
  `0x${[...crypto.getRandomValues(new Uint8Array(20))].map((b) => b.toString(16).padStart(2, "0")).join("")}` as Address;
const getChannel = (ip: string, sender: Address, openBlock: number) =>
  request(`/api/1/channels/${sender}/${openBlock}`, { headers: { "CF-Connecting-IP": ip } });

describe("unknown channels", () => {
  it("charges a stranger's look-ups to its free bucket: 20 GETs of throwaway channels are not 40 RPC calls", async () => {
    const ip = newClient();
    const before = await lookupStub(env).stats();
    const started = Date.now();
    const statuses: number[] = [];
    const limited: Response[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await getChannel(ip, randomAddress(), 1 + i);
      statuses.push(res.status);
      if (res.status === 429) limited.push(res);
      else expect(await res.json()).toMatchObject({ error: { code: "not_found" } });
    }
    const after = await lookupStub(env).stats();
    const lookups = after.lookups - before.lookups;
    expect(lookups).toBeLessThanOrEqual(allowance(Date.now() - started));
    expect(lookups).toBe(statuses.filter((s) => s === 404).length);
    expect(after.rpcRequests - before.rpcRequests).toBeLessThanOrEqual(2 * lookups);
    expect(limited.length).toBeGreaterThan(0);
    for (const res of limited) {
      expect(res.headers.get("Retry-After")).toMatch(/^[1-9][0-9]*$/);
      expect(await res.json()).toMatchObject({ error: { code: "rate_limited" } });
    }
    // Another client is not affected.
    expect((await getChannel(newClient(), randomAddress(), 1)).status).toBe(404);
  });

  it("charges validly signed proofs from throwaway keys the same way", async () => {
    const ip = newClient();
    const before = await lookupStub(env).stats();
    const started = Date.now();
    let limited = 0;
    for (let i = 0; i < 20; i++) {
      const key =
        `0x${[...crypto.getRandomValues(new Uint8Array(32))].map((b) => b.toString(16).padStart(2, "0")).join("")}` as Hex;
      const a = privateKeyToAccount(key);
      const signature = await signProof(a, 5, 5n);
      const res = await request("/echofix/x", {
        headers: {
          ...encodeProofHeaders({ sender: a.address, openBlock: 5, balance: 5n, signature }),
          "CF-Connecting-IP": ip,
        },
      });
      if (res.status === 429) {
        limited++;
        expect(res.headers.get("Retry-After")).toMatch(/^[1-9][0-9]*$/);
      } else {
        expect(res.status).toBe(402);
        expect(await res.json()).toMatchObject({ error: { code: "nonexisting_channel" } });
      }
    }
    expect(limited).toBeGreaterThan(0);
    expect((await lookupStub(env).stats()).lookups - before.lookups).toBeLessThanOrEqual(
      allowance(Date.now() - started),
    );
  });

  it("answers an unknown channel asked about again from the negative cache: no look-up, no charge", async () => {
    const ip = newClient();
    const sender = randomAddress();
    expect((await getChannel(ip, sender, 3)).status).toBe(404);
    const before = await lookupStub(env).stats();
    for (let i = 0; i < 20; i++) expect((await getChannel(ip, sender, 3)).status).toBe(404);
    expect((await lookupStub(env).stats()).lookups).toBe(before.lookups);
  });

  it("looks a channel up once when it is first paid, and never again while it is known", async () => {
    const a = await freshAccount();
    const { openBlock } = await openChannel(a, 100n);
    const before = await lookupStub(env).stats();
    expect((await pay(a, openBlock, 5n)).status).toBe(200);
    const learned = await lookupStub(env).stats();
    expect(learned.lookups).toBe(before.lookups + 1);
    for (const balance of [10n, 15n, 20n]) expect((await pay(a, openBlock, balance)).status).toBe(200);
    expect((await getChannel(newClient(), a.address, openBlock)).status).toBe(200);
    expect(await lookupStub(env).stats()).toMatchObject({ lookups: learned.lookups, rpcRequests: learned.rpcRequests });
  });
});

describe("the strangers' RPC budget", () => {
  it("refuses look-ups over LOOKUP_RATE with the time to wait, and reads nothing for them", async () => {
    // A LookupObject of its own with a budget of one look-up a second (a buffer of six).
    const stub = env.LOOKUPS.get(env.LOOKUPS.idFromName("budget-test"));
    await runInDurableObject(stub, (instance) => {
      (instance as unknown as { env: unknown }).env = { ...env, LOOKUP_RATE: "1" };
    });
    const answers = [];
    for (let i = 0; i < 10; i++) answers.push(await stub.lookup(randomAddress(), 1 + i));
    const refused = answers.filter((a) => a.status === "rate_limited");
    expect(answers.filter((a) => a.status === "missing")).toHaveLength(6);
    expect(refused).toHaveLength(4);
    for (const r of refused) expect(r).toMatchObject({ retryAfterMs: expect.any(Number) });
    const stats = await runInDurableObject(stub, (instance) => (instance as unknown as LookupObject).stats());
    expect(stats).toMatchObject({ lookups: 6, refused: 4 });
    expect(stats.rpcRequests).toBeLessThanOrEqual(12);
  });
});
