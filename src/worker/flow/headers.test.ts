// The flow-control header values: the IETF RateLimit fields, Retry-After and the trial.
import { describe, expect, it } from "vitest";
import { limitedHeaders, policyHeader, rateLimitHeaders, trialHeader } from "./headers.js";

describe("flow headers", () => {
  it("formats RateLimit-Policy and RateLimit as Structured Field lists", () => {
    expect(policyHeader("free", 5)).toEqual({ "RateLimit-Policy": '"free";q=30;w=6' });
    expect(rateLimitHeaders("paid", { capacity: 200, buffer: 1200, remaining: 1199, fullInMs: 5 })).toEqual({
      "RateLimit-Policy": '"paid";q=1200;w=6',
      RateLimit: '"paid";r=1199;t=1',
    });
  });

  it("adds Retry-After in whole seconds, rounded up, on a refusal", () => {
    const status = { capacity: 5, buffer: 30, remaining: 0, fullInMs: 6000 };
    expect(limitedHeaders("free", status, 200)["Retry-After"]).toBe("1");
    expect(limitedHeaders("free", status, 1001)["Retry-After"]).toBe("2");
    expect(limitedHeaders("free", status, 1001).RateLimit).toBe('"free";r=0;t=6');
  });

  it("reports the trial's remaining whole seconds, 0 once over", () => {
    expect(trialHeader(179_001)).toEqual({ "RDN-Trial-Remaining": "180" });
    expect(trialHeader(0)).toEqual({ "RDN-Trial-Remaining": "0" });
  });
});
