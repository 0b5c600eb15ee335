// Channel identity. `channelKey` is the contract's key for a channel,
// keccak256(abi.encodePacked(sender, receiver, uint32 openBlock)); `channelId` is the name of
// the channel's Durable Object on one receiver and contract, `<sender lowercase>-<openBlock>`,
// and `parseChannelId` reads it back.
import { encodePacked, getAddress, keccak256, type Address, type Hex } from "viem";

/** The channel key the contract uses: keccak256(abi.encodePacked(sender, receiver, uint32 openBlock)). */
export function channelKey(sender: Address, receiver: Address, openBlock: number): Hex {
  return keccak256(encodePacked(["address", "address", "uint32"], [sender, receiver, openBlock]));
}

/** The Durable Object name of a channel on a given receiver and contract. */
export function channelId(sender: Address, openBlock: number): string {
  return `${sender.toLowerCase()}-${openBlock}`;
}

const channelIdShape = /^(0x[0-9a-f]{40})-(0|[1-9][0-9]{0,9})$/;

/** Reads a `channelId` back into its sender (checksummed) and open block, or null. */
export function parseChannelId(id: string): { sender: Address; openBlock: number } | null {
  const m = channelIdShape.exec(id);
  if (!m) return null;
  const openBlock = Number(m[2]);
  if (openBlock > 0xffffffff) return null;
  return { sender: getAddress(m[1]!), openBlock };
}
