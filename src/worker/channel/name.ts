// The Durable Object name of a channel: the deployment (chain id, contract, receiver) and the
// channel (sender, open block), so a namespace reused for another deployment never mixes states.
import { getAddress, type Address } from "viem";
import { channelId, parseChannelId } from "../../protocol/channel-key.js";
import type { Config } from "../config.js";

export type Deployment = Pick<Config, "chainId" | "contract" | "receiverAddress">;

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
