import { afterEach, describe, expect, it, vi } from "vitest";
import { errorText, log, LogEvents, redactUrls } from "./log.js";

afterEach(() => vi.restoreAllMocks());

describe("log", () => {
  it("writes one JSON line per event, at the console level of its log level", () => {
    const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    log.error(LogEvents.syncFailed, { error: "boom", headBlock: 7, skipped: undefined });
    log.warn(LogEvents.syncReorg, { fromBlock: 9, toBlock: 5 });
    expect(error).toHaveBeenCalledTimes(1);
    expect(JSON.parse(error.mock.calls[0]![0] as string)).toEqual({
      level: "error",
      event: "sync_failed",
      error: "boom",
      headBlock: 7,
    });
    expect(JSON.parse(warn.mock.calls[0]![0] as string)).toEqual({
      level: "warn",
      event: "sync_reorg",
      fromBlock: 9,
      toBlock: 5,
    });
  });

  it("never lets a field override the level or the event, and cuts URLs out of text fields", () => {
    const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
    log.error(LogEvents.receiverAlert, {
      event: "other",
      level: "info",
      alert: "node https://rpc.example/key-123 down",
    });
    expect(JSON.parse(error.mock.calls[0]![0] as string)).toEqual({
      level: "error",
      event: "receiver_alert",
      alert: "node <url> down",
    });
  });

  it("event names are stable snake_case and unique", () => {
    const names = Object.values(LogEvents);
    for (const name of names) expect(name).toMatch(/^[a-z]+(_[a-z0-9]+)*$/);
    expect(new Set(names).size).toBe(names.length);
  });

  it("turns an error into one short line: viem's short message, never the URL", () => {
    const viemLike = Object.assign(new Error("HTTP request failed.\n\nURL: https://rpc.example/v3/key\nBody: {}"), {
      name: "HttpRequestError",
      shortMessage: "HTTP request failed.",
      details: "fetch failed",
    });
    expect(errorText(viemLike)).toBe("HttpRequestError: HTTP request failed. fetch failed");
    expect(errorText(new TypeError("bad wss://node.example:8546/abc"))).toBe("TypeError: bad <url>");
    expect(errorText("plain")).toBe("plain");
    expect(redactUrls("see http://a.b/c?d=e, then")).toBe("see <url> then");
  });
});
