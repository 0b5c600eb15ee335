// The channel store for Node: files, because the CLI and long-running clients must keep their
// channels across runs. Writes are atomic (temporary file, fsync, rename) so a crash never
// leaves half a file, and one process at a time uses a sender's file (a lock file) because a
// client keeps channels in memory between a load and its saves. Node modules are imported
// lazily so that importing the SDK stays runtime-neutral.
import type { Address } from "viem";
import { acquireFileLock } from "./file-lock.js";
import { parseStoredChannels, type ChannelStore, type StoredChannel, type StoredChannelsFile } from "./store.js";

/**
 * Keeps each sender's channels in `<home>/channels/<sender lowercase>.json`, readable only by
 * its owner (it holds session tokens). Saves of one sender are queued; each writes a temporary
 * file, flushes it and renames it over the old one. The first load or save takes the lock file
 * `<home>/locks/<sender lowercase>.lock` and holds it until `close()` or the process exits;
 * another process waits for it up to `lockTimeoutMs`, and a lock left by a dead process is taken
 * over. A file that is not a valid channel file is an error naming its path, never replaced.
 *
 * @example
 * import { createEdge402Client, FileChannelStore } from "edge402/client";
 *
 * const store = new FileChannelStore(`${process.env.HOME}/.edge402`);
 * const client = createEdge402Client({ account, rpcUrl, store });
 * try {
 *   await client.fetch(url);
 * } finally {
 *   await store.close(); // let other processes use the files
 * }
 */
export class FileChannelStore implements ChannelStore {
  /** The directory that holds the channel files. */
  readonly dir: string;
  private readonly queues = new Map<string, Promise<void>>();
  private readonly locks = new Map<string, Promise<() => Promise<void>>>();
  private readonly locksDir: string;
  private readonly lockTimeoutMs: number | undefined;

  /**
   * @param home - The client's state directory (the CLI's `EDGE402_HOME`, default `~/.edge402`).
   * @param options - `lockTimeoutMs`: how long to wait for another process using the same sender's file (default 60 s).
   */
  constructor(
    readonly home: string,
    options: { lockTimeoutMs?: number } = {},
  ) {
    const base = home.replace(/[\\/]+$/, "");
    this.dir = `${base}/channels`;
    this.locksDir = `${base}/locks`;
    this.lockTimeoutMs = options.lockTimeoutMs;
  }

  /** The file of one sender. */
  pathOf(sender: Address): string {
    return `${this.dir}/${sender.toLowerCase()}.json`;
  }

  /** The lock file of one sender's file. */
  lockPathOf(sender: Address): string {
    return `${this.locksDir}/${sender.toLowerCase()}.lock`;
  }

  /** Lets other processes use the files this store has locked. */
  async close(): Promise<void> {
    const locks = [...this.locks.values()];
    this.locks.clear();
    await Promise.all(
      locks.map((l) =>
        l.then(
          (release) => release(),
          () => undefined,
        ),
      ),
    );
  }

  private lock(sender: Address): Promise<unknown> {
    const path = this.lockPathOf(sender);
    let lock = this.locks.get(path);
    if (!lock) {
      lock = acquireFileLock(path, { timeoutMs: this.lockTimeoutMs, what: `the channel store ${this.pathOf(sender)}` });
      lock.catch(() => this.locks.delete(path));
      this.locks.set(path, lock);
    }
    return lock;
  }

  /**
   * The sender's channels ([] when it has no file yet), after taking its lock.
   *
   * @throws {Error} when the file is not a valid channel file (its path named), or the lock is
   * not free within `lockTimeoutMs`.
   */
  async load(sender: Address): Promise<StoredChannel[]> {
    const { readFile } = await import("node:fs/promises");
    const path = this.pathOf(sender);
    await this.lock(sender);
    await this.queues.get(path);
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error(`${path} is not valid JSON; move it away to start over (the chain and the server rebuild it)`);
    }
    return parseStoredChannels(json, path);
  }

  /** Replaces the sender's file atomically (after taking its lock); saves of one sender run in order. */
  save(sender: Address, channels: StoredChannel[]): Promise<void> {
    const path = this.pathOf(sender);
    const text = `${JSON.stringify({ version: 1, channels } satisfies StoredChannelsFile, null, 2)}\n`;
    const previous = this.queues.get(path) ?? Promise.resolve();
    const next = previous.then(async () => {
      await this.lock(sender);
      await this.writeAtomically(path, text);
    });
    const tail = next.catch(() => undefined);
    this.queues.set(path, tail);
    void tail.then(() => {
      if (this.queues.get(path) === tail) this.queues.delete(path);
    });
    return next;
  }

  private async writeAtomically(path: string, text: string): Promise<void> {
    const { mkdir, open, rename, rm } = await import("node:fs/promises");
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    const handle = await open(tmp, "w", 0o600);
    try {
      await handle.writeFile(text, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }
}
