import { HttpRequestError } from "viem";
import { describe, expect, it } from "vitest";
import { rpcErrorText } from "./chain.js";

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
