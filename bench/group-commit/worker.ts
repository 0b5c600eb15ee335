// The group-commit bench Worker: drives one ChannelObject directly over Workers RPC, inside
// workerd, with no HTTP proxy in between, so the figure is the object's own: how many payments
// per second one channel applies when `concurrency` calls are in flight at once. Each run makes
// a fresh channel (a random sender), teaches it a large deposit the way a chain look-up would,
// then sends `payments` balance proofs in balance order from `concurrency` slots. The proofs'
// signatures are not checked by the object (the Worker verifies them before calling it), so a
// fixed well-formed signature is used. The clock is read around the run inside workerd (it
// advances across I/O), and the answer counts what was accepted and refused.
import type { Address, Hex } from "viem";
import type { LearnedChannel, PayResult } from "../../src/worker/channel/object.js";
import { channelStub } from "../../src/worker/channel/stub.js";
import type { Env } from "../../src/worker/env.js";

export { ChannelObject } from "../../src/worker/channel/object.js";

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

/** One run: `payments` fresh proofs on one new channel from `concurrency` slots, or session spends. */
async function run(env: Env, payments: number, concurrency: number, kind: "proof" | "session" | "peek") {
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
  const refused: Record<string, number> = {};
  let ok = 0;
  let next = 0;
  const slot = async () => {
    while (next < payments) {
      const i = next++;
      if (kind === "peek") {
        await stub.writeStats();
        ok++;
        continue;
      }
      const r = (await (kind === "proof"
        ? stub.pay({ sender, openBlock, balance: PRICE * BigInt(i + 2), signature: SIGNATURE, price: PRICE })
        : stub.spend({ sender, openBlock, price: PRICE }))) as PayResult;
      if (r.ok) ok++;
      else refused[r.code] = (refused[r.code] ?? 0) + 1;
    }
  };
  const t0 = Date.now();
  await Promise.all(Array.from({ length: concurrency }, slot));
  const ms = Date.now() - t0;
  const raw = await stub.raw();
  const writes = await stub.writeStats();
  return {
    kind,
    payments,
    concurrency,
    ok,
    refused,
    ms,
    perSecond: (ok * 1000) / ms,
    stored: raw?.payments ?? 0,
    writes,
  };
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const payments = Number(url.searchParams.get("payments") ?? "5000");
    const concurrency = Number(url.searchParams.get("concurrency") ?? "64");
    const kind = (url.searchParams.get("kind") ?? "proof") as "proof";
    try {
      return Response.json(await run(env, payments, concurrency, kind));
    } catch (err) {
      return Response.json({ error: String(err) }, { status: 500 });
    }
  },
};
