// The whole local stack in one call, because `npm start`, the end-to-end tests and the bench
// must run the same thing: a fresh anvil with the contracts, the demo origin, and the Worker
// under `wrangler dev --local`. Everything it starts stops with it, even when the caller never
// calls stop(), and secrets never reach a command line.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Address } from "viem";
import { DEFAULT_CHALLENGE_PERIOD, deployContracts, TEST_TOKEN_DOMAIN, type Deployment } from "../contracts/deploy.js";
import { shardBindingNames } from "../src/worker/config.js";
import { ANVIL_ADDRESSES, ANVIL_KEYS, freePort, startAnvil, type AnvilHandle } from "./anvil.js";
import { startDemoOrigin, type DemoOrigin } from "./demo-origin.js";
import { startX402Facilitator, type X402Facilitator } from "./x402-facilitator.js";

export interface StackOptions {
  /** anvil's port on 127.0.0.1; 0 or undefined picks a free one. */
  anvilPort?: number;
  /** The Worker's port on 127.0.0.1; 0 or undefined picks a free one. */
  port?: number;
  /** The demo origin's port on 127.0.0.1; 0 or undefined picks a free one. */
  originPort?: number;
  /** Called as each start-up step is done, with how long it took (`npm start` prints a line each). */
  onStep?: (step: StackStep, ms: number) => void;
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
  /** anvil's process id (to pause the chain node with SIGSTOP). */
  anvilPid: number;
  /** wrangler's captured output so far (the last 64 KiB). */
  logs(): string;
  /** The pid of the workerd process that runs the Worker and its Durable Objects (Linux /proc). */
  workerPid(): number | undefined;
  /** Sends `signal` (default SIGKILL) to that workerd process; returns its pid. */
  killWorker(signal?: NodeJS.Signals): number;
  /** Stops wrangler (whatever is left of it) and starts it again on the same port and state dir. */
  restartWorker(): Promise<void>;
  /** Stops everything this stack started; safe to call more than once. */
  stop(): Promise<void>;
}

export type ProxyRouteSpec = { path: string; method: string; price: string };

/** The start-up steps of `startStack`, in the order they are done. */
export const STACK_STEPS = [
  "anvil up",
  "contracts deployed",
  "demo origin up",
  "x402 facilitator up",
  "D1 migrations applied",
  "Worker ready",
] as const;
export type StackStep = (typeof STACK_STEPS)[number];

/** What each fixed port of the stack is for. */
const SERVICE_NAMES = { anvil: "the anvil chain", worker: "the Worker", origin: "the demo origin" } as const;

