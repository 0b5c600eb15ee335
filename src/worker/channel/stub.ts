// How the Worker reaches a channel's object: one Durable Object per (sender, openBlock) on this
// deployment's receiver and contract, named by the channel id (also its D1 row id). The object
// id of a name is a hash, so the ids of recently reached channels are kept per namespace in a
// bounded in-isolate map (oldest dropped first past CHANNEL_ID_CACHE_LIMIT).
import type { Address } from "viem";
import { channelId } from "../../protocol/channel-key.js";
import type { Env } from "../config.js";

/** How many channel ids each namespace's cache holds at most. */
export const CHANNEL_ID_CACHE_LIMIT = 10_000;

const ids = new WeakMap<object, Map<string, DurableObjectId>>();

/** The object id named `name` in `ns`, from the cache when it was asked for before. */
export function cachedIdFromName(ns: { idFromName(name: string): DurableObjectId }, name: string): DurableObjectId {
  let byName = ids.get(ns);
  if (!byName) {
    byName = new Map();
    ids.set(ns, byName);
  }
  let id = byName.get(name);
  if (!id) {
    id = ns.idFromName(name);
    byName.set(name, id);
    if (byName.size > CHANNEL_ID_CACHE_LIMIT) byName.delete(byName.keys().next().value as string);
  }
  return id;
}

export function channelStub(env: Env, sender: Address, openBlock: number) {
  return env.CHANNELS.get(cachedIdFromName(env.CHANNELS, channelId(sender, openBlock)));
}
