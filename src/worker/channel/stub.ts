// How the Worker reaches a channel's object, the only way any code does: its name carries the
// chain, contract and receiver (`<chainId>:<contract>:<receiver>:<channelId>`), so a namespace
// reused for another deployment never meets that deployment's state. A 1.0 object (named by the
// bare channel id) is read once by its successor and adopted when its state proves to be this
// deployment's (object.ts `adoptLegacy`, docs/upgrading.md).
import { getAddress, type Address } from "viem";
import { channelId, parseChannelId } from "../../protocol/channel-key.js";
import { getConfig, type Config } from "../config.js";
import type { Env } from "../env.js";
import { boundedMapPer } from "../bounded-map.js";

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
