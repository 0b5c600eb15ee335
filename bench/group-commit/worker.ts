// The group-commit bench Worker (bench/group-commit.ts runs it): drives one ChannelObject
// directly over Workers RPC, inside workerd, with no HTTP proxy in between, so the figure is the
// object's own: how many payments per second one channel applies when `concurrency` calls are
// in flight at once. Each run makes a fresh channel (a random sender), teaches it a large
// deposit the way a chain look-up would, then sends `payments` balance proofs in balance order
// (or session spends) from `concurrency` slots; `noop` sends the cheapest call the object has
// (`writeStats`), the floor any payment call stands on. The object does not check signatures
// (the Worker verifies them before calling it), so a fixed well-formed one is used. The clock is
// read around the run inside workerd (it advances across I/O).
// Two more kinds measure the runtime's floors that bound group commit, on a bench-only subclass:
// `wait` answers like a payment without deciding or writing, but each call first waits for a
// promise a later call resolves (eight a batch): what a call that waits for another costs;
// `write-each` decides and writes every payment in its own call with no group commit (one
// storage commit a payment), answering at once behind the output gate.
import type { Address, Hex } from "viem";
import { snapshot } from "../../src/worker/channel/codec.js";
import {
  ChannelObject as PaywallChannelObject,
  type LearnedChannel,
  type PayResult,
  type ProofRequest,
} from "../../src/worker/channel/object.js";
import { channelStub } from "../../src/worker/channel/stub.js";
import type { Env } from "../../src/worker/env.js";

export type GroupCommitKind = "proof" | "session" | "noop" | "wait" | "write-each";

/** The object's own state and decision, reached the way its own methods do (bench only). */
type Inside = {
  state: Parameters<typeof snapshot>[0];
  decideProof(req: ProofRequest): { ok: true; state: Inside["state"]; cost: bigint } | { ok: false; code: string };
};

/** The paywall's ChannelObject with the two floor probes (bench only). */
export class ChannelObject extends PaywallChannelObject {
  private batch: { released: Promise<void>; release: () => void; joined: number } | null = null;

  async waitForAnother(req: ProofRequest): Promise<PayResult> {
    if (!this.batch) {
      let release = () => {};
      const released = new Promise<void>((r) => (release = r));
      this.batch = { released, release, joined: 0 };
    }
    const batch = this.batch;
    if (++batch.joined === 8) {
      this.batch = null;
      batch.release();
    }
    await batch.released;
    return { ok: true, cost: req.price, channel: snapshot((this as unknown as Inside).state) };
  }

  async writeEach(req: ProofRequest): Promise<PayResult> {
    const inside = this as unknown as Inside;
    const d = inside.decideProof(req);
    if (!d.ok) return { ok: false, code: "invalid_amount" };
    inside.state = d.state;
    this.ctx.storage.sql.exec("INSERT OR REPLACE INTO channel (id, data) VALUES (1, ?)", JSON.stringify(d.state, big));
    return { ok: true, cost: d.cost, channel: snapshot(d.state) };
  }
}

const big = (_k: string, v: unknown) => (typeof v === "bigint" ? `${v}n` : v);

/** One run's answer: the calls accepted and refused, the time, and the storage writes made. */
export type GroupCommitRun = {
  kind: GroupCommitKind;
  payments: number;
  concurrency: number;
  ok: number;
  refused: Record<string, number>;
  ms: number;
  perSecond: number;
  writes: number;
};

const PRICE = 5n;
const SIGNATURE = `0x${"11".repeat(64)}1b` as Hex;
const LEARNED: LearnedChannel = {
  deposit: 10n ** 30n,
  withdrawn: 0n,
  settleBlock: 0,
  closingBalance: 0n,
  confirmedBlock: 1,
};

function randomSender(): Address {
  const bytes = crypto.getRandomValues(new Uint8Array(20));
  return `0x${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}` as Address;
}

async function run(env: Env, payments: number, concurrency: number, kind: GroupCommitKind): Promise<GroupCommitRun> {
  const sender = randomSender();
  const openBlock = 1;
  const stub = channelStub(env, sender, openBlock);
  // Teach the channel and, for sessions, prepay the credit they spend.
  const prepaid = kind === "session" ? PRICE * BigInt(payments + 1) : PRICE;
  const first = (await stub.pay({
    sender,
    openBlock,
    balance: prepaid,
    signature: SIGNATURE,
    price: PRICE,
    learned: LEARNED,
  })) as PayResult;
  if (!first.ok) throw new Error(`the first payment was refused: ${first.code}`);
  const probe = stub as unknown as Pick<ChannelObject, "waitForAnother" | "writeEach">;
  const call = (i: number): Promise<PayResult | null> => {
    if (kind === "noop") return stub.writeStats().then(() => null);
    const next = { sender, openBlock, balance: PRICE * BigInt(i + 2), signature: SIGNATURE, price: PRICE };
    if (kind === "wait") return probe.waitForAnother(next);
    if (kind === "write-each") return probe.writeEach(next);
    if (kind === "session") return stub.spend({ sender, openBlock, price: PRICE }) as Promise<PayResult>;
    const balance = PRICE * BigInt(i + 2);
    return stub.pay({ sender, openBlock, balance, signature: SIGNATURE, price: PRICE }) as Promise<PayResult>;
  };
  const refused: Record<string, number> = {};
  let ok = 0;
  let next = 0;
  const slot = async () => {
    while (next < payments) {
      const r = await call(next++);
      if (!r || r.ok) ok++;
      else refused[r.code] = (refused[r.code] ?? 0) + 1;
    }
  };
  const before = await stub.writeStats();
  const t0 = Date.now();
  await Promise.all(Array.from({ length: concurrency }, slot));
  const ms = Date.now() - t0;
  const writes = (await stub.writeStats()).writes - before.writes;
  return { kind, payments, concurrency, ok, refused, ms, perSecond: (ok * 1000) / ms, writes };
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const payments = Number(url.searchParams.get("payments") ?? "5000");
    const concurrency = Number(url.searchParams.get("concurrency") ?? "64");
    const kind = url.searchParams.get("kind") ?? "proof";
    if (!["proof", "session", "noop", "wait", "write-each"].includes(kind))
      return Response.json({ error: `unknown kind ${kind}` }, { status: 400 });
    try {
      return Response.json(await run(env, payments, concurrency, kind as GroupCommitKind));
    } catch (err) {
      return Response.json({ error: String(err) }, { status: 500 });
    }
  },
};
