// scripts/stack.ts owns the whole local stack that `npm start` and the end-to-end tests run:
// a fresh anvil chain with TestToken and MicroTransferChannels deployed from anvil's account 0,
// the demo echo origin (scripts/demo-origin.ts) behind the Worker's proxied route, the local D1
// migrations, and the paywall Worker under `wrangler dev --local` on 127.0.0.1 with anvil's
// account 1 as its receiver, local D1 and Durable Objects persisted to a fresh temp dir, and its
// scheduled handler triggered every few seconds (production runs it by cron). `startStack()`
// resolves once `GET /api/1/stats` answers 200 and returns the addresses and a `stop()` that
// ends the scheduled loop, kills wrangler's whole process group (workerd included), the origin
// and anvil, and removes the temp dir. Exit and signal hooks stop whatever is still running if
// the caller never does. Secrets reach wrangler through an env file (mode 0600) in the persist
// dir, never on the command line; every other var is a `--var`.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Address } from "viem";
import { DEFAULT_CHALLENGE_PERIOD, deployContracts, TEST_TOKEN_DOMAIN } from "../contracts/deploy.js";
import { ANVIL_ADDRESSES, ANVIL_KEYS, freePort, startAnvil, type AnvilHandle } from "./anvil.js";
import { startDemoOrigin, type DemoOrigin } from "./demo-origin.js";
import { startX402Facilitator } from "./x402-facilitator.js";

export interface StackOptions {
  /** anvil's port on 127.0.0.1; 0 or undefined picks a free one. */
  anvilPort?: number;
  /** The Worker's port on 127.0.0.1; 0 or undefined picks a free one. */
  port?: number;
  /** Extra or overriding Worker vars (e.g. TRIAL_SECONDS, ALLOW_CREDIT, ADMIN_TOKEN). */
  env?: Record<string, string>;
  /** When false, wrangler's log (after start-up) is copied to stdout with a `[worker]` prefix. Default true. */
  quiet?: boolean;
  /** Keep local D1 / Durable Object state here instead of a fresh temp dir (not removed on stop). */
  persistDir?: string;
  /** How often the scheduled handler is triggered, in ms; 0 disables the loop. Default 3000. */
  scheduledEveryMs?: number;
  /** Stop everything on SIGINT/SIGTERM/SIGHUP and exit (default true). `npm start` installs its own. */
  handleSignals?: boolean;
  /** The Worker project wrangler runs in (its wrangler config and D1 migrations); default this repo. */
  projectDir?: string;
  /** anvil mines a block every this many seconds instead of at once (a real chain's pace). */
  anvilBlockTime?: number;
}

export interface Stack {
  /** The Worker's base URL, e.g. http://127.0.0.1:8787 (no trailing slash). */
  url: string;
  rpcUrl: string;
  chainId: number;
  /** The MicroTransferChannels contract. */
  contract: Address;
  token: Address;
  receiver: Address;
  adminToken: string;
  origin: { url: string };
  /** The local x402 facilitator (X402_FACILITATOR_URL) and the account it settles from. */
  facilitator: { url: string; address: Address };
  deployBlock: bigint;
  /** The proxied priced routes configured (PROXY_ROUTES). */
  proxyRoutes: ProxyRouteSpec[];
  /** Where local D1 and Durable Object state lives. */
  persistDir: string;
  /** wrangler's captured output so far (the last 64 KiB). */
  logs(): string;
  /** Stops everything this stack started; safe to call more than once. */
  stop(): Promise<void>;
}

export type ProxyRouteSpec = { path: string; method: string; price: string };

/** A fixed port asked for is already taken; `service` says which. */
export class PortInUseError extends Error {
  override name = "PortInUseError";
  constructor(
    readonly service: "anvil" | "worker",
    readonly port: number,
  ) {
    super(`cannot start the ${service === "anvil" ? "anvil chain" : "Worker"}: 127.0.0.1:${port} is already in use`);
  }
}

/** The proxied origin route of the local run: priced 3, forwarded to the demo origin. */
export const DEMO_PROXY_ROUTES: ProxyRouteSpec[] = [{ path: "/origin/*", method: "GET", price: "3" }];

