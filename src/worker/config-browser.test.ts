// The 402 page's settings in config.ts: how many requests the first proof prepays and a new
// channel's deposit covers, their defaults and the refusal of an impossible pair.
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "./config.js";

const good = {
  CHAIN_ID: "31337",
  RPC_URL: "http://127.0.0.1:8545",
  CONTRACT_ADDRESS: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
  TOKEN_ADDRESS: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
  RECEIVER_PRIVATE_KEY: "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  ADMIN_TOKEN: "0123456789abcdef",
  SESSION_SECRET: "0123456789abcdef",
};

function issues(vars: Record<string, string>): string[] {
  try {
    parseConfig(vars);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  return [];
}

describe("the browser settings", () => {
  it("default to 20 requests prepaid and 100 deposited", () => {
    expect(parseConfig(good)).toMatchObject({ browserPrepayRequests: 20, browserDepositRequests: 100 });
    expect(parseConfig({ ...good, BROWSER_PREPAY_REQUESTS: "5", BROWSER_DEPOSIT_REQUESTS: "5" })).toMatchObject({
      browserPrepayRequests: 5,
      browserDepositRequests: 5,
    });
  });

  it("refuse none prepaid, a deposit smaller than the prepayment, and what is not a number", () => {
    expect(issues({ ...good, BROWSER_PREPAY_REQUESTS: "0" })).toEqual(["BROWSER_PREPAY_REQUESTS must be at least 1"]);
    expect(issues({ ...good, BROWSER_DEPOSIT_REQUESTS: "10" })).toEqual([
      "BROWSER_DEPOSIT_REQUESTS must be at least BROWSER_PREPAY_REQUESTS",
    ]);
    expect(issues({ ...good, BROWSER_DEPOSIT_REQUESTS: "lots" })).toEqual([
      "BROWSER_DEPOSIT_REQUESTS must be an unsigned decimal integer",
    ]);
  });
});
