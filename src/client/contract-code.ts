// Whether a contract's code is this project's MicroTransferChannels byte for byte, because a
// server names the contract in its terms and a look-alike could pull the deposit: the ABI says
// nothing about behaviour, only the code does. The immutables are filled in with what a
// deployment at that address writes (contracts/build.ts ships where each one sits), so no byte
// is free. Pure: the chain read is the caller's.
import {
  bytesToHex,
  domainSeparator,
  getAddress,
  hexToBytes,
  keccak256,
  stringToBytes,
  type Address,
  type Hex,
} from "viem";
import { microTransferChannelsImmutables, microTransferChannelsRuntime } from "../protocol/channel-code.js";
import { EIP712_NAME, EIP712_VERSION } from "../protocol/eip712.js";

/** The smallest challenge period the contract's constructor accepts (PROTOCOL.md section 1). */
export const MIN_CHALLENGE_PERIOD = 500;

export type ChannelCodeCheck = { ok: true; token: Address; challengePeriod: number } | { ok: false; reason: string };

const template = hexToBytes(microTransferChannelsRuntime);
const WORD = 32;

function word(value: bigint): Uint8Array {
  const out = new Uint8Array(WORD);
  for (let i = WORD - 1, v = value; i >= 0 && v > 0n; i--, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}

/** OpenZeppelin's `ShortString`: the UTF-8 bytes left-aligned, the length in the last byte. */
function shortString(text: string): Uint8Array {
  const bytes = stringToBytes(text);
  if (bytes.length > 31) throw new Error(`${text} does not fit a ShortString`);
  const out = new Uint8Array(WORD);
  out.set(bytes);
  out[WORD - 1] = bytes.length;
  return out;
}

function readWord(code: Uint8Array, offset: number): bigint {
  return BigInt(bytesToHex(code.subarray(offset, offset + WORD)));
}

function offsetsOf(name: string): readonly number[] {
  const found = microTransferChannelsImmutables.find((i) => i.name === name);
  if (!found || found.offsets.length === 0) throw new Error(`the channel build has no immutable ${name}`);
  return found.offsets;
}

/**
 * The 32 bytes the constructor writes into each immutable, by name. Throws for a name it does
 * not know (a contract change added one): the check then fails closed until this is taught it.
 */
export function immutableValues(p: {
  chainId: number;
  address: Address;
  token: Address;
  challengePeriod: number;
}): Map<string, Uint8Array> {
  const domain = { name: EIP712_NAME, version: EIP712_VERSION, chainId: p.chainId, verifyingContract: p.address };
  const values = new Map<string, Uint8Array>([
    ["MicroTransferChannels.token", word(BigInt(p.token))],
    ["MicroTransferChannels.challengePeriod", word(BigInt(p.challengePeriod))],
    ["EIP712._cachedChainId", word(BigInt(p.chainId))],
    ["EIP712._cachedThis", word(BigInt(p.address))],
    ["EIP712._hashedName", hexToBytes(keccak256(stringToBytes(EIP712_NAME)))],
    ["EIP712._hashedVersion", hexToBytes(keccak256(stringToBytes(EIP712_VERSION)))],
    ["EIP712._cachedDomainSeparator", hexToBytes(domainSeparator({ domain }))],
    ["EIP712._name", shortString(EIP712_NAME)],
    ["EIP712._version", shortString(EIP712_VERSION)],
  ]);
  for (const { name } of microTransferChannelsImmutables) {
    if (!values.has(name)) throw new Error(`no expected value for the immutable ${name}`);
  }
  return values;
}

/**
 * Checks `code` (the result of eth_getCode at `address` on `chainId`) against the project's
 * channel manager as a constructor deploys it there. On success returns the token and
 * challenge period the code holds.
 */
export function checkChannelCode(code: Hex | undefined, p: { chainId: number; address: Address }): ChannelCodeCheck {
  const actual = hexToBytes(code ?? "0x");
  if (actual.length === 0) return { ok: false, reason: "there is no contract at this address" };
  if (actual.length !== template.length) {
    return { ok: false, reason: `its code is ${actual.length} bytes, the channel manager's is ${template.length}` };
  }
  const tokenWord = readWord(actual, offsetsOf("MicroTransferChannels.token")[0]!);
  const periodWord = readWord(actual, offsetsOf("MicroTransferChannels.challengePeriod")[0]!);
  if (tokenWord >> 160n !== 0n || periodWord >> 32n !== 0n)
    return { ok: false, reason: "its immutables are not an address and a uint32" };
  const token = getAddress(`0x${tokenWord.toString(16).padStart(40, "0")}`);
  const challengePeriod = Number(periodWord);
  const expected = template.slice();
  const values = immutableValues({ chainId: p.chainId, address: getAddress(p.address), token, challengePeriod });
  for (const { name, offsets } of microTransferChannelsImmutables) {
    for (const offset of offsets) expected.set(values.get(name)!, offset);
  }
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) {
      const slot = microTransferChannelsImmutables.find((im) => im.offsets.some((o) => i >= o && i < o + WORD));
      return {
        ok: false,
        reason: slot
          ? `its ${slot.name} at byte ${i} is not what a deployment at this address writes`
          : `its code differs from the channel manager's at byte ${i}`,
      };
    }
  }
  return { ok: true, token, challengePeriod };
}
