// Who a server is, asked directly: `GET {origin}/api/1/stats` (PROTOCOL.md, management API)
// names its receiver, contract, token and chain. The close, top-up and settle commands use it
// when no priced request has announced the terms yet; a server that does not answer is
// reported as `server_unreachable`, and the caller falls back to what its store remembers.
import type { Address } from "viem";
import { parseAddress } from "../protocol/codec.js";
import { GATEWAY_PATH } from "../protocol/headers.js";
import { ClientErrorCodes, Edge402Error } from "./errors.js";

export type ServerInfo = {
  origin: string;
  gateway: string;
  receiver: Address;
  contract: Address;
  token: Address;
  chainId: number;
};

/** The gateway URL of a server: its origin plus the gateway path (default `/api/1`). */
export function gatewayOf(serverUrl: string, gatewayPath: string = GATEWAY_PATH): string {
  return `${new URL(serverUrl).origin}${gatewayPath}`;
}

/** Reads `{gateway}/stats`. Throws `server_unreachable` when it cannot. */
export async function fetchServerInfo(gateway: string, fetchFn: typeof fetch, timeoutMs = 10_000): Promise<ServerInfo> {
  let body: unknown;
  try {
    const res = await fetchFn(`${gateway}/stats`, {
      headers: { accept: "application/json" },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`HTTP ${res.status}`);
    }
    body = await res.json();
  } catch (err) {
    throw new Edge402Error(
      ClientErrorCodes.serverUnreachable,
      `Cannot read ${gateway}/stats: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const b = (body ?? {}) as Record<string, unknown>;
  try {
    const chainId = typeof b.chainId === "number" ? b.chainId : Number(b.chainId);
    if (!Number.isSafeInteger(chainId) || chainId <= 0) throw new Error("chainId is not a chain id");
    return {
      origin: new URL(gateway).origin,
      gateway,
      receiver: parseAddress(String(b.receiver), "receiver"),
      contract: parseAddress(String(b.contract), "contract"),
      token: parseAddress(String(b.token), "token"),
      chainId,
    };
  } catch (err) {
    throw new Edge402Error(
      ClientErrorCodes.serverUnreachable,
      `${gateway}/stats is not an edge402 server: ${(err as Error).message}`,
      { cause: err },
    );
  }
}
