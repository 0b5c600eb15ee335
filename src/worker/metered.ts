// Charging a metered request after it was served: measure what serving took (time, body size),
// then settle its reservation at that cost, capped exactly as the channel's object caps it
// (state.ts `meteredCharge`), so the cost the paywall reports is the one charged.
import type { Address } from "viem";
import type { ChannelSnapshot } from "./channel/codec.js";
import type { PayResult } from "./channel/object.js";
import { meteredCharge } from "./channel/state.js";
import { channelStub } from "./channel/stub.js";
import type { Env } from "./env.js";
import type { MeterOptions } from "./pricing.js";

/** The measured cost of a served metered request, uncapped (the channel caps it at the
 *  reservation), with the response rebuilt from its buffered body. */
export async function measuredCost(
  meter: MeterOptions,
  startedAt: number,
  res: Response,
): Promise<{ cost: bigint; res: Response }> {
  const perMs = meter.perMs ?? 1;
  const perKiB = meter.perKiB ?? 0;
  let bytes = 0;
  if (res.body) {
    const body = await res.arrayBuffer();
    bytes = body.byteLength;
    res = new Response(body, res);
  }
  const ms = Math.max(0, Date.now() - startedAt);
  const cost = Math.ceil(Math.max(ms * perMs, (bytes / 1024) * perKiB));
  return { cost: BigInt(cost), res };
}

/**
 * Charges a served metered request its measured cost (0 for a failed serve, 5xx) and frees the
 * rest of the reservation. The settle is retried once if the call to the object fails; a
 * settle that already landed is idempotent (an unknown reservation changes nothing), so the
 * cost reported is computed here.
 */
export async function settleMetered(
  env: Env,
  ch: { sender: Address; openBlock: number },
  reservation: { id: string; amount: bigint },
  meter: MeterOptions,
  startedAt: number,
  served: Response,
): Promise<{ cost: bigint; channel: ChannelSnapshot; res: Response }> {
  const stub = () => channelStub(env, ch.sender, ch.openBlock);
  let measured: { cost: bigint; res: Response };
  try {
    measured = await measuredCost(meter, startedAt, served);
  } catch (err) {
    // The body failed while being produced: nothing usable was served, nothing is charged.
    await stub().settle(reservation.id, 0n);
    throw err;
  }
  const charge = measured.res.status >= 500 ? 0n : measured.cost;
  let settled: PayResult;
  try {
    settled = await stub().settle(reservation.id, charge);
  } catch {
    settled = await stub().settle(reservation.id, charge);
  }
  if (!settled.ok || !settled.channel)
    throw new Error(`edge402: settling a metered request failed (${settled.ok ? "no channel" : settled.code})`);
  return { cost: meteredCharge(charge, reservation.amount), channel: settled.channel, res: measured.res };
}
