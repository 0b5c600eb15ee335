// An exclusive lock between processes on one machine, as a lock file, because two clients that
// both keep a sender's channels in memory would overwrite each other's. Node modules are imported
// lazily so that importing the SDK stays runtime-neutral.

/** Thrown when another live process keeps the lock longer than the wait allows. */
export class LockBusyError extends Error {
  override name = "LockBusyError";
}

type Holder = { pid: number; host: string; since: number };
type Held = { refs: number; remove: () => void };

/** Locks this process holds, by path. */
const held = new Map<string, Held>();
let identity: string | undefined;
let exitHook = false;

async function fs() {
  const [promises, sync, os] = await Promise.all([import("node:fs/promises"), import("node:fs"), import("node:os")]);
  return { ...promises, readFileSync: sync.readFileSync, unlinkSync: sync.unlinkSync, hostname: os.hostname };
}

function parseHolder(text: string): Holder | undefined {
  try {
    const h = JSON.parse(text) as Partial<Holder>;
    if (typeof h.pid === "number" && typeof h.host === "string" && typeof h.since === "number") return h as Holder;
  } catch {
    // not a lock file we wrote
  }
  return undefined;
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

export type LockOptions = {
  /** How long to wait for another process's lock, in ms (default 60 000). */
  timeoutMs?: number;
  /** What the lock protects, for the error message. */
  what?: string;
};

/**
 * Takes the lock at `path`: creates it atomically (written to a temporary file, then hard-linked
 * into place, so it is never seen half-written) holding this process's id, host and start time,
 * and waits while another live process holds it. A lock whose process no longer runs on this
 * host is stale and taken over; two waiters that both find it stale break it one at a time
 * (under `path.break`), each re-reading it first. Within one process a path is locked once and
 * shared by its holders. Resolves to its release (idempotent); held until then or process exit.
 */
export async function acquireFileLock(path: string, options: LockOptions = {}): Promise<() => Promise<void>> {
  const f = await fs();
  identity ??= JSON.stringify({ pid: process.pid, host: f.hostname(), since: Date.now() } satisfies Holder);
  const me = identity;
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let released = false;
  const release = async (): Promise<void> => {
    if (released) return;
    released = true;
    const h = held.get(path);
    if (h && --h.refs === 0) {
      held.delete(path);
      h.remove();
    }
  };

  for (;;) {
    const text = await readLock(f, path);
    if (text === me) break;
    if (text === undefined) {
      if (await create(f, path, me)) break;
      continue;
    }
    const holder = parseHolder(text);
    if (holder && holder.host === f.hostname() && !running(holder.pid)) {
      await breakStale(f, path, text);
      continue;
    }
    if (Date.now() >= deadline) {
      const who = holder ? `process ${holder.pid} on ${holder.host}` : "another process";
      throw new LockBusyError(
        `${options.what ?? path} is in use by ${who} (another edge402 command?): wait for it to finish, or remove ${path} if that process is gone`,
      );
    }
    await new Promise((r) => setTimeout(r, 50 + Math.random() * 50));
  }
  const shared = held.get(path);
  if (shared) {
    shared.refs++;
    return release;
  }
  held.set(path, {
    refs: 1,
    remove: () => {
      try {
        if (f.readFileSync(path, "utf8") === me) f.unlinkSync(path);
      } catch {
        // already gone
      }
    },
  });
  if (!exitHook) {
    exitHook = true;
    process.once("exit", () => {
      for (const h of held.values()) h.remove();
      held.clear();
    });
  }
  return release;
}

type Fs = Awaited<ReturnType<typeof fs>>;

async function readLock(f: Fs, path: string): Promise<string | undefined> {
  try {
    return await f.readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** Links a fully written lock file into place; false when someone else's is there. */
async function create(f: Fs, path: string, text: string): Promise<boolean> {
  const dir = path.slice(0, Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\")));
  await f.mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await f.writeFile(tmp, text, { mode: 0o600 });
  try {
    await f.link(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  } finally {
    await f.rm(tmp, { force: true });
  }
}

/** Removes the stale lock `text` at `path`, unless it changed meanwhile; one breaker at a time. */
async function breakStale(f: Fs, path: string, text: string): Promise<void> {
  const guard = `${path}.break`;
  if (!(await create(f, guard, identity!))) {
    // Another process is breaking it; if that one died while at it, its guard goes too.
    const g = parseHolder((await readLock(f, guard)) ?? "");
    if (g && g.host === f.hostname() && !running(g.pid)) await f.rm(guard, { force: true });
    await new Promise((r) => setTimeout(r, 20));
    return;
  }
  try {
    if ((await readLock(f, path)) === text) await f.rm(path, { force: true });
  } finally {
    await f.rm(guard, { force: true });
  }
}
