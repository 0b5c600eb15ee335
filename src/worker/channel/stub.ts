// How the Worker reaches a channel's object: one Durable Object per channel of one deployment,
// named `<chainId>:<contract>:<receiver>:<sender>-<openBlock>` (addresses lower-case), so a
// namespace reused for another chain, contract or receiver never meets another deployment's
// state. `channelStub` is the only way any code reaches a channel object. The object id of a
// name is a hash, so the ids of recently reached channels are kept per namespace in a bounded
// in-isolate map (oldest dropped first past CHANNEL_ID_CACHE_LIMIT).
//
// Objects named by earlier versions (`<sender>-<openBlock>`, the channel id that still keys
// the D1 rows) are read once by the new object of the same channel and adopted when their
// state proves to be this deployment's (object.ts `adoptLegacy`); see docs/upgrading.md.
import type { Address } from "viem";
import { channelId } from "../../protocol/channel-key.js";
import { getConfig } from "../config.js";
import type { Env } from "../env.js";
import { channelObjectName } from "./name.js";
import type { ChannelObject } from "./object.js";

export { channelObjectName, parseChannelObjectName } from "./name.js";

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

/** The channel's object on this deployment. */
export function channelStub(env: Env, sender: Address, openBlock: number) {
  const ns = channelNamespace(env);
  return ns.get(cachedIdFromName(ns, channelObjectName(getConfig(env), sender, openBlock)));
}

/** The CHANNELS binding with its class (Env leaves it untyped to keep types free of cycles). */
function channelNamespace(env: Env): DurableObjectNamespace<ChannelObject> {
  return env.CHANNELS as DurableObjectNamespace<ChannelObject>;
}

/** The object an earlier version kept this channel in (read only by the migration). */
export function legacyChannelStub(env: Env, sender: Address, openBlock: number) {
  const ns = channelNamespace(env);
  return ns.get(ns.idFromName(channelId(sender, openBlock)));
}
