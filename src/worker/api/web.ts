// The browser's routes under /api/1: the page script (GET /assets/<content-hashed name>,
// immutable, built from src/web into paywall-asset.ts), the token's display facts for the
// page (GET /token: decimals, symbol and the EIP-2612 permit domain, read from the chain once
// per isolate and cached, so a page view costs no chain call), and the wallet page where a
// person closes their channel (GET /wallet). The page reads the chain only through the wallet
// or these routes, never from an RPC URL of its own.
import { Hono } from "hono";
import { domainSeparator, type Address } from "viem";
import { testTokenAbi } from "../../protocol/abi.js";
import type { TokenInfo } from "../../web/server.js";
import { publicClient } from "../chain.js";
import { getConfig, type Config } from "../config.js";
import type { Env } from "../env.js";
import { PAYWALL_SCRIPT } from "../http/paywall-asset.js";
import { pageSettings, walletPage } from "../http/paywall-page.js";
import { errorResponse } from "../http/responses.js";
import * as z from "zod/mini";
import { address, documented, type RouteDoc } from "./openapi.js";

const tokenInfos = new Map<string, Promise<TokenInfo>>();

/** The token's EIP-2612 domain when the one it reports (EIP-5267, else its name and version
 *  "1") reproduces its DOMAIN_SEPARATOR; null when it has no permit. */
async function permitDomain(config: Config): Promise<TokenInfo["permit"]> {
  const client = publicClient(config);
  const address = config.token;
  try {
    const separator = await client.readContract({ address, abi: testTokenAbi, functionName: "DOMAIN_SEPARATOR" });
    const candidate = await client
      .readContract({ address, abi: testTokenAbi, functionName: "eip712Domain" })
      .then(([, name, version]) => ({ name, version }))
      .catch(async () => ({
        name: await client.readContract({ address, abi: testTokenAbi, functionName: "name" }),
        version: "1",
      }));
    const ours = domainSeparator({ domain: { ...candidate, chainId: config.chainId, verifyingContract: address } });
    return ours.toLowerCase() === separator.toLowerCase() ? candidate : null;
  } catch {
    return null;
  }
}

/** The token's facts, read once per isolate (a failed read is tried again next time). */
function tokenInfo(config: Config): Promise<TokenInfo> {
  const key = `${config.chainId}:${config.rpcUrl}:${config.token}`;
  let info = tokenInfos.get(key);
  if (!info) {
    const client = publicClient(config);
    const address: Address = config.token;
    info = Promise.all([
      client.readContract({ address, abi: testTokenAbi, functionName: "decimals" }),
      client.readContract({ address, abi: testTokenAbi, functionName: "symbol" }),
      permitDomain(config),
    ]).then(([decimals, symbol, permit]) => ({ decimals: Number(decimals), symbol, permit }));
    info.catch(() => tokenInfos.delete(key));
    tokenInfos.set(key, info);
  }
  return info;
}

const docs = {
  asset: {
    tag: "browser",
    summary: "The 402 page's script, by its content-hashed name (immutable)",
    params: z.object({ name: z.string() }),
    ok: { mediaType: "text/javascript", description: "The script" },
    errors: ["not_found"],
  },
  token: {
    tag: "browser",
    summary: "The token's display facts for the 402 page: decimals, symbol, EIP-2612 permit domain",
    ok: z.object({
      address,
      chainId: z.number(),
      decimals: z.number(),
      symbol: z.string(),
      permit: z.nullable(z.object({ name: z.string(), version: z.string() })),
    }),
    errors: ["chain_unavailable"],
  },
  wallet: {
    tag: "browser",
    summary: "The wallet page, where a person closes their channel and gets the rest refunded",
    ok: { mediaType: "text/html", description: "The page" },
  },
} satisfies Record<string, RouteDoc>;

export function webApi() {
  const api = new Hono<{ Bindings: Env }>();

  api.get(
    "/assets/:name",
    documented(docs.asset, (c) => {
      if (c.req.param("name") !== PAYWALL_SCRIPT.name) return errorResponse(c, "not_found");
      return c.body(PAYWALL_SCRIPT.body, 200, {
        "Content-Type": "text/javascript; charset=utf-8",
        "Cache-Control": "public, max-age=31536000, immutable",
        "X-Content-Type-Options": "nosniff",
      });
    }),
  );

  api.get(
    "/token",
    documented(docs.token, async (c) => {
      const config = getConfig(c.env);
      let info: TokenInfo;
      try {
        info = await tokenInfo(config);
      } catch {
        return errorResponse(c, "chain_unavailable", { message: "The token cannot be read from the chain now." });
      }
      return c.json({ address: config.token, chainId: config.chainId, ...info }, 200, {
        "Cache-Control": "public, max-age=3600",
      });
    }),
  );

  api.get(
    "/wallet",
    documented(docs.wallet, (c) =>
      c.html(walletPage(pageSettings(getConfig(c.env))), 200, { "Cache-Control": "no-cache" }),
    ),
  );

  return api;
}
