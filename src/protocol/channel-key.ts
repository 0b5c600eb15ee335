// Channel identity, spelled once: the contract's key, and the id the server keys a channel by
// (its objects, its D1 rows, its dispute queue entry), so two spellings can never disagree.
import { encodePacked, getAddress, keccak256, type Address, type Hex } from "viem";

/**
 * The channel key the contract uses: keccak256(abi.encodePacked(sender, receiver, uint32 openBlock)).
 *
 * @param sender - The channel's sender.
 * @param receiver - The channel's receiver.
 * @param openBlock - The block the channel was opened in.
 * @returns The 32-byte key.
 * @example
 * ```ts
 * const key = channelKey(sender, receiver, 1234);
 * ```
 */
export function channelKey(sender: Address, receiver: Address, openBlock: number): Hex {
  return keccak256(encodePacked(["address", "address", "uint32"], [sender, receiver, openBlock]));
}

/**
 * The id of a channel on one receiver and contract: `<sender lowercase>-<openBlock>`.
 *
 * @param sender - The channel's sender (any case).
 * @param openBlock - The block the channel was opened in.
 * @returns The id.
 * @example
 * ```ts
 * channelId("0xAbC…", 1234); // "0xabc…-1234"
 * ```
 */
export function channelId(sender: Address, openBlock: number): string {
  return `${sender.toLowerCase()}-${openBlock}`;
}

const channelIdShape = /^(0x[0-9a-f]{40})-(0|[1-9][0-9]{0,9})$/;

/**
 * Reads a `channelId` back.
 *
 * @param id - A string that may be a channel id.
 * @returns Its sender (checksummed) and open block, or null when `id` is not a channel id.
 * @example
 * ```ts
 * parseChannelId(channelId(sender, 1234)); // { sender, openBlock: 1234 }
 * ```
 */
export function parseChannelId(id: string): { sender: Address; openBlock: number } | null {
  const m = channelIdShape.exec(id);
  if (!m) return null;
  const openBlock = Number(m[2]);
  if (openBlock > 0xffffffff) return null;
  return { sender: getAddress(m[1]!), openBlock };
}
