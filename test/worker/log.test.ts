// The Worker's structured logs, inside workerd: a sync run that fails logs exactly one JSON line
// with `event: "sync_failed"` (what Workers Logs indexes and an operator alerts on), and the
// line never carries the RPC URL, which can hold an API key.
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { runSync } from "../../src/worker/sync/run.js";

afterEach(() => vi.restoreAllMocks());

describe("structured logs", () => {
  it("a failed sync logs one JSON line with event sync_failed and no RPC URL", async () => {
    const lines: string[] = [];
    const capture = (...args: unknown[]) => void lines.push(args.map(String).join(" "));
    vi.spyOn(console, "error").mockImplementation(capture);
    vi.spyOn(console, "warn").mockImplementation(capture);
    vi.spyOn(console, "log").mockImplementation(capture);

    const secretUrl = "http://127.0.0.1:1/v3/secret-api-key";
    const report = await runSync(env, { config: { rpcUrl: secretUrl } });
    expect(report.ran).toBe(true);
    expect(report.error).toBeTruthy();

    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(entry).toMatchObject({ level: "error", event: "sync_failed" });
    expect(typeof entry.error).toBe("string");
    expect(lines[0]).not.toContain("secret-api-key");
    expect(lines[0]).not.toContain("127.0.0.1:1");
  });
});
