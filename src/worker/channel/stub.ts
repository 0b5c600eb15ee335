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
import { getAddress, type Address } from "viem";
import { channelId, parseChannelId } from "../../protocol/channel-key.js";
import { getConfig, type Config, type Env } from "../config.js";

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

type Deployment = Pick<Config, "chainId" | "contract" | "receiverAddress">;

/** The Durable Object name of a channel on one deployment (chain, contract, receiver). */
export function channelObjectName(d: Deployment, sender: Address, openBlock: number): string {
  return `${d.chainId}:${d.contract.toLowerCase()}:${d.receiverAddress.toLowerCase()}:${channelId(sender, openBlock)}`;
}

const objectNameShape = /^(0|[1-9][0-9]{0,19}):(0x[0-9a-f]{40}):(0x[0-9a-f]{40}):(.+)$/;

/** Reads a `channelObjectName` back, or null for any other name (a pre-1.1 one included). */
export function parseChannelObjectName(
  name: string,
): { chainId: number; contract: Address; receiver: Address; sender: Address; openBlock: number } | null {
  const m = objectNameShape.exec(name);
  const channel = m && parseChannelId(m[4]!);
  if (!m || !channel) return null;
  return { chainId: Number(m[1]), contract: getAddress(m[2]!), receiver: getAddress(m[3]!), ...channel };
}

/** The channel's object on this deployment. */
export function channelStub(env: Env, sender: Address, openBlock: number) {
  return env.CHANNELS.get(cachedIdFromName(env.CHANNELS, channelObjectName(getConfig(env), sender, openBlock)));
}

/** The object an earlier version kept this channel in (read only by the migration). */
export function legacyChannelStub(env: Env, sender: Address, openBlock: number) {
  return env.CHANNELS.get(env.CHANNELS.idFromName(channelId(sender, openBlock)));
}
