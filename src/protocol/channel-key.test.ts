import { concat, keccak256, numberToHex } from "viem";
import { describe, expect, it } from "vitest";
import { channelId, channelKey, parseChannelId } from "./channel-key.js";

const sender = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
const receiver = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
// keccak256(abi.encodePacked(sender, receiver, uint32(7))), pinned
const KEY = "0x3b3f5efcd1c036de0d704aa6c99c2dc8f3f3ff90f3127d4cb187e9e41399f16b";

describe("channelKey", () => {
  it("is keccak256(abi.encodePacked(sender, receiver, uint32 openBlock))", () => {
    expect(channelKey(sender, receiver, 7)).toBe(KEY);
    // 20 + 20 + 4 bytes, by hand
    expect(keccak256(concat([sender, receiver, numberToHex(7, { size: 4 })]))).toBe(KEY);
  });

  it("does not depend on address case, and differs per channel", () => {
    expect(channelKey(sender.toLowerCase() as `0x${string}`, receiver.toLowerCase() as `0x${string}`, 7)).toBe(KEY);
    expect(channelKey(sender, receiver, 8)).not.toBe(KEY);
    expect(channelKey(receiver, sender, 7)).not.toBe(KEY);
  });
});

describe("channelId", () => {
  it("is the lowercase sender and the open block", () => {
    expect(channelId(sender, 7)).toBe("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266-7");
    expect(channelId(sender.toLowerCase() as `0x${string}`, 7)).toBe(channelId(sender, 7));
  });

  it("parses back", () => {
    expect(parseChannelId(channelId(sender, 4294967295))).toEqual({ sender, openBlock: 4294967295 });
    expect(parseChannelId("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266-0")).toEqual({ sender, openBlock: 0 });
    for (const bad of [
      "",
      "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266",
      "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266-07",
      "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266-4294967296",
      "0xF39fd6e51aad88f6f4ce6ab8827279cfffb92266-7",
      "0xf39fd6e51aad88f6f4ce6ab8827279cfffb9226-7",
    ]) {
      expect(parseChannelId(bad), bad).toBeNull();
    }
  });
});