/** Vars read from the environment when set (PROTOCOL.md section 4's overrides). */
const PASS_THROUGH = [
  "TRIAL_SECONDS",
  "FREE_CAPACITY",
  "PAID_CAPACITY",
  "WITHDRAW_THRESHOLD",
  "MIN_CONFIRMATIONS",
  "LOOKUP_RATE",
];
/** Vars that are secrets: written to the env file, never put on a command line. */
const SECRETS = new Set(["RECEIVER_PRIVATE_KEY", "ADMIN_TOKEN", "SESSION_SECRET", "ORIGIN_SECRET"]);
/** Characters a secret may hold so that dotenv reads it back unchanged (no quotes, `$`, `#`, `\`). */
const DOTENV_SAFE = /^[A-Za-z0-9_.:/+=~@%,-]+$/;

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const WRANGLER = join(REPO_ROOT, "node_modules", ".bin", "wrangler");
const READY_TIMEOUT_MS = 60_000;
const LOG_LIMIT = 64 * 1024;
// biome-ignore lint/suspicious/noControlCharactersInRegex: ESC starts the ANSI colour codes it strips
const ANSI = /\x1b\[[0-9;]*m/g;
/** wrangler lines not worth copying to the console: the scheduled loop's own noise while the
 * Worker has no scheduled() handler, and wrangler's offline `Request.cf` fallback. */
const QUIET_LINES = [
  /does not export a scheduled\(\) function/,
  /cdn-cgi\/handler\/scheduled/,
  /Request\.cf/,
  /workers\.cloudflare\.com/,
  /GetAddrInfoReqWrap/,
];

function childEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    CI: "true",
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_LOAD_DEV_VARS_FROM_DOT_ENV: "true",
    CLOUDFLARE_INCLUDE_PROCESS_ENV: "false",
    BROWSER: "none",
    NO_COLOR: "1",
    FORCE_COLOR: "0",
  };
}

/** True when nothing listens on 127.0.0.1:port right now. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolveFree(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolveFree(true)));
  });
}

/** Runs a command to completion; rejects with its output when it fails. */
function run(command: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { cwd, env: childEnv(), stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (out += s));
    child.once("error", reject);
    child.once("close", (code, signal) => {
      if (code === 0) resolveRun(out);
      else reject(new Error(`${[command, ...args].join(" ")} failed (${code ?? signal}):\n${out.trim()}`));
    });
  });
}

/** Every stack still running, for the exit and signal hooks. */
const live = new Set<{ hardKill(): void; stop(): Promise<void> }>();
let hooksInstalled = false;
let signalsInstalled = false;

function installHooks(handleSignals: boolean): void {
  if (!hooksInstalled) {
    hooksInstalled = true;
    // Last resort: the process is exiting without stop(); nothing async runs here.
    process.on("exit", () => {
      for (const s of live) s.hardKill();
    });
  }
  if (handleSignals && !signalsInstalled) {
    signalsInstalled = true;
    for (const [signal, code] of [
      ["SIGINT", 130],
      ["SIGTERM", 143],
      ["SIGHUP", 129],
    ] as const) {
      process.once(signal, () => {
        void Promise.allSettled([...live].map((s) => s.stop())).finally(() => process.exit(code));
      });
    }
  }
}

