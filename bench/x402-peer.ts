// The benchmark's peer: x402's own resource server (@x402/hono's paymentMiddleware over
// x402ResourceServer with @x402/evm's `exact` scheme) in front of the same kind of route as our
// `/echofix/:param` (price 5 base units), on the same anvil, token and local facilitator
// (scripts/x402-facilitator.ts) as the edge402 stack it is compared with. `exactFetch` is
// @x402/fetch around a payer's viem account with the stock `exact` client: what pays both this
// peer and edge402's own `exact` offer. No network: everything listens on 127.0.0.1.
import { HTTPFacilitatorClient } from "@x402/core/server";
import { ExactEvmScheme as ExactEvmClientScheme } from "@x402/evm/exact/client";
import { ExactEvmScheme as ExactEvmServerScheme } from "@x402/evm/exact/server";
import { wrapFetchWithPaymentFromConfig } from "@x402/fetch";
import { paymentMiddleware, x402ResourceServer } from "@x402/hono";
import { Hono } from "hono";
import type { Address, Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { serveLocal } from "../scripts/x402-facilitator.js";

/** The token's EIP-712 domain (TestToken's ERC20Permit: its name, version "1"). */
export const TOKEN_NAME = "Edge402 Test Token";
export const TOKEN_VERSION = "1";
/** The peer route's price, in the token's base units (our `/echofix` charges 5 too). */
export const PEER_PRICE = "5";

export type X402PeerOptions = {
  chainId: number;
  facilitatorUrl: string;
  token: Address;
  /** Who is paid. */
  payTo: Address;
};

export type X402Peer = {
  /** The resource server's base URL; the paid route is `${url}/echofix/:param`. */
  url: string;
  stop(): Promise<void>;
};

/** @x402/fetch with the stock `exact` client for `payerKey`, allowed to pay up to `maxAmount` of `token`. */
export function exactFetch(payerKey: Hex, chainId: number, token: Address, maxAmount: string): typeof fetch {
  const network = `eip155:${chainId}` as const;
  return wrapFetchWithPaymentFromConfig(fetch, {
    schemes: [{ network, client: new ExactEvmClientScheme(privateKeyToAccount(payerKey)) }],
    // A non-default asset must be allowed explicitly; cap each payment at the route's price.
    spendControls: { allowedAssets: [{ network, asset: token, maxAmountPerPayment: maxAmount }] },
  });
}

/** Starts the @x402/hono resource server; see the module comment. */
export async function startX402Peer(opts: X402PeerOptions): Promise<X402Peer> {
  const network = `eip155:${opts.chainId}` as const;
  const resourceServer = new x402ResourceServer(new HTTPFacilitatorClient({ url: opts.facilitatorUrl })).register(
    network,
    new ExactEvmServerScheme(),
  );
  const app = new Hono();
  app.use(
    paymentMiddleware(
      {
        "GET /echofix/*": {
          accepts: {
            scheme: "exact",
            network,
            payTo: opts.payTo,
            price: { asset: opts.token, amount: PEER_PRICE, extra: { name: TOKEN_NAME, version: TOKEN_VERSION } },
            maxTimeoutSeconds: 300,
          },
          description: "echo, fixed price",
        },
      },
      resourceServer,
    ),
  );
  app.get("/echofix/:param", (c) => c.text(c.req.param("param")));
  return serveLocal(app.fetch);
}
