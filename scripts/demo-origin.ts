// The demo origin behind the Worker's proxied route in `npm start` and the end-to-end tests. It
// echoes what reached it as JSON, because that is how a user or a test sees what the paywall
// forwards (the payer's identity) and what it strips (the client's payment headers). Run
// directly (`tsx scripts/demo-origin.ts [port]`) it serves until Ctrl-C.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** What the origin answers: the request as it arrived. */
export interface OriginEcho {
  origin: "edge402-demo-origin";
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  /** The `X-Edge402-*` headers only (lower-cased names). */
  edge402: Record<string, string>;
  /** Every header that reached the origin (lower-cased names). */
  headers: Record<string, string>;
  body: string;
}

export interface DemoOrigin {
  url: string;
  port: number;
  /** Closes the server (and its open connections); safe to call more than once. */
  stop(): Promise<void>;
}

const MAX_BODY_BYTES = 1 << 20;

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw new Error("body too large");
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function echo(req: IncomingMessage, body: string): OriginEcho {
  const url = new URL(req.url ?? "/", "http://origin.invalid");
  const query: Record<string, string | string[]> = {};
  for (const key of new Set(url.searchParams.keys())) {
    const all = url.searchParams.getAll(key);
    query[key] = all.length === 1 ? all[0]! : all;
  }
  const headers: Record<string, string> = {};
  const edge402: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(", ") : value;
    headers[name] = text;
    if (name.startsWith("x-edge402-")) edge402[name] = text;
  }
  return {
    origin: "edge402-demo-origin",
    method: req.method ?? "GET",
    path: url.pathname,
    query,
    edge402,
    headers,
    body,
  };
}

/**
 * Starts the echo origin on 127.0.0.1 (a free port unless one is given): every request gets its
 * method, path, query, headers (lower-cased names, the paywall's `X-Edge402-*` among them) and
 * body as text back as JSON.
 *
 * @returns Once it listens: its URL and `stop()`.
 */
export async function startDemoOrigin(opts: { port?: number } = {}): Promise<DemoOrigin> {
  const server: Server = createServer((req, res) => {
    readBody(req).then(
      (body) => {
        const json = JSON.stringify(echo(req, body));
        res.writeHead(200, {
          "content-type": "application/json; charset=utf-8",
          "content-length": Buffer.byteLength(json),
        });
        res.end(json);
      },
      (err: unknown) => {
        const json = JSON.stringify({
          error: { code: "bad_request", message: err instanceof Error ? err.message : String(err) },
        });
        res.writeHead(400, { "content-type": "application/json; charset=utf-8" });
        res.end(json);
      },
    );
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolveListen();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let stopped: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stop() {
      stopped ??= new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const port = process.argv[2] === undefined ? 0 : Number(process.argv[2]);
  startDemoOrigin({ port }).then(
    (origin) => {
      console.log(`demo origin listening on ${origin.url}`);
      const stop = () => void origin.stop().then(() => process.exit(0));
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    },
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : String(err));
      process.exit(1);
    },
  );
}
