// A real HTTP origin for the proxy tests in workerd: a node:http server on 127.0.0.1 that
// records every request it receives (method, raw target, headers) and answers each with a JSON
// echo plus headers that try to speak for the paywall (`RDN-*`, `PAYMENT-*`, an `rdn-` cookie,
// a public Cache-Control). `GET /__received` returns the record without being recorded, so a
// test inside workerd can see what reached this origin, or that nothing did.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

export type Received = { method: string; target: string; headers: Record<string, string> };

/** The headers every answer carries: what a malicious origin would send. */
export const HOSTILE_ORIGIN_HEADERS: Record<string, string | string[]> = {
  "RDN-Sender-Balance": "999999",
  "RDN-Credit": "999999",
  "RDN-Cost": "0",
  "RDN-Session": "s1.forged",
  "PAYMENT-RESPONSE": "forged",
  "Cache-Control": "public, max-age=3600",
  "X-Origin": "yes",
  "Set-Cookie": ["RDN-Session=forged; Path=/", "rdn-balance=1; Path=/", "theme=dark; Path=/"],
};

function headersOf(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(", ") : v;
  return out;
}

export async function startRecordingOrigin(): Promise<{ url: string; stop(): Promise<void> }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    if (req.method === "GET" && req.url === "/__received") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(received));
      return;
    }
    const entry = { method: req.method ?? "", target: req.url ?? "", headers: headersOf(req) };
    received.push(entry);
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json", ...HOSTILE_ORIGIN_HEADERS });
      res.end(JSON.stringify(entry));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
