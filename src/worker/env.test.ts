// The standalone Env type against the two things it must agree with: config.ts (the vars it
// cannot start without are exactly REQUIRED_VARS) and this repo's generated
// worker-configuration.d.ts (its Cloudflare.Env must be an Env; `npm run typecheck` checks it).
import { describe, expect, expectTypeOf, it } from "vitest";
import { ConfigError, parseConfig } from "./config.js";
import { REQUIRED_VARS, type Env } from "./env.js";

describe("Env", () => {
  it("requires exactly the vars and secrets config.ts cannot start without", () => {
    let issues: string[] = [];
    try {
      parseConfig({});
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      issues = (err as ConfigError).issues;
    }
    expect(issues.map((i) => /^[A-Z_]+/.exec(i)?.[0]).sort()).toEqual([...REQUIRED_VARS].sort());
  });

  it("is satisfied by the env wrangler types generates from this repo's wrangler.jsonc", () => {
    expectTypeOf<Cloudflare.Env>().toExtend<Env>();
  });
});