/** Kills a detached child's whole process group, politely, then by force; resolves when it is gone. */
async function killGroup(child: ChildProcess, exited: Promise<void>): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  const groupAlive = (): boolean => {
    try {
      process.kill(-pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const signalGroup = (signal: NodeJS.Signals): void => {
    try {
      process.kill(-pid, signal);
    } catch {
      // the group is already gone
    }
  };
  signalGroup("SIGTERM");
  const deadline = Date.now() + 5_000;
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
  // wrangler may exit before workerd does: wait for the whole group, then force it.
  while (groupAlive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (groupAlive()) {
    signalGroup("SIGKILL");
    const killDeadline = Date.now() + 2_000;
    while (groupAlive() && Date.now() < killDeadline) await new Promise((r) => setTimeout(r, 20));
  }
  await Promise.race([exited, new Promise((r) => setTimeout(r, 1_000))]);
}

/** Starts anvil, the contracts, the demo origin and the Worker; see the module comment. */
export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  installHooks(opts.handleSignals ?? true);
  const quiet = opts.quiet ?? true;
  if (opts.anvilPort && !(await portIsFree(opts.anvilPort))) throw new PortInUseError("anvil", opts.anvilPort);
  if (opts.port && !(await portIsFree(opts.port))) throw new PortInUseError("worker", opts.port);

  const cleanups: Array<() => Promise<void> | void> = [];
  let wranglerChild: ChildProcess | undefined;
  let wranglerExited: Promise<void> = Promise.resolve();
  let scheduledTimer: NodeJS.Timeout | undefined;
  let loopStopped = false;
  let log = "";
  const ownsDir = opts.persistDir === undefined;
  const persistDir = opts.persistDir ? resolve(opts.persistDir) : mkdtempSync(join(tmpdir(), "edge402-"));
  const envFile = join(persistDir, "edge402-secrets.env");

  const hardKill = (): void => {
    loopStopped = true;
    if (scheduledTimer) clearTimeout(scheduledTimer);
    if (wranglerChild?.pid !== undefined) {
      try {
        process.kill(-wranglerChild.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    try {
      if (ownsDir) rmSync(persistDir, { recursive: true, force: true });
      else rmSync(envFile, { force: true });
    } catch {
      // best effort at exit
    }
  };

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      loopStopped = true;
      if (scheduledTimer) clearTimeout(scheduledTimer);
      if (wranglerChild) await killGroup(wranglerChild, wranglerExited);
      for (const cleanup of cleanups.reverse()) {
        try {
          await cleanup();
        } catch {
          // keep stopping the rest
        }
      }
      if (ownsDir) rmSync(persistDir, { recursive: true, force: true });
      else rmSync(envFile, { force: true });
      live.delete(handle);
    })();
    return stopping;
  };
  const handle = { hardKill, stop };
  live.add(handle);

  try {
    const anvil: AnvilHandle = await startAnvil({
      port: opts.anvilPort,
      quiet: true,
      blockTime: opts.anvilBlockTime,
    }).catch((err: Error) => {
      if (opts.anvilPort && /already in use|EADDRINUSE|os error 98/i.test(err.message))
        throw new PortInUseError("anvil", opts.anvilPort);
      throw err;
    });
    cleanups.push(() => anvil.stop());
    const deployment = await deployContracts({
      rpcUrl: anvil.rpcUrl,
      privateKey: ANVIL_KEYS[0]!,
      challengePeriod: DEFAULT_CHALLENGE_PERIOD,
    });
    const origin: DemoOrigin = await startDemoOrigin();
    cleanups.push(() => origin.stop());
    // A local x402 facilitator (settling from anvil's account 2), so stock x402 `exact` clients pay too.
    const facilitator = await startX402Facilitator({
      rpcUrl: anvil.rpcUrl,
      chainId: deployment.chainId,
      privateKey: ANVIL_KEYS[2]!,
    });
    cleanups.push(() => facilitator.stop());

    const adminToken = opts.env?.ADMIN_TOKEN ?? process.env.ADMIN_TOKEN ?? randomBytes(24).toString("hex");
    if (adminToken.length < 16) throw new Error("ADMIN_TOKEN must be at least 16 characters");
    const vars: Record<string, string> = {
      CHAIN_ID: String(deployment.chainId),
      RPC_URL: anvil.rpcUrl,
      CONTRACT_ADDRESS: deployment.channels,
      TOKEN_ADDRESS: deployment.token,
      DEPLOY_BLOCK: deployment.deployBlock.toString(),
      CHALLENGE_PERIOD: String(DEFAULT_CHALLENGE_PERIOD),
      MIN_CONFIRMATIONS: "1",
      DEMO_ROUTES: "true",
      ORIGIN_URL: origin.url,
      PROXY_ROUTES: JSON.stringify(DEMO_PROXY_ROUTES),
      RECEIVER_PRIVATE_KEY: ANVIL_KEYS[1]!,
      SESSION_SECRET: randomBytes(32).toString("hex"),
      X402_FACILITATOR_URL: facilitator.url,
      X402_TOKEN_NAME: TEST_TOKEN_DOMAIN.name,
      X402_TOKEN_VERSION: TEST_TOKEN_DOMAIN.version,
    };
    for (const key of PASS_THROUGH) {
      const value = process.env[key];
      if (value !== undefined && value !== "") vars[key] = value;
    }
    Object.assign(vars, opts.env ?? {});
    vars.ADMIN_TOKEN = adminToken;

    const secretLines: string[] = [];
    const varArgs: string[] = [];
    for (const [key, value] of Object.entries(vars)) {
      if (!/^[A-Z_][A-Z0-9_]*$/.test(key)) throw new Error(`not a valid var name: ${key}`);
      if (SECRETS.has(key)) {
        if (!DOTENV_SAFE.test(value)) throw new Error(`${key} may only contain letters, digits and _.:/+=~@%,-`);
        secretLines.push(`${key}=${value}`);
      } else {
        varArgs.push("--var", `${key}:${value}`);
      }
    }
    writeFileSync(envFile, `${secretLines.join("\n")}\n`, { mode: 0o600 });
    chmodSync(envFile, 0o600);

    const projectDir = opts.projectDir ?? REPO_ROOT;
    await run(WRANGLER, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", persistDir], projectDir);

    const port = opts.port || (await freePort());
    const inspectorPort = await freePort();
    const args = [
      "dev",
      "--local",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      String(inspectorPort),
      "--persist-to",
      persistDir,
      "--env-file",
      envFile,
      "--show-interactive-dev-session=false",
      "--log-level",
      "info",
      ...varArgs,
    ];
    let ready = false;
    const child = spawn(WRANGLER, args, {
      cwd: projectDir,
      env: childEnv(),
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    wranglerChild = child;
    wranglerExited = new Promise<void>((resolveExit) => {
      if (child.exitCode !== null || child.signalCode !== null) resolveExit();
      else child.once("exit", () => resolveExit());
    });
    let spawnError: Error | undefined;
    child.once("error", (err) => (spawnError = err));
    const onOutput = (chunk: string): void => {
      log = (log + chunk).slice(-LOG_LIMIT);
      if (ready && !quiet) {
        for (const raw of chunk.split("\n")) {
          const line = raw.replace(ANSI, "").trimEnd();
          if (line.trim() && !QUIET_LINES.some((re) => re.test(line))) process.stdout.write(`[worker] ${line}\n`);
        }
      }
    };
    child.stdout!.setEncoding("utf8").on("data", onOutput);
    child.stderr!.setEncoding("utf8").on("data", onOutput);

    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let last = "no answer yet";
    for (;;) {
      if (spawnError) throw new Error(`wrangler could not be started (${WRANGLER}): ${spawnError.message}`);
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(
          `wrangler dev exited (${child.exitCode ?? child.signalCode}) before the Worker answered:\n${log.trim()}`,
        );
      }
      try {
        const res = await fetch(`${url}/api/1/stats`, { signal: AbortSignal.timeout(5_000) });
        const body = await res.text();
        if (res.status === 200) break;
        last = `HTTP ${res.status}: ${body.slice(0, 2_000)}`;
        // A configuration error will not fix itself.
        if (body.includes("misconfigured")) throw new Error(`the Worker is misconfigured: ${last}`);
      } catch (err) {
        if ((err as Error).message.startsWith("the Worker is misconfigured")) throw err;
        last = (err as Error).message;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `the Worker did not answer GET ${url}/api/1/stats with 200 within ${READY_TIMEOUT_MS / 1000} s (last: ${last}); wrangler output:\n${log.trim()}`,
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    ready = true;

    const everyMs = opts.scheduledEveryMs ?? 3_000;
    if (everyMs > 0) {
      // The scheduled handler may not exist (404/500): that is tolerated, quietly.
      const tick = async (): Promise<void> => {
        try {
          const res = await fetch(`${url}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent("* * * * *")}`, {
            signal: AbortSignal.timeout(30_000),
          });
          await res.arrayBuffer();
        } catch {
          // the Worker is restarting or stopping
        }
        if (!loopStopped) {
          scheduledTimer = setTimeout(() => void tick(), everyMs);
          scheduledTimer.unref();
        }
      };
      scheduledTimer = setTimeout(() => void tick(), Math.min(everyMs, 500));
      scheduledTimer.unref();
    }

    return {
      url,
      rpcUrl: anvil.rpcUrl,
      chainId: deployment.chainId,
      contract: deployment.channels,
      token: deployment.token,
      receiver: ANVIL_ADDRESSES[1]!,
      adminToken,
      origin: { url: origin.url },
      facilitator: { url: facilitator.url, address: facilitator.address },
      deployBlock: deployment.deployBlock,
      proxyRoutes: DEMO_PROXY_ROUTES,
      persistDir,
      logs: () => log,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
