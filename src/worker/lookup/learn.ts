// How the Worker meets a channel its object does not know (or a proof above the deposit the
// object knows): the object answers with a `lookup` hint instead of calling the chain, and
// `withLookup` reads the chain and calls the object again with what it learned. A look-up
// passes, in order: this isolate's negative cache (an unknown channel asked about again costs
// nothing) and its look-ups in flight (concurrent requests for one channel share one), the
// requester's free flow-control bucket (LOOKUP_COST_UNITS, in its FlowObject, keyed by IP),
// and the strangers' RPC budget in the LookupObject (object.ts).
// Over an allowance the request gets 429 with Retry-After; a node that does not answer, 503
// chain_unavailable; either way nothing changed. A known channel never gets here: its paid
// request stays one object call with no chain I/O.
import type { Address } from "viem";
import { channelId } from "../../protocol/channel-key.js";
import type { ErrorCode } from "../../protocol/errors.js";
import type { LearnedChannel, LookupHint } from "../channel/object.js";
import type { Config } from "../config.js";
import type { Env } from "../env.js";
import type { LookupObject } from "./object.js";
import { retryAfterSeconds } from "../flow/bucket.js";
import { FlowHeaders, limitedHeaders } from "../flow/headers.js";
import { flowStub } from "../flow/stub.js";
import { NegativeCache, type NegativeStatus } from "./cache.js";

/** Free flow-control units one look-up of an unknown channel costs (it spends two RPC calls). */
export const LOOKUP_COST_UNITS = 2;

/** This isolate's negative cache (bounded), in front of the LookupObject's. */
const negative = new NegativeCache();
/** This isolate's look-ups in flight, by channel and hint. */
const running = new Map<string, Promise<Learned>>();

type Learned = { channel: LearnedChannel } | { refusal: LookupRefusal | null };

/** Why a look-up did not lead to a second call of the object. */
export type LookupRefusal = {
  ok: false;
  code: ErrorCode;
  message?: string;
  retryAfterMs?: number;
  headers?: Record<string, string>;
};

const NEGATIVE_CODES: Record<NegativeStatus, ErrorCode> = {
  missing: "nonexisting_channel",
  unconfirmed: "insufficient_confirmations",
};

export function lookupStub(env: Env) {
  const ns = env.LOOKUPS as DurableObjectNamespace<LookupObject>;
  return ns.get(ns.idFromName("lookups"));
}

/**
 * Calls a channel's object (`call()`); when it answers with a `lookup` hint, reads the chain as
 * the module comment says and calls it once more with the record learned. `request` is the
 * client's request (its IP names its free bucket).
 */
export async function withLookup<R extends { ok: boolean; lookup?: LookupHint }>(
  env: Env,
  config: Config,
  request: Request,
  sender: Address,
  openBlock: number,
  call: (learned?: LearnedChannel) => Promise<R>,
): Promise<R | LookupRefusal> {
  const first = await call();
  if (first.ok || !first.lookup) return first;
  const key = `${channelId(sender, openBlock)}:${first.lookup}`;
  let pending = running.get(key);
  if (!pending) {
    pending = learn(env, config, request, sender, openBlock, first.lookup).finally(() => running.delete(key));
    running.set(key, pending);
  }
  const learned = await pending;
  if ("refusal" in learned) return learned.refusal ?? first;
  return call(learned.channel);
}

async function learn(
  env: Env,
  config: Config,
  request: Request,
  sender: Address,
  openBlock: number,
  hint: LookupHint,
): Promise<Learned> {
  const key = channelId(sender, openBlock);
  const cached = hint === "channel" ? negative.get(key, Date.now()) : null;
  if (cached) return { refusal: { ok: false, code: NEGATIVE_CODES[cached] } };
  if (config.flowControl) {
    const answer = await flowStub(env, config, request).admit({
      capacity: config.freeCapacity,
      cost: LOOKUP_COST_UNITS,
      limit: true,
    });
    if (!answer.ok && answer.reason === "rate_limited") {
      return {
        refusal: {
          ok: false,
          code: "rate_limited",
          message:
            "Too many chain look-ups (unknown channels, deposit re-reads) from this client; retry after the indicated delay.",
          retryAfterMs: answer.retryAfterMs,
          headers: limitedHeaders("free", answer.status, answer.retryAfterMs),
        },
      };
    }
  }
  const answer = await lookupStub(env).lookup(sender, openBlock);
  switch (answer.status) {
    case "found":
      return { channel: answer.channel };
    case "missing":
    case "unconfirmed":
      negative.set(key, answer.status, Date.now());
      // A deposit re-read that finds no channel keeps the object's own refusal.
      return { refusal: hint === "channel" ? { ok: false, code: NEGATIVE_CODES[answer.status] } : null };
    case "rate_limited":
      return {
        refusal: {
          ok: false,
          code: "rate_limited",
          message: "The paywall's chain look-ups are busy; retry after the indicated delay.",
          retryAfterMs: answer.retryAfterMs,
          headers: { [FlowHeaders.retryAfter]: String(retryAfterSeconds(answer.retryAfterMs)) },
        },
      };
    case "chain_unavailable":
      return {
        refusal: { ok: false, code: "chain_unavailable", message: `The chain node did not answer: ${answer.message}` },
      };
  }
}
