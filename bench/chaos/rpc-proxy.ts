// A fault-injecting JSON-RPC proxy in front of anvil, used as the Worker's RPC_URL: it passes
// requests through, or (at `rate`) answers one of the ways a real node or its load balancer
// misbehaves: late (a delay up to `maxDelayMs`), an HTTP 5xx, a body that is not JSON, the
// right answer with the wrong JSON-RPC ids, or a body cut short. Each fault is counted.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export const FAULTS = ["delay", "http5xx", "malformed", "wrongId", "truncated"] as const;
export type Fault = (typeof FAULTS)[number];

export type RpcProxy = {
  url: string;
  /** Fault rate from 0 (pass everything through) to 1. */
  setRate(rate: number): void;
  counts: Record<Fault | "passed", number>;
  stop(): Promise<void>;
};

const readBody = (req: IncomingMessage) =>
  new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });

async function forward(upstream: string, body: Buffer): Promise<{ status: number; text: string }> {
  const res = await fetch(upstream, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: body.toString("utf8"),
  });
  return { status: res.status, text: await res.text() };
}

/** The answer with every id moved: ids of a batch rotated by one, a single answer's id + 1000. */
function wrongIds(text: string): string {
  const j = JSON.parse(text) as { id?: unknown } | Array<{ id?: unknown }>;
  if (Array.isArray(j)) {
    const ids = j.map((x) => x.id);
    return JSON.stringify(
      j.map((x, i) => ({ ...x, id: j.length > 1 ? ids[(i + 1) % ids.length] : 1000 + Number(x.id) })),
    );
  }
  return JSON.stringify({ ...j, id: 1000 + Number(j.id) });
}

async function answer(
  fault: Fault | null,
  upstream: string,
  body: Buffer,
  res: ServerResponse,
  maxDelayMs: number,
): Promise<void> {
  if (fault === "http5xx") {
    res.writeHead([500, 502, 503, 504][Math.floor(Math.random() * 4)]!, { "content-type": "text/html" });
    res.end("<html><body>upstream unavailable</body></html>");
    return;
  }
  if (fault === "malformed") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(Math.random() < 0.5 ? '{"jsonrpc":"2.0","result":' : "<!doctype html>oops");
    return;
  }
  if (fault === "delay") await new Promise((r) => setTimeout(r, Math.random() * maxDelayMs));
  const up = await forward(upstream, body);
  let text = up.text;
  if (fault === "wrongId") text = wrongIds(text);
  if (fault === "truncated") {
    const bytes = Buffer.from(text);
    res.writeHead(up.status, { "content-type": "application/json", "content-length": String(bytes.length) });
    res.write(bytes.subarray(0, Math.floor(bytes.length / 2)));
    res.destroy();
    return;
  }
  res.writeHead(up.status, { "content-type": "application/json" });
  res.end(text);
}

export async function startRpcProxy(upstream: string, opts: { maxDelayMs?: number } = {}): Promise<RpcProxy> {
  let rate = 0;
  const counts = { delay: 0, http5xx: 0, malformed: 0, wrongId: 0, truncated: 0, passed: 0 };
  const server = createServer((req, res) => {
    void (async () => {
      try {
        const body = await readBody(req);
        const fault = Math.random() < rate ? FAULTS[Math.floor(Math.random() * FAULTS.length)]! : null;
        counts[fault ?? "passed"]++;
        await answer(fault, upstream, body, res, opts.maxDelayMs ?? 12_000);
      } catch {
        // anvil paused or gone: the caller sees the connection drop, as with a dead node
        res.destroy();
      }
    })();
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setRate: (r) => (rate = r),
    counts,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
