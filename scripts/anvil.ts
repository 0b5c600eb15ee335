// A local anvil chain for the contract tests, `npm start` and the bench, from the
// @foundry-rs/anvil npm package, because nothing may be downloaded at run time (no foundryup).
// Deliberately light: Node built-ins, `fetch` and viem's types only.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Address, Hex } from "viem";

/** anvil's default mnemonic; the accounts below derive from it. */
export const ANVIL_MNEMONIC = "test test test test test test test test test test test junk";

export const ANVIL_CHAIN_ID = 31337 as const;

/** Private keys of anvil's first ten default accounts (index 0 = deployer by convention). */
export const ANVIL_KEYS: readonly Hex[] = [
  "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
  "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
  "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
  "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
  "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
  "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
  "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
  "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
];

/** Addresses of the same ten accounts, in the same order (checksummed). */
export const ANVIL_ADDRESSES: readonly Address[] = [
  "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
  "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
  "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
  "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
  "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc",
  "0x976EA74026E726554dB657fA54763abd0C3a0aa9",
  "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955",
  "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f",
  "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720",
];

export interface AnvilOptions {
  /** Port on 127.0.0.1; 0 or undefined picks a free one. */
  port?: number;
  /** Seconds between blocks (interval mining); undefined mines one block per transaction. */
  blockTime?: number;
  /** Silence anvil's own log (default true); when false its stdout goes to ours. */
  quiet?: boolean;
}

export interface AnvilHandle {
  rpcUrl: string;
  port: number;
  chainId: typeof ANVIL_CHAIN_ID;
  /** anvil's process id (the chaos run pauses it with SIGSTOP). */
  pid: number;
  /** Kills anvil and resolves once it has exited. Safe to call more than once. */
  stop(): Promise<void>;
}

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const READY_TIMEOUT_MS = 20_000;
const MAX_PORT_ATTEMPTS = 5;

/** The command that runs anvil: `$ANVIL_BIN`, else the platform binary of @foundry-rs/anvil. */
function anvilCommand(): { command: string; prefix: string[]; env: NodeJS.ProcessEnv } {
  const fromEnv = process.env.ANVIL_BIN;
  if (fromEnv) return { command: fromEnv, prefix: [], env: process.env };
  const require = createRequire(resolve(REPO_ROOT, "package.json"));
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  const exe = process.platform === "win32" ? "anvil.exe" : "anvil";
  try {
    const bin = require.resolve(`@foundry-rs/anvil-${process.platform}-${arch}/bin/${exe}`);
    if (existsSync(bin)) return { command: bin, prefix: [], env: process.env };
  } catch {
    // not installed for this platform: see the error below
  }
  throw new Error(
    `anvil not found for ${process.platform}-${arch}: npm install (with dev dependencies) brings @foundry-rs/anvil's binary; ` +
      "where it has none for this platform, install Foundry's anvil and set ANVIL_BIN to its path",
  );
}

