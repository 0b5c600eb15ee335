// `npm start` as a person runs it (scripts/start.ts, without the build `prestart` does): it
// prints one line per start-up step as each is done, with how long it took, before the banner,
// and stops on Ctrl-C; and a port something else listens on (anvil's, the Worker's or the demo
// origin's) ends it at once with one line naming that port and the variable that moves it,
// exit code 1 and no stack trace, before anything is started; either way no port stays bound.
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/anvil.js";

const ROOT = join(import.meta.dirname, "../..");

type Run = { code: number | null; stdout: string; stderr: string };

/** Runs scripts/start.ts with these ports until it exits; once its banner is out, `whileUp` runs
 *  (when given) and then Ctrl-C (SIGINT) stops it, so no run outlives its test. */
function runStart(ports: Record<string, number>, whileUp?: () => Promise<void>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const vars = Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)]));
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
      cwd: ROOT,
      env: { ...process.env, ...vars },
    });
    let stdout = "";
    let stderr = "";
    let up = false;
    child.stdout.setEncoding("utf8").on("data", (s: string) => {
      stdout += s;
      if (up || !stdout.includes("edge402 local run is up")) return;
      up = true;
      (whileUp ?? (async () => undefined))().then(
        () => child.kill("SIGINT"),
        (err: unknown) => {
          child.kill("SIGINT");
          reject(err);
        },
      );
    });
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** True when 127.0.0.1:port can be bound, i.e. nothing the run started still listens there. */
function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

let blocker: Server;
let busyPort: number;

beforeAll(async () => {
  blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
  busyPort = (blocker.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise((r) => blocker.close(r));
});

describe("npm start", () => {
  it("prints a line per step with its time, in order, before the banner, and stops on Ctrl-C", async () => {
    const ports = { ANVIL_PORT: await freePort(), PORT: await freePort(), ORIGIN_PORT: await freePort() };
    let stats = 0;
    const run = await runStart(ports, async () => {
      stats = (await fetch(`http://127.0.0.1:${ports.PORT}/api/1/stats`)).status;
    });
    expect(run.stderr).not.toMatch(/error|^\s+at /im);
    expect(run.code).toBe(0);
    expect(stats).toBe(200);
    const banner = run.stdout.indexOf("edge402 local run is up");
    const steps = run.stdout
      .slice(0, banner)
      .split("\n")
      .filter((l) => l.includes("✓"))
      .map((l) => /^ {2}✓ (.+?) +(\d+\.\d) s$/.exec(l)?.[1]);
    expect(steps).toEqual([
      "anvil up",
      "contracts deployed",
      "demo origin up",
      "x402 facilitator up",
      "D1 migrations applied",
      "Worker ready",
    ]);
    expect(run.stdout).toContain(`demo origin      http://127.0.0.1:${ports.ORIGIN_PORT}`);
    expect(run.stdout).toContain("stopped");
    for (const port of Object.values(ports)) expect(await canBind(port)).toBe(true);
  });

  for (const [variable, service] of [
    ["ANVIL_PORT", "the anvil chain"],
    ["PORT", "the Worker"],
    ["ORIGIN_PORT", "the demo origin"],
  ] as const) {
    it(`names the busy port when ${variable} is taken, exit 1, no stack trace, nothing started`, async () => {
      const ports = { ANVIL_PORT: await freePort(), PORT: await freePort(), ORIGIN_PORT: await freePort() };
      ports[variable] = busyPort;
      const run = await runStart(ports);
      expect(run.code).toBe(1);
      expect(run.stderr.trim()).toBe(
        `cannot start ${service}: 127.0.0.1:${busyPort} is already in use. Stop what uses it, or choose another port: ${variable}=<port> npm start`,
      );
      expect(run.stderr).not.toMatch(/^\s+at /m);
      expect(run.stdout).not.toContain("✓");
      for (const [name, port] of Object.entries(ports)) if (name !== variable) expect(await canBind(port)).toBe(true);
    });
  }
});
