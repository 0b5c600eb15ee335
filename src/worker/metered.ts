// Charging a metered request: a buffered one after it was served (measure what serving took,
// then settle its reservation at that cost, capped exactly as the channel's object caps it,
// state.ts `meteredCharge`, so the cost the paywall reports is the one charged), or a streamed
// one as it flows (its body piped through a StreamMeter, settled when the stream ends).
import type { Address } from "viem";
import type { ChannelSnapshot } from "./channel/codec.js";
import type { PayResult } from "./channel/object.js";
import { meteredCharge } from "./channel/state.js";
import { channelStub } from "./channel/stub.js";
import type { Env } from "./env.js";
import { meterCost, type MeterOptions } from "./pricing.js";
import { StreamMeter } from "./stream/meter.js";
import { isEventStream } from "../protocol/stream.js";
import { countEvents } from "./stream/sse.js";

type ChannelRef = { sender: Address; openBlock: number };
type Reserved = { id: string; amount: bigint };

/** The measured cost of a served metered request, uncapped (the channel caps it at the
 *  reservation), with the response rebuilt from its buffered body. */
export async function measuredCost(
  meter: MeterOptions,
  startedAt: number,
  res: Response,
): Promise<{ cost: bigint; res: Response }> {
  let bytes = 0;
  let events = 0;
  if (res.body) {
    const body = await res.arrayBuffer();
    bytes = body.byteLength;
    if (meter.perEvent && isEventStream(res.headers)) events = countEvents(new Uint8Array(body));
    res = new Response(body, res);
  }
  const ms = Math.max(0, Date.now() - startedAt);
  return { cost: meterCost(meter, { ms, bytes, events }), res };
}

/** Settles a reservation at `charge`, retrying once if the call to the object fails; a settle
 *  that already landed is idempotent (an unknown reservation changes nothing). */
async function settleOnce(env: Env, ch: ChannelRef, id: string, charge: bigint): Promise<PayResult> {
  const stub = () => channelStub(env, ch.sender, ch.openBlock);
  try {
    return await stub().settle(id, charge);
  } catch {
    return stub().settle(id, charge);
  }
}

/**
 * Charges a served metered request its measured cost (0 for a failed serve, 5xx) and frees the
 * rest of the reservation. The cost reported is computed here (a retried settle that had
 * already landed answers 0).
 */
export async function settleMetered(
  env: Env,
  ch: ChannelRef,
  reservation: Reserved,
  meter: MeterOptions,
  startedAt: number,
  served: Response,
): Promise<{ cost: bigint; channel: ChannelSnapshot; res: Response }> {
  let measured: { cost: bigint; res: Response };
  try {
    measured = await measuredCost(meter, startedAt, served);
  } catch (err) {
    // The body failed while being produced: nothing usable was served, nothing is charged.
    await channelStub(env, ch.sender, ch.openBlock).settle(reservation.id, 0n);
    throw err;
  }
  const charge = measured.res.status >= 500 ? 0n : measured.cost;
  const settled = await settleOnce(env, ch, reservation.id, charge);
  if (!settled.ok || !settled.channel)
    throw new Error(`edge402: settling a metered request failed (${settled.ok ? "no channel" : settled.code})`);
  return { cost: meteredCharge(charge, reservation.amount), channel: settled.channel, res: measured.res };
}

/**
 * A streamed metered response: its body goes through a StreamMeter (src/worker/stream) that
 * charges as it flows and settles at its end; `waitUntil` keeps the Worker alive for that
 * settle after the response has started (the client may have gone). The cost is not known
 * when the headers go out: `cost` is undefined and the channel is the one after the
 * reservation. A failed serve (5xx) or a response without a body is settled at once, as a
 * buffered one is.
 */
export async function streamMetered(
  env: Env,
  ch: ChannelRef,
  reservation: Reserved & { serveMs: number },
  meter: MeterOptions,
  startedAt: number,
  served: { res: Response; channel: ChannelSnapshot },
  after: { waitUntil: (p: Promise<unknown>) => void; settled: (cost: bigint) => void },
): Promise<{ cost?: bigint; channel: ChannelSnapshot; res: Response }> {
  const { res } = served;
  if (res.status >= 500 || !res.body) {
    const done = await settleMetered(env, ch, reservation, meter, startedAt, res);
    after.settled(done.cost);
    return done;
  }
  const stub = channelStub(env, ch.sender, ch.openBlock);
  const sse = isEventStream(res.headers);
  const streamMeter = new StreamMeter(
    {
      meter,
      slice: reservation.amount,
      startedAt,
      renewEveryMs: reservation.serveMs,
      sse,
      channel: {
        extend: (amount, atLeast) => stub.extend(reservation.id, amount, atLeast, reservation.serveMs),
        settle: (cost) => settleOnce(env, ch, reservation.id, cost),
      },
    },
    reservation.amount,
  );
  // Counted once settled: what the stream was charged in all, or its first slice if the settle failed.
  after.waitUntil(streamMeter.done.then((s) => after.settled(s?.cost ?? reservation.amount)));
  const headers = new Headers(res.headers);
  // The meter adds its own final bytes to an event stream.
  if (sse) headers.delete("content-length");
  const metered = new Response(res.body.pipeThrough(streamMeter.stream), {
    status: res.status,
    statusText: res.statusText,
    headers,
  });
  return { cost: undefined, channel: served.channel, res: metered };
}
