import { describe, expect, it } from "vitest";
import { main, type CliIo } from "./cli.js";

function io(env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const value: CliIo = {
    stdout: (c) => out.push(typeof c === "string" ? c : new TextDecoder().decode(c)),
    stderr: (t) => err.push(t),
    env: { HOME: "/nonexistent", ...env },
  };
  return { io: value, out: () => out.join(""), err: () => err.join("") };
}

const KEY = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6";
const argv = (...args: string[]) => ["node", "edge402", ...args];

describe("edge402 CLI arguments", () => {
  it("prints help listing every command", async () => {
    const t = io();
    expect(await main(argv("--help"), t.io)).toBe(0);
    for (const cmd of ["fetch", "channels", "topup", "close", "settle"]) expect(t.out()).toContain(cmd);
    for (const flag of ["--trust-contract", "--max-deposit", "--max-total", "EDGE402_TRUSTED_CONTRACTS", "EDGE402_MAX_DEPOSIT"]) expect(t.out()).toContain(flag);
  });

  it("needs the key and the RPC URL, and says which variable to set", async () => {
    const noKey = io({ EDGE402_RPC_URL: "http://127.0.0.1:1" });
    expect(await main(argv("channels"), noKey.io)).toBe(1);
    expect(noKey.err()).toContain("EDGE402_PRIVATE_KEY");
    const noRpc = io({ EDGE402_PRIVATE_KEY: KEY });
    expect(await main(argv("channels"), noRpc.io)).toBe(1);
    expect(noRpc.err()).toContain("EDGE402_RPC_URL");
    const badKey = io({ EDGE402_PRIVATE_KEY: "0x1234", EDGE402_RPC_URL: "http://127.0.0.1:1" });
    expect(await main(argv("channels"), badKey.io)).toBe(1);
  });

  it("refuses malformed amounts, headers and URLs before doing anything", async () => {
    const env = { EDGE402_PRIVATE_KEY: KEY, EDGE402_RPC_URL: "http://127.0.0.1:1" };
    for (const args of [
      ["fetch", "--max-spend", "5.0", "http://127.0.0.1:1/x"],
      ["fetch", "-H", "no colon", "http://127.0.0.1:1/x"],
      ["topup", "http://127.0.0.1:1", "-5"],
      ["close", "--channel", "abc", "http://127.0.0.1:1"],
    ]) {
      const t = io(env);
      expect(await main(argv(...args), t.io), args.join(" ")).toBe(1);
      expect(t.err()).toMatch(/error/i);
    }
    for (const args of [
      ["--trust-contract", "0x1234", "channels"],
      ["channels", "--max-deposit", "-1"],
      ["--max-total", "1e3", "channels"],
    ]) {
      const t = io(env);
      expect(await main(argv(...args), t.io), args.join(" ")).toBe(1);
      expect(t.err()).toMatch(/error/i);
    }
    const badUrl = io(env);
    expect(await main(argv("fetch", "not a url"), badUrl.io)).toBe(1);
    expect(badUrl.err()).toContain("not a URL");
  });
});
