// The file store's lock between processes, with real processes (test/helpers/store-child.ts):
// racing load-then-save cycles lose no channel, a live holder keeps others waiting and then
// failing with its pid, and a lock left by a killed process is taken over.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SENDER, storedChannel } from "../../test/helpers/store-child.js";
import { FileChannelStore } from "./file-store.js";

const CHILD = resolve(dirname(fileURLToPath(import.meta.url)), "../../test/helpers/store-child.ts");

function child(...args: string[]): { proc: ChildProcess; done: Promise<number> } {
  const proc = spawn(process.execPath, ["--import", "tsx", CHILD, ...args], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  const done = new Promise<number>((ok, fail) => {
    proc.once("error", fail);
    proc.once("close", (code, signal) => ok(code ?? (signal ? 128 : -1)));
  });
  return { proc, done };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 600 && !check(); i++) await sleep(50);
  if (!check()) throw new Error("timed out waiting");
}

describe("FileChannelStore between processes", () => {
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), "edge402-lock-"));
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it("runs racing load-then-save cycles of three processes one after another, losing no channel", {
    timeout: 60_000,
  }, async () => {
    const go = join(home, "go");
    const racers = [1, 2, 3].map((openBlock) => child("race", home, String(openBlock), go));
    await sleep(1_500); // let all three start and wait at the barrier
    await writeFile(go, "");
    expect(await Promise.all(racers.map((r) => r.done))).toEqual([0, 0, 0]);
    const store = new FileChannelStore(home);
    expect((await store.load(SENDER)).map((c) => c.openBlock).sort()).toEqual([1, 2, 3]);
    await store.close();
    expect(await readdir(join(home, "locks"))).toEqual([]);
    expect(await readdir(join(home, "channels"))).toEqual([`${SENDER.toLowerCase()}.json`]);
  });

  it("keeps another process waiting while its holder runs, names it, and takes over once it is killed", {
    timeout: 60_000,
  }, async () => {
    const ready = join(home, "ready");
    const holder = child("hold", home, ready);
    try {
      await until(() => existsSync(ready));
      const store = new FileChannelStore(home, { lockTimeoutMs: 400 });
      await expect(store.load(SENDER)).rejects.toThrow(`in use by process ${holder.proc.pid} on ${hostname()}`);
      await expect(store.save(SENDER, [storedChannel(7)])).rejects.toThrow(/in use by process/);
      expect(existsSync(store.pathOf(SENDER))).toBe(false);

      holder.proc.kill("SIGKILL"); // no exit hook runs: the lock file stays behind, stale
      await holder.done;
      expect(JSON.parse(await readFile(store.lockPathOf(SENDER), "utf8"))).toMatchObject({ pid: holder.proc.pid });
      await store.save(SENDER, [storedChannel(7)]);
      expect(JSON.parse(await readFile(store.lockPathOf(SENDER), "utf8"))).toMatchObject({ pid: process.pid });
      // A second store of this process shares the lock; the file goes when the last one closes.
      const again = new FileChannelStore(home);
      expect((await again.load(SENDER)).map((c) => c.openBlock)).toEqual([7]);
      await store.close();
      expect(existsSync(store.lockPathOf(SENDER))).toBe(true);
      await again.close();
      expect(existsSync(store.lockPathOf(SENDER))).toBe(false);
    } finally {
      holder.proc.kill("SIGKILL");
    }
  });
});
