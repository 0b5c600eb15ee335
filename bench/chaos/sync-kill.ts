// Part of scenario 1, crash: a kill -9 that lands inside a chain-sync run. anvil is paused so the
// scheduled run hangs on the node while holding the sync's D1 lease; workerd is killed then, and
// anvil resumed. The dead run cannot release its lease: what is measured is how long that lease
// still holds up the next run (the lease's end minus the kill), when the next run finishes, and
// that the sync then reaches the chain's head with no error. Disputes run inside the sync, so
// this is also how late a dispute due at the kill can be.
import type { Stack } from "../../scripts/stack.js";
import { adminSync, send, sleep, syncedToHead, waitFor, type Progress } from "./harness.js";

export type SyncKillResult = {
  /** How long the killed run's lease still held after the kill (0: none left). */
  leaseLeftS: number;
  /** From the kill to the end of the next sync run. */
  nextRunAfterS: number;
  /** The sync reached the chain's head after the kill with no error recorded. */
  caughtUp: boolean;
};

/** Kills workerd while a sync run holds the lease; see the module comment. */
export async function killInsideSync(stack: Stack, progress: Progress): Promise<SyncKillResult> {
  progress("crash: pausing anvil so a sync run hangs holding the lease, then kill -9");
  process.kill(stack.anvilPid, "SIGSTOP");
  let killedAt: number;
  try {
    // The stack runs the scheduled sync every second: one will take the lease and hang.
    await waitFor("a sync run holding the lease", async () => ((await adminSync(stack)).running ? true : undefined));
    await sleep(500);
    killedAt = Date.now();
    stack.killWorker("SIGKILL");
  } finally {
    process.kill(stack.anvilPid, "SIGCONT");
  }
  await waitFor("the Worker to answer after the kill", async () =>
    (await send(`${stack.url}/api/1/stats`, {}, 5_000)).status === 200 ? true : undefined,
  );
  const left = (await adminSync(stack)).leaseUntil;
  const leaseLeftS = left === null ? 0 : Math.max(0, left - killedAt) / 1000;
  const lastRunAt = await waitFor(
    "a sync run to finish after the kill",
    async () => {
      const s = await adminSync(stack);
      return s.lastRunAt !== null && s.lastRunAt > killedAt ? s.lastRunAt : undefined;
    },
    180_000,
  );
  const nextRunAfterS = (lastRunAt - killedAt) / 1000;
  progress(
    `crash: the killed run's lease held ${leaseLeftS.toFixed(1)} s more; next sync run after ${nextRunAfterS.toFixed(1)} s`,
  );
  let caughtUp = true;
  try {
    await syncedToHead(stack);
    caughtUp = (await adminSync(stack)).lastError === null;
  } catch {
    caughtUp = false;
  }
  return { leaseLeftS, nextRunAfterS, caughtUp };
}
