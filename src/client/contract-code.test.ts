import { bytesToHex, hexToBytes, type Address } from "viem";
import { describe, expect, it } from "vitest";
import { microTransferChannelsImmutables, microTransferChannelsRuntime } from "../protocol/channel-code.js";
import { checkChannelCode, immutableValues } from "./contract-code.js";

const chainId = 31337;
const address: Address = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512";
const token: Address = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

/** The code a constructor deployment at `at` writes (the check's own rule, restated from the build's table). */
function deployed(at: Address = address, period = 500): Uint8Array {
  const code = hexToBytes(microTransferChannelsRuntime);
  const values = immutableValues({ chainId, address: at, token, challengePeriod: period });
  for (const { name, offsets } of microTransferChannelsImmutables) for (const o of offsets) code.set(values.get(name)!, o);
  return code;
}

const offsets = (name: string) => microTransferChannelsImmutables.find((i) => i.name === name)!.offsets;
const metadataStart = (code: Uint8Array) => code.length - 2 - ((code[code.length - 2]! << 8) | code[code.length - 1]!);

describe("checkChannelCode", () => {
  it("accepts the build as deployed here, whatever token and challenge period it holds", () => {
    expect(checkChannelCode(bytesToHex(deployed()), { chainId, address })).toEqual({ ok: true, token, challengePeriod: 500 });
    expect(checkChannelCode(bytesToHex(deployed(address, 7200)), { chainId, address })).toMatchObject({ ok: true, challengePeriod: 7200 });
  });

  it("knows every immutable of the build (a new one would fail closed)", () => {
    const names = microTransferChannelsImmutables.map((i) => i.name).sort();
    expect(names).toContain("MicroTransferChannels.token");
    expect([...immutableValues({ chainId, address, token, challengePeriod: 500 }).keys()].sort()).toEqual(names);
  });

  it("refuses no code, other lengths, and any other byte, the CBOR metadata included", () => {
    expect(checkChannelCode("0x", { chainId, address }).ok).toBe(false);
    expect(checkChannelCode(undefined, { chainId, address }).ok).toBe(false);
    const code = deployed();
    expect(checkChannelCode(bytesToHex(code.subarray(0, -1)), { chainId, address }).ok).toBe(false);
    expect(checkChannelCode(bytesToHex(new Uint8Array([...code, 0])), { chainId, address }).ok).toBe(false);
    for (const at of [0, 100, metadataStart(code) + 10, code.length - 1]) {
      const tampered = code.slice();
      tampered[at] = tampered[at]! ^ 0x01;
      expect(checkChannelCode(bytesToHex(tampered), { chainId, address }), `byte ${at}`).toMatchObject({ ok: false });
    }
  });

  it("refuses immutables a constructor would not write: one token in some places and another elsewhere, or another contract's EIP-712 cache", () => {
    const code = deployed();
    const other = hexToBytes(`0x${"00".repeat(12)}${"ab".repeat(20)}`);
    const split = code.slice();
    split.set(other, offsets("MicroTransferChannels.token").at(-1)!);
    expect(checkChannelCode(bytesToHex(split), { chainId, address })).toMatchObject({ ok: false, reason: expect.stringContaining("MicroTransferChannels.token") });
    // The genuine code of another deployment, copied to this address: its domain is not ours.
    const copied = deployed("0x0000000000000000000000000000000000000b0b");
    expect(checkChannelCode(bytesToHex(copied), { chainId, address })).toMatchObject({ ok: false, reason: expect.stringContaining("EIP712") });
    expect(checkChannelCode(bytesToHex(deployed()), { chainId: 1, address }).ok).toBe(false);
    const wide = code.slice();
    for (const o of offsets("MicroTransferChannels.challengePeriod")) wide[o] = 1;
    expect(checkChannelCode(bytesToHex(wide), { chainId, address }).ok).toBe(false);
  });
});
