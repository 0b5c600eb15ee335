// PROJECTION_SHARDS against the real bindings of the three-shard Worker: three shards start;
// more shards than bound databases and queues, or a binding of the wrong kind, fail with a
// config error naming each missing binding, at the first request and the first queue batch.
import { createExecutionContext, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../src/worker/config.js";
import worker from "../../src/worker/index.js";
import { deliver, message, randomSender } from "./helpers.js";

const vars = env as unknown as Record<string, unknown>;

function issues(overrides: Record<string, unknown>): string[] {
  try {
    parseConfig({ ...vars, ...overrides });
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error("parseConfig accepted it");
}

describe("PROJECTION_SHARDS with its bindings", () => {
  it("takes three shards when DB_SHARD_1, DB_SHARD_2, PROJECTION_1 and PROJECTION_2 are bound", () => {
    expect(parseConfig(vars).projectionShards).toBe(3);
  });

  it("names every binding a configured shard lacks, or has of the wrong kind", () => {
    expect(issues({ PROJECTION_SHARDS: "4" })).toEqual([
      "PROJECTION_SHARDS=4 needs the D1 binding DB_SHARD_3 (d1_databases)",
      "PROJECTION_SHARDS=4 needs the queue producer binding PROJECTION_3 (queues.producers)",
    ]);
    expect(issues({ DB_SHARD_2: vars.PROJECTION_2, PROJECTION: undefined })).toEqual([
      "PROJECTION_SHARDS=3 needs the queue producer binding PROJECTION (queues.producers)",
      "PROJECTION_SHARDS=3 needs the D1 binding DB_SHARD_2 (d1_databases)",
    ]);
  });

  it("fails the Worker's first request and queue batch with that error", async () => {
    const short = { ...vars, PROJECTION_SHARDS: "5" } as never;
    // As for any bad setting, the Worker refuses to build its app: the request fails with it.
    await expect(
      (async () =>
        worker.fetch(new Request("http://paywall.test/api/1/stats") as never, short, createExecutionContext()))(),
    ).rejects.toThrow(/PROJECTION_SHARDS=5 needs the D1 binding DB_SHARD_4/);
    const batch = await deliver([message(randomSender(), { version: 1, payments: 1 })], 1, "edge402-projection", short);
    expect(batch.error).toBeInstanceOf(ConfigError);
    expect(batch.ackAll).toBe(false);
  });
});
