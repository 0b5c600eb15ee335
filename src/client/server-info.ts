// Who a server is, asked directly (`GET {gateway}/stats`), for the channel commands that run
// before any priced request announced the terms; and the one check of a server's terms against
// our chain and its contract, used by every path that pays or funds.
import type { Address } from "viem";
import { parseAddress } from "../protocol/codec.js";
import { GATEWAY_PATH } from "../protocol/headers.js";
import type { ChainAccess } from "./chain.js";
import { ClientErrorCodes, Edge402Error } from "./errors.js";

/** Who a server is: where it takes payments, for which receiver, on which contract, token and chain. */
export type ServerInfo = {
  /** The server's origin (`http://host:port`). */
  origin: string;
  /** Its gateway URL: the origin plus `RDN-Gateway-Path`. */
  gateway: string;
  receiver: Address;
  contract: Address;
  token: Address;
  chainId: number;
};

/**
 * Refuses a server whose chain is not the RPC node's (`terms_mismatch`), whose contract is not
 * trusted (`untrusted_contract`, trust.ts), or whose token is not its contract's (`terms_mismatch`).
 */
export async function checkServerTerms(
  chain: Pick<ChainAccess, "chainId" | "contractToken">,
  s: Pick<ServerInfo, "origin" | "chainId" | "contract" | "token">,
): Promise<void> {
  const id = await chain.chainId();
  if (id !== s.chainId) {
    throw new Edge402Error(
      ClientErrorCodes.termsMismatch,
      `${s.origin} takes payments on chain ${s.chainId}, but the RPC node is on chain ${id}.`,
    );
  }
  const token = await chain.contractToken(s.contract);
  if (token.toLowerCase() !== s.token.toLowerCase()) {
    throw new Edge402Error(
      ClientErrorCodes.termsMismatch,
      `${s.origin} names token ${s.token}, but its contract ${s.contract} holds ${token}.`,
    );
  }
}

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
  const stats = (body ?? {}) as Record<string, unknown>;
  try {
    const chainId = typeof stats.chainId === "number" ? stats.chainId : Number(stats.chainId);
    if (!Number.isSafeInteger(chainId) || chainId <= 0) throw new Error("chainId is not a chain id");
    return {
      origin: new URL(gateway).origin,
      gateway,
      receiver: parseAddress(String(stats.receiver), "receiver"),
      contract: parseAddress(String(stats.contract), "contract"),
      token: parseAddress(String(stats.token), "token"),
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