/** A fixed port asked for is already taken; `service` says which. */
export class PortInUseError extends Error {
  override name = "PortInUseError";
  constructor(
    readonly service: keyof typeof SERVICE_NAMES,
    readonly port: number,
  ) {
    super(`cannot start ${SERVICE_NAMES[service]}: 127.0.0.1:${port} is already in use`);
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
  "CORS_ORIGINS",
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

/** What one stack started and how to stop it: the scheduled loop, then wrangler, then the rest in reverse. */
class StackLifetime {
  readonly persistDir: string;
  /** The secrets' env file in the persist dir (mode 0600): removed on stop even when the dir is kept. */
  readonly envFile: string;
  private readonly ownsDir: boolean;
  private readonly cleanups: Array<() => Promise<void> | void> = [];
  private worker: WranglerDev | undefined;
  private scheduledTimer: NodeJS.Timeout | undefined;
  private loopStopped = false;
  private stopping: Promise<void> | undefined;

  constructor(persistDir: string | undefined) {
    this.ownsDir = persistDir === undefined;
    this.persistDir = persistDir ? resolve(persistDir) : mkdtempSync(join(tmpdir(), "edge402-"));
    this.envFile = join(this.persistDir, "edge402-secrets.env");
    live.add(this);
  }

  /** Runs `cleanup` on stop, after wrangler is gone (the last one added first). */
  onStop(cleanup: () => Promise<void> | void): void {
    this.cleanups.push(cleanup);
  }

  /** The wrangler process to stop first; recorded as soon as it is spawned. */
  adoptWorker(worker: WranglerDev): void {
    this.worker = worker;
  }

  /** Triggers the Worker's scheduled handler every `everyMs` (production runs it by cron); 0: never. */
  startScheduledLoop(url: string, everyMs: number): void {
    if (everyMs <= 0) return;
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
      if (!this.loopStopped) this.schedule(tick, everyMs);
    };
    this.schedule(tick, Math.min(everyMs, 500));
  }

  private schedule(tick: () => Promise<void>, ms: number): void {
    this.scheduledTimer = setTimeout(() => void tick(), ms);
    this.scheduledTimer.unref();
  }

  private stopLoop(): void {
    this.loopStopped = true;
    if (this.scheduledTimer) clearTimeout(this.scheduledTimer);
  }

  private removeFiles(): void {
    if (this.ownsDir) rmSync(this.persistDir, { recursive: true, force: true });
    else rmSync(this.envFile, { force: true });
  }

  /** Last resort at process exit: nothing async runs there. */
  hardKill(): void {
    this.stopLoop();
    this.worker?.hardKill();
    try {
      this.removeFiles();
    } catch {
      // best effort at exit
    }
  }

  /** Stops everything this stack started; safe to call more than once. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopLoop();
      await this.worker?.stop();
      for (const cleanup of this.cleanups.reverse()) {
        try {
          await cleanup();
        } catch {
          // keep stopping the rest
        }
      }
      this.removeFiles();
      live.delete(this);
    })();
    return this.stopping;
  }
}

/**
 * `wrangler dev` as a detached process group: its output kept (the last 64 KiB) and, once ready,
 * echoed unless quiet.
 */
class WranglerDev {
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;
  private spawnError: Error | undefined;
  private log = "";
  private ready = false;

  constructor(
    args: string[],
    projectDir: string,
    private readonly quiet: boolean,
  ) {
    const child = spawn(WRANGLER, args, {
      cwd: projectDir,
      env: childEnv(),
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    this.child = child;
    this.exited = new Promise<void>((resolveExit) => {
      if (child.exitCode !== null || child.signalCode !== null) resolveExit();
      else child.once("exit", () => resolveExit());
    });
    child.once("error", (err) => (this.spawnError = err));
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => this.onOutput(chunk));
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => this.onOutput(chunk));
  }

  logs(): string {
    return this.log;
  }

  private onOutput(chunk: string): void {
    this.log = (this.log + chunk).slice(-LOG_LIMIT);
    if (!this.ready || this.quiet) return;
    for (const raw of chunk.split("\n")) {
      const line = raw.replace(ANSI, "").trimEnd();
      if (line.trim() && !QUIET_LINES.some((re) => re.test(line))) process.stdout.write(`[worker] ${line}\n`);
    }
  }

  /**
   * Resolves once `GET {url}/api/1/stats` answers 200; throws when wrangler exits, the Worker is
   * misconfigured, or time runs out.
   */
  async waitUntilReady(url: string): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let last = "no answer yet";
    for (;;) {
      this.assertRunning();
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
          `the Worker did not answer GET ${url}/api/1/stats with 200 within ${READY_TIMEOUT_MS / 1000} s (last: ${last}); wrangler output:\n${this.log.trim()}`,
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    this.ready = true;
  }

  private assertRunning(): void {
    if (this.spawnError) throw new Error(`wrangler could not be started (${WRANGLER}): ${this.spawnError.message}`);
    const { exitCode, signalCode } = this.child;
    if (exitCode !== null || signalCode !== null) {
      throw new Error(
        `wrangler dev exited (${exitCode ?? signalCode}) before the Worker answered:\n${this.log.trim()}`,
      );
    }
  }

  stop(): Promise<void> {
    return killGroup(this.child, this.exited);
  }

  /** The workerd that runs the Worker: of wrangler's workerd processes, the one that does not
   *  listen on the public port (that one is wrangler's proxy in front of it). Linux only. */
  runtimePid(port: number): number | undefined {
    if (this.child.pid === undefined) return undefined;
    const workerds = descendants(this.child.pid).filter((p) => /(^|\/)workerd\0/.test(p.cmdline));
    const runtime = workerds.filter((p) => !p.cmdline.includes(`entry=127.0.0.1:${port}`));
    return runtime.at(-1)?.pid;
  }

  hardKill(): void {
    if (this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** Every live descendant of `root` with its NUL-separated command line, from /proc (Linux). */
function descendants(root: number): Array<{ pid: number; cmdline: string }> {
  const parents = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      parents.set(Number(name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out: Array<{ pid: number; cmdline: string }> = [];
  const under = (pid: number): boolean => pid === root || (parents.has(pid) && pid > 1 && under(parents.get(pid)!));
  for (const pid of parents.keys()) {
    if (pid === root || !under(pid)) continue;
    try {
      out.push({ pid, cmdline: readFileSync(`/proc/${pid}/cmdline`, "utf8") });
    } catch {
      // gone meanwhile
    }
  }
  return out.sort((a, b) => a.pid - b.pid);
}

/** Refuses fixed ports that are taken before anything starts. */
async function assertPortsFree(opts: StackOptions): Promise<void> {
  const fixed = [
    ["anvil", opts.anvilPort],
    ["worker", opts.port],
    ["origin", opts.originPort],
  ] as const;
  for (const [service, port] of fixed) {
    if (port && !(await portIsFree(port))) throw new PortInUseError(service, port);
  }
}

/** Runs one start-up step and reports it, with its time, to `onStep`. */
async function step<T>(opts: StackOptions, name: StackStep, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await work();
  opts.onStep?.(name, performance.now() - started);
  return result;
}

/** anvil on the asked port (a taken one is `PortInUseError`), stopped with the stack. */
async function startChain(
  lifetime: StackLifetime,
  anvilPort: number | undefined,
  blockTime?: number,
): Promise<AnvilHandle> {
  const anvil = await startAnvil({ port: anvilPort, quiet: true, blockTime }).catch((err: Error) => {
    if (anvilPort && /already in use|EADDRINUSE|os error 98/i.test(err.message))
      throw new PortInUseError("anvil", anvilPort);
    throw err;
  });
  lifetime.onStop(() => anvil.stop());
  return anvil;
}

/** TestToken and MicroTransferChannels from anvil's account 0. */
function deployStackContracts(anvil: AnvilHandle): Promise<Deployment> {
  return deployContracts({
    rpcUrl: anvil.rpcUrl,
    privateKey: ANVIL_KEYS[0]!,
    challengePeriod: DEFAULT_CHALLENGE_PERIOD,
  });
}

/** The demo echo origin behind the proxied route (a taken fixed port is `PortInUseError`), stopped with the stack. */
async function startOrigin(lifetime: StackLifetime, originPort: number | undefined): Promise<DemoOrigin> {
  const origin = await startDemoOrigin({ port: originPort }).catch((err: NodeJS.ErrnoException) => {
    if (originPort && err.code === "EADDRINUSE") throw new PortInUseError("origin", originPort);
    throw err;
  });
  lifetime.onStop(() => origin.stop());
  return origin;
}

/** A local x402 facilitator (x402's own code, settling from anvil's account 2), so stock x402
 *  `exact` clients pay too; stopped with the stack. */
async function startFacilitator(lifetime: StackLifetime, anvil: AnvilHandle): Promise<X402Facilitator> {
  const facilitator = await startX402Facilitator({
    rpcUrl: anvil.rpcUrl,
    chainId: anvil.chainId,
    privateKey: ANVIL_KEYS[2]!,
  });
  lifetime.onStop(() => facilitator.stop());
  return facilitator;
}

/**
 * The Worker's vars: the chain and contracts, the demo routes, fresh secrets, then the environment's
 * and the caller's overrides.
 */
function workerVars(
  opts: StackOptions,
  chain: { anvil: AnvilHandle; deployment: Deployment; origin: DemoOrigin; facilitator: X402Facilitator },
  adminToken: string,
): Record<string, string> {
  const { anvil, deployment, origin, facilitator } = chain;
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
  return vars;
}

/** Writes the secret vars to `envFile` (mode 0600) and returns the others as `--var` arguments. */
function writeVars(vars: Record<string, string>, envFile: string): string[] {
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
  return varArgs;
}

/** The project's local D1 migrations, into the persist dir: DB, and every projection shard's
 *  database (DB_SHARD_1 … when PROJECTION_SHARDS > 1; the project's wrangler config binds them). */
async function applyMigrations(projectDir: string, persistDir: string, shards: number): Promise<void> {
  const databases = Array.from({ length: Math.max(1, shards) }, (_, i) => shardBindingNames(i).db);
  for (const db of databases)
    await run(WRANGLER, ["d1", "migrations", "apply", db, "--local", "--persist-to", persistDir], projectDir);
}

type WorkerParams = { port: number | undefined; projectDir: string; varArgs: string[]; quiet: boolean };

/** How often a Worker on ports picked here is started again after losing a port to another process. */
const PORT_RACE_ATTEMPTS = 3;

/**
 * `wrangler dev --local` on 127.0.0.1:`port` (a free one when not given), answering once ready.
 * A port picked here was free a moment before wrangler binds it; when another process took it in
 * between ("Address already in use"), wrangler starts again on new ports. A port the caller named
 * is never replaced: its being busy is the caller's error.
 */
/** How wrangler and workerd say a port was taken. */
const PORT_TAKEN = /address already in use|EADDRINUSE/i;

async function startWorker(lifetime: StackLifetime, p: WorkerParams): Promise<{ url: string; worker: WranglerDev }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startWorkerOnce(lifetime, p);
    } catch (err) {
      const lostRace = !p.port && PORT_TAKEN.test((err as Error).message);
      if (!lostRace || attempt >= PORT_RACE_ATTEMPTS) throw err;
    }
  }
}

async function startWorkerOnce(
  lifetime: StackLifetime,
  p: WorkerParams,
): Promise<{ url: string; worker: WranglerDev }> {
  const port = p.port || (await freePort());
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
    lifetime.persistDir,
    "--env-file",
    lifetime.envFile,
    "--show-interactive-dev-session=false",
    "--log-level",
    "info",
    ...p.varArgs,
  ];
  const worker = new WranglerDev(args, p.projectDir, p.quiet);
  lifetime.adoptWorker(worker);
  const url = `http://127.0.0.1:${port}`;
  await worker.waitUntilReady(url).catch(async (err: Error) => {
    // Whatever failed, this wrangler goes: a retry starts another, and nothing else would stop it.
    await worker.stop();
    // The fixed port was taken after assertPortsFree looked: wrangler exits naming that address.
    if (p.port && PORT_TAKEN.test(err.message) && err.message.includes(`:${p.port}`))
      throw new PortInUseError("worker", p.port);
    throw err;
  });
  return { url, worker };
}

/**
 * Starts the local stack: anvil with TestToken and MicroTransferChannels deployed from its
 * account 0, the demo echo origin behind the Worker's proxied route, a local x402 facilitator
 * (X402_FACILITATOR_URL), the local D1 migrations,
 * and the Worker under `wrangler dev --local` on 127.0.0.1 with anvil's account 1 as receiver,
 * its state in a fresh temp dir (or `persistDir`) and its scheduled handler triggered every few
 * seconds (production runs it by cron). Secrets go to wrangler through an env file (mode 0600),
 * every other var as `--var`.
 *
 * @returns Once `GET /api/1/stats` answers 200: the URLs and addresses, and `stop()`, which ends
 * the loop, wrangler's whole process group, the origin and anvil, and removes the temp dir.
 * @throws {PortInUseError} when a fixed port is taken; any other start-up failure stops what
 * was started and throws with wrangler's output.
 */
export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  installHooks(opts.handleSignals ?? true);
  await assertPortsFree(opts);
  const lifetime = new StackLifetime(opts.persistDir);
  try {
    const anvil = await step(opts, "anvil up", () => startChain(lifetime, opts.anvilPort, opts.anvilBlockTime));
    const deployment = await step(opts, "contracts deployed", () => deployStackContracts(anvil));
    const origin = await step(opts, "demo origin up", () => startOrigin(lifetime, opts.originPort));
    const facilitator = await step(opts, "x402 facilitator up", () => startFacilitator(lifetime, anvil));
    const adminToken = opts.env?.ADMIN_TOKEN ?? process.env.ADMIN_TOKEN ?? randomBytes(24).toString("hex");
    if (adminToken.length < 16) throw new Error("ADMIN_TOKEN must be at least 16 characters");
    const chain = { anvil, deployment, origin, facilitator };
    const vars = workerVars(opts, chain, adminToken);
    const varArgs = writeVars(vars, lifetime.envFile);
    const projectDir = opts.projectDir ?? REPO_ROOT;
    const shards = Number(vars.PROJECTION_SHARDS ?? "1") || 1;
    await step(opts, "D1 migrations applied", () => applyMigrations(projectDir, lifetime.persistDir, shards));
    const quiet = opts.quiet ?? true;
    let { url, worker } = await step(opts, "Worker ready", () =>
      startWorker(lifetime, { port: opts.port, projectDir, varArgs, quiet }),
    );
    const port = Number(new URL(url).port);
    lifetime.startScheduledLoop(url, opts.scheduledEveryMs ?? 3_000);
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
      persistDir: lifetime.persistDir,
      anvilPid: anvil.pid,
      logs: () => worker.logs(),
      workerPid: () => worker.runtimePid(port),
      killWorker: (signal = "SIGKILL") => {
        const pid = worker.runtimePid(port);
        if (pid === undefined) throw new Error("no workerd process found under wrangler");
        process.kill(pid, signal);
        return pid;
      },
      restartWorker: async () => {
        await worker.stop();
        ({ worker } = await startWorker(lifetime, { port, projectDir, varArgs, quiet }));
      },
      stop: () => lifetime.stop(),
    };
  } catch (err) {
    await lifetime.stop();
    throw err;
  }
}
