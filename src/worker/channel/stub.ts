// How the Worker reaches a channel's object, the only way any code does: its name carries the
// chain, contract and receiver (`<chainId>:<contract>:<receiver>:<channelId>`, name.ts), so a
// namespace reused for another deployment never meets that deployment's state. A 1.0 object
// (named by the bare channel id) is read once by its successor and adopted when its state
// proves to be this deployment's (object.ts `adoptLegacy`, docs/upgrading.md).
import type { Address } from "viem";
import { channelId } from "../../protocol/channel-key.js";
import { getConfig } from "../config.js";
import type { Env } from "../env.js";
import { boundedMapPer } from "../bounded-map.js";
import { channelObjectName } from "./name.js";
import type { ChannelObject } from "./object.js";

export { channelObjectName, parseChannelObjectName } from "./name.js";

/** How many channel ids (a hash of the name) each namespace's in-isolate cache holds at most;
 *  past it the oldest goes. */
export const CHANNEL_ID_CACHE_LIMIT = 10_000;

const idsOf = boundedMapPer<object, string, DurableObjectId>(CHANNEL_ID_CACHE_LIMIT);

/** The object id named `name` in `ns`, from the cache when it was asked for before. */
export function cachedIdFromName(ns: { idFromName(name: string): DurableObjectId }, name: string): DurableObjectId {
  const byName = idsOf(ns);
  let id = byName.get(name);
  if (!id) {
    id = ns.idFromName(name);
    byName.set(name, id);
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
