// What the page asks its own Worker (same origin, under the gateway path): the token's display
// facts and permit domain (GET /token, read once from the chain by the Worker and cached), and
// a channel's state as the server holds it (GET /channels/{sender}/{openBlock}).
import type { Address } from "viem";
import { PageError } from "./errors.js";

export type TokenInfo = {
  decimals: number;
  symbol: string;
  /** The token's EIP-2612 domain, or null when it has no permit (then approve + createChannel). */
  permit: { name: string; version: string } | null;
};

export type ServerChannel = { state: string; deposit: bigint; balance: bigint; charged: bigint };

export async function tokenInfo(gateway: string): Promise<TokenInfo | null> {
  try {
    const res = await fetch(`${gateway}/token`, { headers: { Accept: "application/json" } });
    return res.ok ? ((await res.json()) as TokenInfo) : null;
  } catch {
    return null;
  }
}

/** The channel as the server holds it, or null when it does not exist. A server that cannot
 *  answer now (busy, chain unreachable) is an error: the page never takes that for "no channel"
 *  and opens a second one. */
export async function serverChannel(
  gateway: string,
  sender: Address,
  openBlock: number,
): Promise<ServerChannel | null> {
  const res = await fetch(`${gateway}/channels/${sender}/${openBlock}`, {
    headers: { Accept: "application/json" },
    cache: "no-store",
  });
  if (res.status === 404) return null;
  if (!res.ok)
    throw new PageError(
      "failed",
      `The site cannot tell the state of your channel now (HTTP ${res.status}); nothing was paid. Try again in a moment.`,
    );
  const j = (await res.json()) as Record<string, string>;
  return {
    state: String(j.state),
    deposit: BigInt(j.deposit ?? "0"),
    balance: BigInt(j.balance ?? "0"),
    charged: BigInt(j.charged ?? "0"),
  };
}
