// HTTP/1.1 over a bare TCP socket, so the fuzzer can send what fetch() refuses or folds:
// repeated headers as separate lines, header values in raw UTF-8, names in any case. One
// request per connection (`Connection: close`); the answer is read to the end and parsed
// (status, headers, body, chunked transfer decoded).
import { connect } from "node:net";

export type RawAnswer = { status: number; headers: Map<string, string[]>; body: string; error?: string };

function dechunk(body: Buffer): Buffer {
  const out: Buffer[] = [];
  let i = 0;
  for (;;) {
    const eol = body.indexOf("\r\n", i);
    if (eol < 0) break;
    const size = Number.parseInt(body.subarray(i, eol).toString("latin1"), 16);
    if (!Number.isFinite(size) || size === 0) break;
    out.push(body.subarray(eol + 2, eol + 2 + size));
    i = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}

function parse(raw: Buffer): RawAnswer {
  const end = raw.indexOf("\r\n\r\n");
  if (end < 0) return { status: 0, headers: new Map(), body: "", error: "no complete response head" };
  const [statusLine, ...lines] = raw.subarray(0, end).toString("latin1").split("\r\n");
  const status = Number(statusLine!.split(" ")[1]);
  const headers = new Map<string, string[]>();
  for (const line of lines) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim().toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  let body = raw.subarray(end + 4);
  if (headers.get("transfer-encoding")?.some((v) => /chunked/i.test(v))) body = dechunk(body);
  return { status, headers, body: body.toString("utf8") };
}

/** Sends one request with exactly these header lines (values as UTF-8) and reads the answer. */
export function rawRequest(
  url: string,
  method: string,
  path: string,
  headers: ReadonlyArray<readonly [string, string]>,
  timeoutMs = 30_000,
): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  const head = [`${method} ${path} HTTP/1.1`, `Host: ${hostname}:${port}`, "Connection: close"];
  for (const [name, value] of headers) head.push(`${name}: ${value}`);
  const request = Buffer.from(`${head.join("\r\n")}\r\n\r\n`, "utf8");
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect(Number(port), hostname);
    const fail = (error: string) => resolve({ status: 0, headers: new Map(), body: "", error });
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      fail("timeout");
    });
    socket.on("connect", () => socket.write(request));
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", (err: NodeJS.ErrnoException) => fail(err.code ?? err.message));
    socket.on("end", () => resolve(parse(Buffer.concat(chunks))));
  });
}
