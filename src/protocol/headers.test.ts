import { describe, expect, it } from "vitest";
import { GATEWAY_PATH, paymentHeaderNames, RdnFlags, RdnHeaders } from "./headers.js";

describe("header names", () => {
  it("are the canonical RDN-* names of PROTOCOL.md", () => {
    expect(GATEWAY_PATH).toBe("/api/1");
    expect(RdnHeaders).toEqual({
      gatewayPath: "RDN-Gateway-Path",
      receiverAddress: "RDN-Receiver-Address",
      contractAddress: "RDN-Contract-Address",
      tokenAddress: "RDN-Token-Address",
      chainId: "RDN-Chain-Id",
      price: "RDN-Price",
      senderAddress: "RDN-Sender-Address",
      openBlock: "RDN-Open-Block",
      balance: "RDN-Balance",
      balanceSignature: "RDN-Balance-Signature",
      session: "RDN-Session",
      senderBalance: "RDN-Sender-Balance",
      deposit: "RDN-Deposit",
      credit: "RDN-Credit",
      cost: "RDN-Cost",
      closeSignature: "RDN-Close-Signature",
      closeDeadline: "RDN-Close-Deadline",
    });
    const all = [...Object.values(RdnHeaders), ...Object.values(RdnFlags)];
    expect(new Set(all.map((h) => h.toLowerCase())).size).toBe(all.length);
    expect(paymentHeaderNames).toEqual([
      "RDN-Sender-Address",
      "RDN-Open-Block",
      "RDN-Balance",
      "RDN-Balance-Signature",
      "RDN-Session",
    ]);
  });

  it("does not shadow the global Headers", () => {
    expect(typeof globalThis.Headers).toBe("function");
  });
});
