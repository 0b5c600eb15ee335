// A local x402 facilitator for the local run and the tests: x402's own facilitator code
// (x402Facilitator from @x402/core with @x402/evm's `exact` EIP-3009 scheme), not an imitation,
// so the Worker's `exact` payments meet what a hosted facilitator would do. It settles with
// its own anvil account and serves the HTTP routes HTTPFacilitatorClient calls (POST /verify,
// POST /settle, GET /supported) on 127.0.0.1. Its settlements wait for their receipt, as x402's
// exact facilitator does, so a settled payment is mined before the Worker answers.
import { serve, type ServerType } from "@hono/node-server";
import { x402Facilitator } from "@x402/core/facilitator";
import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";
import { toFacilitatorEvmSigner } from "@x402/evm";
import { ExactEvmScheme } from "@x402/evm/exact/facilitator";
import { Hono } from "hono";
import { createWalletClient, http, nonceManager, publicActions, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { rpcChain } from "../src/client/chain.js";
import { freePort } from "./anvil.js";

export type X402FacilitatorOptions = {
  rpcUrl: string;
  chainId: number;
  /** Signs and pays for the settlement transactions (an anvil account nobody else sends from). */
  privateKey: Hex;
  /** Port on 127.0.0.1; 0 or undefined picks a free one. */
  port?: number;
};

export type X402Facilitator = {
  /** The base URL HTTPFacilitatorClient takes (X402_FACILITATOR_URL). */
  url: string;
  /** The account that settles. */
  address: Address;
  stop(): Promise<void>;
};

type FacilitatorRequest = { paymentPayload: PaymentPayload; paymentRequirements: PaymentRequirements };

/** x402Facilitator with the exact EVM scheme on `eip155:<chainId>`, signing with `privateKey`. */
function exactFacilitator(opts: X402FacilitatorOptions): { facilitator: x402Facilitator; address: Address } {
  const chain = rpcChain(opts.chainId, opts.rpcUrl);
  const account = privateKeyToAccount(opts.privateKey, { nonceManager });
  // A short polling interval: anvil mines at once, so a settlement should not wait seconds.
  const wallet = createWalletClient({ account, chain, transport: http(opts.rpcUrl), pollingInterval: 20 }).extend(
    publicActions,
  );
  // (viem's verifyTypedData overloads are wider than the signer type spells them: cast.)
  const signer = toFacilitatorEvmSigner({ ...wallet, address: account.address } as unknown as Parameters<
    typeof toFacilitatorEvmSigner
  >[0]);
  const facilitator = new x402Facilitator().register(`eip155:${opts.chainId}`, new ExactEvmScheme(signer));
  return { facilitator, address: account.address };
}

/** The facilitator's HTTP routes, as HTTPFacilitatorClient calls them. A payload the scheme
 *  cannot even read is an invalid payment (400 with the verdict), not a facilitator failure. */
function facilitatorApp(facilitator: x402Facilitator): Hono {
  const app = new Hono();
  app.get("/supported", (c) => c.json(facilitator.getSupported()));
  app.post("/verify", async (c) => {
    const body = await c.req.json<FacilitatorRequest>();
    try {
      return c.json(await facilitator.verify(body.paymentPayload, body.paymentRequirements));
    } catch (err) {
      return c.json({ isValid: false, invalidReason: "invalid_payload", invalidMessage: (err as Error).message }, 400);
    }
  });
  app.post("/settle", async (c) => {
    const body = await c.req.json<FacilitatorRequest>();
    try {
      return c.json(await facilitator.settle(body.paymentPayload, body.paymentRequirements));
    } catch (err) {
      const network = body.paymentRequirements?.network ?? "";
      const failed = { success: false, errorReason: "settle_failed", errorMessage: (err as Error).message };
      return c.json({ ...failed, transaction: "", network }, 400);
    }
  });
  return app;
}

/** A fetch handler served on 127.0.0.1 (@hono/node-server), and how to stop it. */
export async function serveLocal(
  handler: (req: Request) => Response | Promise<Response>,
  port?: number,
): Promise<{ url: string; stop(): Promise<void> }> {
  const chosen = port || (await freePort());
  const server = await new Promise<ServerType>((resolveListen) => {
    const s = serve({ fetch: handler, port: chosen, hostname: "127.0.0.1" }, () => resolveListen(s));
  });
  return {
    url: `http://127.0.0.1:${chosen}`,
    stop: () =>
      new Promise<void>((resolveClose) => {
        if ("closeAllConnections" in server && typeof server.closeAllConnections === "function")
          server.closeAllConnections();
        server.close(() => resolveClose());
      }),
  };
}

/** Starts the facilitator; see the module comment. */
export async function startX402Facilitator(opts: X402FacilitatorOptions): Promise<X402Facilitator> {
  const { facilitator, address } = exactFacilitator(opts);
  const served = await serveLocal(facilitatorApp(facilitator).fetch, opts.port);
  return { ...served, address };
}
