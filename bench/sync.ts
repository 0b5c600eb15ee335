// The chain-sync part of the bench: how many contract events per second the Worker's sync
// applies. It catches the sync up first (untimed), opens N channels on anvil (N
// `ChannelCreated` events, each for a new channel object), then times the sync until the
// Worker's `syncedBlock` (GET /api/1/stats) reaches the head: through `POST /api/1/admin/sync`
// when the Worker has it (its report counts the events), else through the scheduled handler
// (what the cron runs; the events are the N created). Bounded: at most 90 s of syncing.
import type { Stack } from "../scripts/stack.js";
import { rpc } from "../scripts/anvil.js";
import { openChannels } from "./channels.js";
import { benchFetch } from "./load.js";

type Progress = (message: string) => void;

export type SyncResult =
  | { measured: true; via: string; events: number; ms: number; eventsPerSecond: number; runs: number }
  | { measured: false; reason: string };

const SYNC_BOUND_MS = 90_000;

async function syncedBlock(stack: Stack): Promise<number | null> {
  const res = await benchFetch(`${stack.url}/api/1/stats`);
  const body = (await res.json()) as { syncedBlock?: number | string | null };
  return body.syncedBlock === null || body.syncedBlock === undefined ? null : Number(body.syncedBlock);
}

async function head(stack: Stack): Promise<number> {
  return Number(BigInt(await rpc<string>(stack.rpcUrl, "eth_blockNumber", [])));
}

type Trigger = () => Promise<number | null>;

/** Triggers sync runs until syncedBlock >= target; returns the runs made and the events reported. */
async function syncUntil(stack: Stack, target: number, trigger: Trigger, retriggerMs: number, boundMs: number) {
  const started = performance.now();
  let runs = 0;
  let events = 0;
  let reported = true;
  let lastTrigger = -Infinity;
  for (;;) {
    // The admin route answers when its run is done; the scheduled handler runs the sync in
    // waitUntil, so it is polled (every 20 ms) and triggered again every `retriggerMs` until done (a
    // run that finds another holding the lease does nothing).
    if (performance.now() - lastTrigger >= retriggerMs) {
      lastTrigger = performance.now();
      const n = await trigger();
      runs++;
      if (n === null) reported = false;
      else events += n;
    } else {
      await new Promise((r) => setTimeout(r, 20));
    }
    const synced = await syncedBlock(stack);
    if (synced !== null && synced >= target) break;
    if (performance.now() - started > boundMs)
      throw new Error(`the sync did not reach block ${target} within ${boundMs / 1000} s (at ${synced})`);
  }
  return { ms: performance.now() - started, runs, events: reported ? events : null };
}

export async function benchSync(stack: Stack, progress: Progress, channels = 200): Promise<SyncResult> {
  const admin: Trigger = async () => {
    const res = await benchFetch(`${stack.url}/api/1/admin/sync`, {
      method: "POST",
      headers: { Authorization: `Bearer ${stack.adminToken}` },
    });
    const body = (await res.json().catch(() => ({}))) as { events?: number; report?: { events?: number } };
    if (res.status !== 200) throw new Error(`POST /api/1/admin/sync: HTTP ${res.status}`);
    const n = body.events ?? body.report?.events;
    return typeof n === "number" ? n : null;
  };
  const scheduled: Trigger = async () => {
    const res = await benchFetch(`${stack.url}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent("* * * * *")}`);
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`the scheduled handler answered HTTP ${res.status}`);
    return null;
  };

  const probe = await benchFetch(`${stack.url}/api/1/admin/sync`, {
    method: "POST",
    headers: { Authorization: `Bearer ${stack.adminToken}` },
  });
  await probe.arrayBuffer();
  const hasAdmin = probe.status !== 404 && probe.status !== 405;
  const trigger = hasAdmin ? admin : scheduled;
  const retriggerMs = hasAdmin ? 0 : 500;
  const via = hasAdmin ? "POST /api/1/admin/sync" : "the scheduled handler (POST /api/1/admin/sync is not there yet)";

  try {
    progress(`sync: catching up first (untimed), via ${hasAdmin ? "the admin route" : "the scheduled handler"}`);
    await syncUntil(stack, await head(stack), trigger, retriggerMs, SYNC_BOUND_MS);
    progress(`sync: opening ${channels} channels (${channels} ChannelCreated events)`);
    await openChannels(stack, channels, 1000n);
    const target = await head(stack);
    progress("sync: timing the sync to the head");
    const r = await syncUntil(stack, target, trigger, retriggerMs, SYNC_BOUND_MS);
    const events = r.events ?? channels;
    return { measured: true, via, events, ms: r.ms, eventsPerSecond: (events * 1000) / r.ms, runs: r.runs };
  } catch (err) {
    return { measured: false, reason: `${via}: ${(err as Error).message.split("\n")[0]}` };
  }
}