/** A port that was free a moment ago on 127.0.0.1 (bind to 0, read, close). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port ? resolvePort(port) : reject(new Error("could not pick a free port"))));
    });
  });
}

/** One JSON-RPC call over HTTP; throws on transport errors and JSON-RPC errors. */
export async function rpc<T = unknown>(rpcUrl: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  if (!res.ok) throw new Error(`${method}: HTTP ${res.status} from ${rpcUrl}`);
  const body = (await res.json()) as { result?: T; error?: { code: number; message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message} (code ${body.error.code})`);
  return body.result as T;
}

/** Mines `blocks` blocks at once (`anvil_mine`). */
export async function mine(rpcUrl: string, blocks: number | bigint = 1): Promise<void> {
  await rpc(rpcUrl, "anvil_mine", [`0x${BigInt(blocks).toString(16)}`]);
}

/** Takes a chain snapshot (`evm_snapshot`) and returns its id for `revert`. */
export async function snapshot(rpcUrl: string): Promise<Hex> {
  return rpc<Hex>(rpcUrl, "evm_snapshot");
}

/** Reverts the chain to a snapshot (`evm_revert`); the snapshot is consumed. Returns anvil's
 * answer (false for an unknown id). */
export async function revert(rpcUrl: string, id: Hex): Promise<boolean> {
  return rpc<boolean>(rpcUrl, "evm_revert", [id]);
}

/**
 * Starts anvil on 127.0.0.1 with chain id 31337 and the default "test … junk" mnemonic
 * (`ANVIL_KEYS`, `ANVIL_ADDRESSES`), on a free port unless one is given (retried if another
 * process takes it first). A process exit hook kills it if the caller never stops it.
 *
 * @returns Once it answers `eth_chainId`: its RPC URL and `stop()`, which resolves when it exited.
 * @throws {Error} when it does not answer within 20 s (its stderr in the message), or the port is taken.
 */
export async function startAnvil(opts: AnvilOptions = {}): Promise<AnvilHandle> {
  const fixedPort = opts.port !== undefined && opts.port !== 0;
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < (fixedPort ? 1 : MAX_PORT_ATTEMPTS); attempt++) {
    const port = fixedPort ? opts.port! : await freePort();
    try {
      return await launch(port, opts);
    } catch (err) {
      lastError = err as Error;
      // Only a lost race for an auto-picked port is worth another try.
      if (!/address already in use|os error 98|EADDRINUSE/i.test(lastError.message)) break;
    }
  }
  throw lastError ?? new Error("anvil did not start");
}

/** Rejects with an "address already in use" error when something listens on the port, so a
 * stale process there is never mistaken for the anvil being started. */
function assertPortFree(port: number): Promise<void> {
  return new Promise((resolveFree, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", (err: NodeJS.ErrnoException) =>
      reject(
        err.code === "EADDRINUSE"
          ? new Error(`cannot start anvil: 127.0.0.1:${port} is already in use (EADDRINUSE)`)
          : err,
      ),
    );
    server.listen(port, "127.0.0.1", () => server.close(() => resolveFree()));
  });
}

function anvilArgs(port: number, opts: AnvilOptions): string[] {
  const args = ["--host", "127.0.0.1", "--port", String(port), "--chain-id", String(ANVIL_CHAIN_ID)];
  args.push("--mnemonic", ANVIL_MNEMONIC);
  if (opts.quiet ?? true) args.push("--silent");
  if (opts.blockTime !== undefined) args.push("--block-time", String(opts.blockTime));
  return args;
}

/** One anvil process: its stderr kept (16 KiB) for error messages, killed at process exit if never stopped. */
class AnvilProcess {
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;
  private stderr = "";
  private spawnError: Error | undefined;
  private stopped: Promise<void> | undefined;
  private readonly killOnExit = (): void => {
    this.child.kill("SIGKILL");
  };

  constructor(
    private readonly command: string,
    args: string[],
    env: NodeJS.ProcessEnv,
    quiet: boolean,
  ) {
    const child = spawn(command, args, { env, stdio: ["ignore", quiet ? "ignore" : "inherit", "pipe"] });
    this.child = child;
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      if (this.stderr.length < 16_384) this.stderr += chunk;
    });
    this.exited = new Promise<void>((resolveExit) => {
      if (child.exitCode !== null || child.signalCode !== null) resolveExit();
      else child.once("exit", () => resolveExit());
    });
    child.once("error", (err) => {
      this.spawnError = err;
    });
    process.once("exit", this.killOnExit);
  }

  /** anvil's process id. Throws when it never started: pid 0 would signal the caller's own
   *  process group (the chaos scenarios SIGSTOP this pid). */
  get pid(): number {
    if (this.child.pid === undefined) throw new Error("anvil has no process id: it did not start");
    return this.child.pid;
  }

  /** Kills anvil and resolves once it has exited. Safe to call more than once. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      process.off("exit", this.killOnExit);
      if (this.child.exitCode === null && this.child.signalCode === null) {
        this.child.kill("SIGTERM");
        const timer = setTimeout(() => this.child.kill("SIGKILL"), 5_000);
        await this.exited;
        clearTimeout(timer);
      }
    })();
    return this.stopped;
  }

  /**
   * Resolves once anvil answers `eth_chainId` with its chain id; throws when it died, something else
   * answers, or time runs out.
   */
  async waitUntilAnswering(rpcUrl: string): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      this.assertRunning(rpcUrl);
      const id = await rpc<string>(rpcUrl, "eth_chainId").catch(() => undefined);
      if (id !== undefined) {
        if (Number(id) === ANVIL_CHAIN_ID) return;
        throw new Error(`something else answers on ${rpcUrl}: chain id ${Number(id)}, expected ${ANVIL_CHAIN_ID}`);
      }
      if (Date.now() > deadline) {
        throw new Error(
          `anvil did not answer eth_chainId on ${rpcUrl} within ${READY_TIMEOUT_MS / 1000} s; stderr: ${this.stderr.trim() || "(empty)"}`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private assertRunning(rpcUrl: string): void {
    if (this.spawnError) throw new Error(`anvil could not be started (${this.command}): ${this.spawnError.message}`);
    const { exitCode, signalCode } = this.child;
    if (exitCode !== null || signalCode !== null) {
      throw new Error(
        `anvil exited (${exitCode ?? signalCode}) before answering on ${rpcUrl}: ${this.stderr.trim() || "(no stderr)"}`,
      );
    }
  }
}

async function launch(port: number, opts: AnvilOptions): Promise<AnvilHandle> {
  await assertPortFree(port);
  const { command, prefix, env } = anvilCommand();
  const anvil = new AnvilProcess(command, [...prefix, ...anvilArgs(port, opts)], env, opts.quiet ?? true);
  const rpcUrl = `http://127.0.0.1:${port}`;
  try {
    await anvil.waitUntilAnswering(rpcUrl);
  } catch (err) {
    await anvil.stop();
    throw err;
  }
  return { rpcUrl, port, chainId: ANVIL_CHAIN_ID, pid: anvil.pid, stop: () => anvil.stop() };
}
