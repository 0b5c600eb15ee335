// The D1 projection's queue consumer (src/worker/projection): a queue batch becomes one D1 batch
// of multi-row upserts within D1's 100 bound parameters, version-guarded, harmless when a batch
// is delivered again; and a channel object sends one message per interval however many payments
// it took. The consumer is the Worker's own queue() handler, fed batches built here; the object's
// message goes through the real queue.
import {
  createExecutionContext,
  createMessageBatch,
  env,
  getQueueResult,
  runDurableObjectAlarm,
} from "cloudflare:test";
import { eq, inArray } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { Address, Hex } from "viem";
import { describe, expect, it } from "vitest";
import { channelId } from "../../src/protocol/channel-key.js";
import { newChannelState } from "../../src/worker/channel/state.js";
import { channelStub } from "../../src/worker/channel/stub.js";
import { channels, projectionStats } from "../../src/worker/db/schema.js";
import worker from "../../src/worker/index.js";
import { projectionRow, type ProjectionMessage } from "../../src/worker/projection/message.js";
import { D1_MAX_BOUND_PARAMETERS, ROWS_PER_STATEMENT } from "../../src/worker/projection/write.js";
import { flushProjection } from "./helpers.js";

const db = drizzle(env.DB);

function randomSender(): Address {
  const bytes = crypto.getRandomValues(new Uint8Array(20));
  return `0x${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}` as Address;
}

/** A projection message for `sender`'s channel at `version`, `payments` payments of 5 taken. */
function message(sender: Address, version: number, payments: number): ProjectionMessage {
  const s = newChannelState(sender, 7, { deposit: 1000n, withdrawn: 0n, settleBlock: 0, closingBalance: 0n }, 1_000);
  const row = projectionRow({
    ...s,
    balance: 5n * BigInt(payments),
    charged: 5n * BigInt(payments),
    payments,
    version,
    updatedAt: Date.now(),
  });
  return { row, sentAt: Date.now() };
}

/** Delivers `bodies` to the Worker's queue() as one batch (attempt `attempts`); its ack state. */
async function deliver(bodies: unknown[], attempts = 1) {
  const batch = createMessageBatch(
    "edge402-projection",
    bodies.map((body, i) => ({ id: `m${i}-${attempts}`, timestamp: Date.now(), attempts, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch as MessageBatch<never>, env as never, ctx);
  return getQueueResult(batch, ctx);
}

async function rowsOf(senders: Address[]) {
  const ids = senders.map((s) => channelId(s, 7));
  return db.select().from(channels).where(inArray(channels.id, ids));
}

async function statsNow() {
  const [m] = await db
    .select()
    .from(projectionStats)
    .where(eq(projectionStats.minute, Math.floor(Date.now() / 60_000)));
  return m ?? { batches: 0, messages: 0, rows: 0, statements: 0 };
}

describe("the projection consumer", () => {
  it("packs rows into statements within D1's 100 bound parameters", () => {
    const columns = Object.keys(projectionRow(message(randomSender(), 1, 1).row as never)).length;
    expect(ROWS_PER_STATEMENT).toBeGreaterThan(1);
    expect(ROWS_PER_STATEMENT * columns).toBeLessThanOrEqual(D1_MAX_BOUND_PARAMETERS);
  });

  it("writes a batch of channels as one D1 batch of multi-row upserts", async () => {
    const senders = Array.from({ length: 23 }, randomSender);
    const before = await statsNow();
    const result = await deliver(senders.map((s, i) => message(s, 3, i + 1)));
    expect(result.ackAll).toBe(true);
    const rows = await rowsOf(senders);
    expect(rows).toHaveLength(23);
    for (const [i, s] of senders.entries()) {
      expect(rows.find((r) => r.id === channelId(s, 7))).toMatchObject({ version: 3, payments: i + 1 });
    }
    const after = await statsNow();
    expect(after.batches - before.batches).toBe(1);
    expect(after.rows - before.rows).toBe(23);
    expect(after.statements - before.statements).toBe(Math.ceil(23 / ROWS_PER_STATEMENT));
  });

  it("never lets an older version overwrite a newer one, in one batch or across batches", async () => {
    const s = randomSender();
    // Newer first, older second, in one batch: the newer stays.
    await deliver([message(s, 9, 9), message(s, 4, 4)]);
    expect((await rowsOf([s]))[0]).toMatchObject({ version: 9, payments: 9 });
    // A later batch with an older version changes nothing; a newer one wins.
    await deliver([message(s, 8, 8)]);
    expect((await rowsOf([s]))[0]).toMatchObject({ version: 9, payments: 9 });
    await deliver([message(s, 10, 10)]);
    expect((await rowsOf([s]))[0]).toMatchObject({ version: 10, payments: 10 });
  });

  it("takes a redelivered batch without changing anything", async () => {
    const senders = Array.from({ length: 6 }, randomSender);
    const bodies = senders.map((s, i) => message(s, 2, i + 1));
    expect((await deliver(bodies)).ackAll).toBe(true);
    const first = await rowsOf(senders);
    // The same messages again (a retry after a lost acknowledgement), and once more with a
    // newer row for one channel in between: the redelivered ones leave the rows as they are.
    await deliver([message(senders[0]!, 5, 50)]);
    expect((await deliver(bodies, 2)).ackAll).toBe(true);
    const again = await rowsOf(senders);
    for (const row of again) {
      if (row.id === channelId(senders[0]!, 7)) expect(row).toMatchObject({ version: 5, payments: 50 });
      else expect(row).toEqual(first.find((r) => r.id === row.id));
    }
  });

  it("drops a message that is not a projection and writes the rest", async () => {
    const s = randomSender();
    const bad = { row: { ...message(s, 1, 1).row, deposit: "1e9; DROP TABLE channels" }, sentAt: Date.now() };
    const result = await deliver([{ hello: "world" }, bad, message(s, 1, 1)]);
    expect(result.explicitAcks).toEqual(["m0-1", "m1-1"]);
    expect(result.ackAll).toBe(true);
    expect((await rowsOf([s]))[0]).toMatchObject({ deposit: "1000", version: 1 });
  });
});

describe("a channel object's projection", () => {
  it("sends one message for many payments, through the real queue to D1", async () => {
    const sender = randomSender();
    const stub = channelStub(env, sender, 1);
    const learned = { deposit: 10n ** 18n, withdrawn: 0n, settleBlock: 0, closingBalance: 0n, confirmedBlock: 1 };
    const signature = `0x${"33".repeat(64)}1b` as Hex;
    const proof = (balance: bigint) => ({ sender, openBlock: 1, balance, signature, price: 5n });
    await stub.pay({ ...proof(5n), learned });
    await Promise.all(Array.from({ length: 50 }, (_, i) => stub.pay(proof(5n * BigInt(i + 2)))));
    expect((await stub.writeStats()).projections).toBe(0);
    await flushProjection(sender, 1);
    expect((await stub.writeStats()).projections).toBe(1);
    const [row] = await db
      .select()
      .from(channels)
      .where(eq(channels.id, channelId(sender, 1)));
    expect(row).toMatchObject({ payments: 51, balance: "255", version: (await stub.raw())!.version });
    // Nothing changed since: its next alarm sends nothing.
    await runDurableObjectAlarm(stub);
    expect((await stub.writeStats()).projections).toBe(1);
  });
});
