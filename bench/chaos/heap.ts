// The JS heaps inside the workerd process, read through workerd's own V8 inspector (wrangler dev
// starts it on a loopback port): the heap used after a full GC is what the code keeps alive. The
// process RSS also counts V8's reserved pages, SQLite page caches and the allocator's free lists,
// which grow while the process warms up; the heaps tell a leak in our code from that. The
// isolates are the Worker with its Durable Objects (`core:user:*`) and wrangler's own (D1,
// caches, outbound). Linux only (the inspector's port is found through /proc).
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

export type HeapUsage = { usedMiB: number; totalMiB: number };
export type WorkerdHeaps = { worker: HeapUsage | null; all: HeapUsage & { isolates: number } };

type Target = { id: string; webSocketDebuggerUrl: string };

/** The loopback ports the process `pid` listens on (its socket inodes in /proc/net/tcp). */
function listeningPorts(pid: number): number[] {
  try {
    const inodes = new Set(
      readdirSync(`/proc/${pid}/fd`)
        .map((fd) => /^socket:\[(\d+)\]$/.exec(readlinkSafe(`/proc/${pid}/fd/${fd}`))?.[1])
        .filter((i): i is string => i !== undefined),
    );
    return readFileSync("/proc/net/tcp", "utf8")
      .split("\n")
      .slice(1)
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f[3] === "0A" && inodes.has(f[9] ?? "") && f[1]?.startsWith("0100007F:"))
      .map((f) => Number.parseInt(f[1]!.slice(9), 16));
  } catch {
    return [];
  }
}

function readlinkSafe(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return "";
  }
}

/** The isolates of the workerd process `pid` (its inspector's /json/list), or none. */
async function targets(pid: number): Promise<Target[]> {
  const ports = listeningPorts(pid);
  for (const port of ports) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/json/list`, { signal: AbortSignal.timeout(2_000) });
      const list = res.ok ? ((await res.json()) as Target[]) : [];
      if (Array.isArray(list) && list.some((t) => t.id?.startsWith("core:user:"))) return list;
    } catch {
      // not the inspector
    }
  }
  return [];
}

/** One inspector session: a full GC, then the heap's usage; null when no answer within `ms`. */
async function inspect(url: string, ms: number): Promise<HeapUsage | null> {
  const ws = new WebSocket(url);
  const replies = new Map<number, (v: Record<string, unknown>) => void>();
  ws.addEventListener("message", (e) => {
    const m = JSON.parse(String(e.data)) as { id?: number; result?: Record<string, unknown> };
    if (m.id !== undefined) replies.get(m.id)?.(m.result ?? {});
  });
  let next = 0;
  const call = (method: string) =>
    new Promise<Record<string, unknown>>((resolve) => {
      replies.set(++next, resolve);
      ws.send(JSON.stringify({ id: next, method }));
    });
  const timeout = new Promise<null>((r) => setTimeout(() => r(null), ms).unref());
  const work = (async () => {
    await new Promise((r, j) => {
      ws.addEventListener("open", r);
      ws.addEventListener("error", j);
    });
    await call("HeapProfiler.collectGarbage");
    const u = await call("Runtime.getHeapUsage");
    return { usedMiB: Number(u.usedSize) / 2 ** 20, totalMiB: Number(u.totalSize) / 2 ** 20 };
  })().catch(() => null);
  try {
    return await Promise.race([work, timeout]);
  } finally {
    ws.close();
  }
}

/** workerd's inspector can leave a target's first session unanswered: one more try follows. */
const heapOf = async (t: Target) =>
  (await inspect(t.webSocketDebuggerUrl, 5_000)) ?? inspect(t.webSocketDebuggerUrl, 5_000);

/** Every isolate's heap after a full GC in the workerd process `pid`, or null when unreachable. */
export async function workerdHeaps(pid: number | undefined): Promise<WorkerdHeaps | null> {
  if (!pid) return null;
  const list = await targets(pid);
  if (list.length === 0) return null;
  const heaps = await Promise.all(list.map(async (t) => ({ id: t.id, heap: await heapOf(t) })));
  const all = { usedMiB: 0, totalMiB: 0, isolates: 0 };
  for (const { heap } of heaps) {
    if (!heap) continue;
    all.usedMiB += heap.usedMiB;
    all.totalMiB += heap.totalMiB;
    all.isolates++;
  }
  return { worker: heaps.find((h) => h.id.startsWith("core:user:"))?.heap ?? null, all };
}
