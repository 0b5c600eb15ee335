// Helpers of the `shards` tests (the Worker with PROJECTION_SHARDS=3, vitest.config.ts): the three
// shard databases by their binding names, where the documented hash puts a channel (computed here
// on its own, not with the code under test), projection messages, and deliveries to the Worker's
// own queue() handler.
import { createExecutionContext, createMessageBatch, env, getQueueResult, SELF } from "cloudflare:test";
import { drizzle } from "drizzle-orm/d1";
import { keccak256, stringToBytes, type Address } from "viem";
import { channelId } from "../../src/protocol/channel-key.js";
import { newChannelState, type ChannelStatus } from "../../src/worker/channel/state.js";
import { channels } from "../../src/worker/db/schema.js";
import worker from "../../src/worker/index.js";
import { projectionRow, type ProjectionMessage } from "../../src/worker/projection/message.js";

const bindings = env as unknown as Record<string, D1Database> & { ADMIN_TOKEN: string };

/** Shard 0, 1 and 2's databases: DB, DB_SHARD_1, DB_SHARD_2. */
export const shardDbs = [bindings.DB!, bindings.DB_SHARD_1!, bindings.DB_SHARD_2!];
export const SHARDS = shardDbs.length;

/** docs/scale.md's rule: keccak256 of the id's UTF-8, its first four bytes big-endian, mod N. */
export function homeShard(id: string): number {
  return Number(BigInt(keccak256(stringToBytes(id)).slice(0, 10)) % BigInt(SHARDS));
}

export function randomSender(): Address {
  const bytes = crypto.getRandomValues(new Uint8Array(20));
  return `0x${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}` as Address;
}

/** A random sender whose channel opened at `openBlock` lives in shard `shard`. */
export function senderOn(shard: number, openBlock = 7): Address {
  for (;;) {
    const s = randomSender();
    if (homeShard(channelId(s, openBlock)) === shard) return s;
  }
}

/** A projection message for `sender`'s channel opened at `openBlock`: `version`, `payments`
 *  payments of 5 charged (deposit 1000), `withdrawn` withdrawn. */
export function message(
  sender: Address,
  p: { openBlock?: number; version: number; payments: number; readBlock?: number; state?: ChannelStatus },
): ProjectionMessage {
  const learned = { deposit: 1000n, withdrawn: 0n, settleBlock: 0, closingBalance: 0n };
  const s = newChannelState(sender, p.openBlock ?? 7, learned, 1_000);
  const charged = 5n * BigInt(p.payments);
  const proof = { balance: charged, signature: `0x${"33".repeat(65)}` as const };
  const row = projectionRow({
    ...s,
    status: p.state ?? s.status,
    balance: charged,
    charged,
    withdrawable: charged > 0n ? proof : null,
    payments: p.payments,
    readBlock: p.readBlock,
    version: p.version,
    updatedAt: Date.now(),
  });
  return { row, sentAt: Date.now() };
}

/** Delivers `bodies` to the Worker's queue() (with `workerEnv`) as one batch of `queue` (attempt
 *  `attempts`); the batch's acknowledgements, and the handler's error when it threw. */
export async function deliver(bodies: unknown[], attempts = 1, queue = "edge402-projection", workerEnv: unknown = env) {
  const batch = createMessageBatch(
    queue,
    bodies.map((body, i) => ({ id: `m${i}-${attempts}`, timestamp: Date.now(), attempts, body })),
  );
  const ctx = createExecutionContext();
  const error = await (async () => worker.queue(batch as MessageBatch<never>, workerEnv as never, ctx))().then(
    () => null,
    (err: unknown) => err,
  );
  return { ...(await getQueueResult(batch, ctx)), error };
}

/** Every `channels` row of shard `i`. */
export function rowsIn(i: number) {
  return drizzle(shardDbs[i]!).select().from(channels);
}

/** Where each of `ids` has a row: the shards that hold it. */
export async function placesOf(ids: string[]): Promise<Map<string, number[]>> {
  const places = new Map(ids.map((id) => [id, [] as number[]]));
  for (let i = 0; i < SHARDS; i++) for (const r of await rowsIn(i)) places.get(r.id)?.push(i);
  return places;
}

/** A request to the admin API, as the operator. */
export function adminFetch(path: string, init: RequestInit = {}): Promise<Response> {
  return SELF.fetch(`http://paywall.test/api/1/admin${path}`, {
    ...init,
    headers: { authorization: `Bearer ${bindings.ADMIN_TOKEN}`, "content-type": "application/json" },
  });
}

/** A GET of the admin API, as the operator: its JSON answer. */
export async function admin<T>(path: string): Promise<T> {
  const res = await adminFetch(path);
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<T>;
}
