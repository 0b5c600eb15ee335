// How the Worker reaches a channel's object: one Durable Object per (sender, openBlock) on this
// deployment's receiver and contract, named by the channel id (also its D1 row id).
import type { Address } from "viem";
import { channelId } from "../../protocol/channel-key.js";
import type { Env } from "../config.js";

export function channelStub(env: Env, sender: Address, openBlock: number) {
  return env.CHANNELS.get(env.CHANNELS.idFromName(channelId(sender, openBlock)));
}
