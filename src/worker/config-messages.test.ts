// What config.ts says about bad settings, word for word, and what it makes of good ones: the
// messages operators see (and the tests and docs quote) must not change when the schema's
// library or its form does (e.g. zod's classic API vs zod/mini).
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

function issues(vars: Record<string, unknown>): string[] {
  try {
    parseConfig(vars);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error("parseConfig accepted it");
}

describe("parseConfig messages", () => {
  it("names every missing setting", () => {
    expect(issues({})).toEqual([
      "CHAIN_ID: Invalid input: expected string, received undefined",
      "RPC_URL must be an http(s) URL",
      "CONTRACT_ADDRESS: Invalid input: expected string, received undefined",
      "TOKEN_ADDRESS: Invalid input: expected string, received undefined",
      "RECEIVER_PRIVATE_KEY: Invalid input: expected string, received undefined",
      "ADMIN_TOKEN: Invalid input: expected string, received undefined",
      "SESSION_SECRET: Invalid input: expected string, received undefined",
    ]);
  });

  it("names every malformed setting with its own message", () => {
    expect(
      issues({
        CHAIN_ID: "x",
        RPC_URL: "nope",
        CONTRACT_ADDRESS: "0x12",
        TOKEN_ADDRESS: "zz",
        RECEIVER_PRIVATE_KEY: "0x1",
        ADMIN_TOKEN: "short",
        SESSION_SECRET: "s",
        MIN_CONFIRMATIONS: "-1",
        ALLOW_CREDIT: "yes",
        ORIGIN_URL: "not a url",
        ORIGIN_SECRET: "short",
        DEMO_ROUTES: "1",
        FLOW_CONTROL: "on",
        CHALLENGE_PERIOD: "1.5",
      }),
    ).toEqual([
      "CHAIN_ID must be an unsigned decimal integer",
      "RPC_URL must be an http(s) URL",
      "CONTRACT_ADDRESS must be a 0x-prefixed 20-byte address",
      "TOKEN_ADDRESS must be a 0x-prefixed 20-byte address",
      "RECEIVER_PRIVATE_KEY must be 0x + 64 hex digits",
      "ADMIN_TOKEN must be at least 16 characters (set it with wrangler secret put ADMIN_TOKEN)",
      "SESSION_SECRET must be at least 16 characters (set it with wrangler secret put SESSION_SECRET)",
      "MIN_CONFIRMATIONS must be an unsigned decimal integer",
      "ALLOW_CREDIT must be true or false",
      "ORIGIN_URL must be an http(s) URL",
      "ORIGIN_SECRET must be at least 16 characters",
      "DEMO_ROUTES must be true or false",
      "FLOW_CONTROL must be true or false",
      "CHALLENGE_PERIOD must be an unsigned decimal integer",
    ]);
  });

  it("refuses half of the Analytics Engine read-back settings, which would quietly count in D1", () => {
    const message =
      "ANALYTICS_ACCOUNT_ID and ANALYTICS_API_TOKEN must be set together (or neither, for D1 traffic counters)";
    expect(issues({ ...good, ANALYTICS_ACCOUNT_ID: "0123456789abcdef0123456789abcdef" })).toEqual([message]);
    expect(issues({ ...good, ANALYTICS_API_TOKEN: "an-api-token-0123456789" })).toEqual([message]);
  });

  it("bounds the sync's object calls per run by what one invocation may make", () => {
    expect(issues({ ...good, SYNC_MAX_OBJECT_CALLS: "0" })).toEqual(["SYNC_MAX_OBJECT_CALLS must be from 1 to 9000"]);
    expect(issues({ ...good, SYNC_MAX_OBJECT_CALLS: "9001" })).toEqual([
      "SYNC_MAX_OBJECT_CALLS must be from 1 to 9000",
    ]);
    expect(parseConfig({ ...good, SYNC_MAX_OBJECT_CALLS: "9000" }).syncMaxObjectCalls).toBe(9000);
  });

  it("locates every problem of PROXY_ROUTES", () => {
    expect(issues({ ...good, PROXY_ROUTES: "[" })).toEqual(["PROXY_ROUTES must be a JSON array of routes"]);
    expect(issues({ ...good, PROXY_ROUTES: "{}" })).toEqual([
      "PROXY_ROUTES[]: Invalid input: expected array, received object",
    ]);
    const routes = [
      5,
      {
        path: "x",
        method: 5,
        price: "01",
        metered: { maxPrice: -1, perMs: -1, maxServingMs: "a" },
        trial: "yes",
        costUnits: 1.5,
        description: 3,
      },
      { path: "/ok", price: 2.5 },
      { method: "get" },
    ];
    expect(issues({ ...good, PROXY_ROUTES: JSON.stringify(routes) })).toEqual([
      "PROXY_ROUTES[0]: Invalid input: expected object, received number",
      'PROXY_ROUTES[1.path]: Invalid string: must start with "/"',
      "PROXY_ROUTES[1.method]: Invalid input: expected string, received number",
      "PROXY_ROUTES[1.price]: must be an unsigned decimal integer",
      "PROXY_ROUTES[1.metered.maxPrice]: Too small: expected number to be >=0",
      "PROXY_ROUTES[1.metered.perMs]: Too small: expected number to be >=0",
      "PROXY_ROUTES[1.metered.maxServingMs]: Invalid input: expected number, received string",
      "PROXY_ROUTES[1.trial]: Invalid input: expected boolean, received string",
      "PROXY_ROUTES[1.costUnits]: Invalid input: expected int, received number",
      "PROXY_ROUTES[1.description]: Invalid input: expected string, received number",
      "PROXY_ROUTES[2.price]: Invalid input",
      "PROXY_ROUTES[3.path]: Invalid input: expected string, received undefined",
    ]);
  });

  it("keeps a proxied route's metered stream settings", () => {
    const routes = [{ path: "/sse/*", metered: { maxPrice: "20", perEvent: 2, perMs: 0, stream: true } }];
    const config = parseConfig({ ...good, PROXY_ROUTES: JSON.stringify(routes) });
    expect(config.proxyRoutes[0]!.metered).toEqual({ maxPrice: "20", perEvent: 2, perMs: 0, stream: true });
  });

  it("fills the defaults and normalises good routes", () => {
    const routes = [
      { path: "/a", method: "post", price: 10, metered: { maxPrice: "7", perMs: 0.5 } },
      { path: "/b", price: "3", trial: true, costUnits: 2, description: "d" },
    ];
    const config = parseConfig({ ...good, PROXY_ROUTES: JSON.stringify(routes) });
    expect(config.proxyRoutes).toEqual([
      {
        path: "/a",
        method: "POST",
        price: "10",
        metered: {
          maxPrice: "7",
          perMs: 0.5,
        },
      },
      {
        path: "/b",
        method: "GET",
        price: "3",
        trial: true,
        costUnits: 2,
        description: "d",
      },
    ]);
    expect(config).toMatchObject({
      minConfirmations: 1,
      sessionTtlSeconds: 3600,
      allowCredit: true,
      demoRoutes: false,
      deployBlock: 0n,
      withdrawThreshold: 0n,
      syncChunkBlocks: 2000n,
      syncMaxChunks: 20,
      syncMaxObjectCalls: 2000,
      trialSeconds: 180,
      freeCapacity: 10,
      paidCapacity: 100,
      flowControl: true,
      flowKeyPrefix: 64,
      challengePeriod: undefined,
    });
  });
});

describe("CORS_ORIGINS", () => {
  it("is off by default, * for any origin, or a list of origins (normalised, blanks skipped)", () => {
    expect(parseConfig(good).corsOrigins).toEqual([]);
    expect(parseConfig({ ...good, CORS_ORIGINS: " * " }).corsOrigins).toBe("*");
    expect(parseConfig({ ...good, CORS_ORIGINS: "https://App.example, http://localhost:5173,," }).corsOrigins).toEqual([
      "https://app.example",
      "http://localhost:5173",
    ]);
  });

  it("refuses anything that is not an origin, naming each", () => {
    expect(
      issues({ ...good, CORS_ORIGINS: "https://app.example/path, app.example, *.example, ftp://x.example" }),
    ).toEqual([
      'CORS_ORIGINS must be * or comma-separated origins like https://app.example (no path), not "https://app.example/path", "app.example", "*.example", "ftp://x.example"',
    ]);
  });
});

describe("PROJECTION_SHARDS", () => {
  it("is 1 by default, needing no binding beyond DB", () => {
    expect(parseConfig(good).projectionShards).toBe(1);
    expect(parseConfig({ ...good, PROJECTION_SHARDS: "1" }).projectionShards).toBe(1);
  });

  it("must be a whole number from 1 to 64", () => {
    for (const bad of ["0", "65", "1000"])
      expect(issues({ ...good, PROJECTION_SHARDS: bad })).toEqual(["PROJECTION_SHARDS must be from 1 to 64"]);
    for (const bad of ["two", "1.5", "-2"])
      expect(issues({ ...good, PROJECTION_SHARDS: bad })).toEqual([
        "PROJECTION_SHARDS must be an unsigned decimal integer",
      ]);
  });

  it("names every binding that more than one shard needs", () => {
    expect(issues({ ...good, PROJECTION_SHARDS: "2" })).toEqual([
      "PROJECTION_SHARDS=2 needs the D1 binding DB (d1_databases)",
      "PROJECTION_SHARDS=2 needs the queue producer binding PROJECTION (queues.producers)",
      "PROJECTION_SHARDS=2 needs the D1 binding DB_SHARD_1 (d1_databases)",
      "PROJECTION_SHARDS=2 needs the queue producer binding PROJECTION_1 (queues.producers)",
    ]);
  });
});
