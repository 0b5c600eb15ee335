import { HttpRequestError } from "viem";
import { describe, expect, it } from "vitest";
import { ChainUnavailableError, lookupChannel, rpcErrorText } from "./chain.js";
import type { Config } from "./config.js";

describe("rpcErrorText", () => {
  it("gives viem's short message and the node's details, never the request URL", () => {
    const err = new HttpRequestError({
      url: "https://rpc.example/v1/SECRET-KEY",
      status: 429,
      details: "rate limited",
    });
    const text = rpcErrorText(err);
    expect(text).toBe(`${err.shortMessage} rate limited`);
    expect(text).not.toContain("SECRET-KEY");
    expect(err.message).toContain("SECRET-KEY");
  });

  it("takes a plain error's message and anything else as a string", () => {
    expect(rpcErrorText(new Error("boom"))).toBe("boom");
    expect(rpcErrorText("text")).toBe("text");
  });
});

describe("a node that does not answer", () => {
  // A stranger's look-up of an unknown channel answers 503 chain_unavailable with this text, so
  // it must not carry the RPC URL (providers put the API key in it).
  const config = {
    rpcUrl: "http://127.0.0.1:1/v1/SECRET-KEY",
    chainId: 31337,
    minConfirmations: 1,
    contract: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    receiverAddress: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  } as unknown as Config;

  it("fails a channel look-up with a ChainUnavailableError that does not name the URL", async () => {
    const err = await lookupChannel(config, "0x90F79bf6EB2c4f870365E785982E1f101E93b906", 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChainUnavailableError);
    expect((err as Error).message).not.toContain("SECRET-KEY");
    expect((err as Error).message).not.toContain("127.0.0.1:1");
  });
});
