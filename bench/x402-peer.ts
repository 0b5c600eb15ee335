// The benchmark's peer: the x402 v2 `exact` scheme (EIP-3009) run entirely on this machine, on
// the same anvil as our stack. It deploys contracts/TestToken3009.sol, funds a payer, and
// starts two Node servers on 127.0.0.1 (@hono/node-server): a local facilitator (x402Facilitator
// from @x402/core with @x402/evm's exact EIP-3009 facilitator scheme, signing settlements with
// its own anvil account, behind the HTTP routes HTTPFacilitatorClient calls: POST /verify,
// POST /settle, GET /supported) and a resource server with @x402/hono's paymentMiddleware in
// front of the same kind of route as our `/echofix/:param` (price 5 base units of the token).
// `fetchWithPayment` is @x402/fetch around the payer's viem account. No network: the
// facilitator is local, the asset and its EIP-712 domain are given explicitly.
import { serve, type ServerType } from "@hono/node-server";
import { x402Facilitator } from "@x402/core/facilitator";
import { HTTPFacilitatorClient } from "@x402/core/server";
import { ExactEvmScheme as ExactEvmFacilitatorScheme } from "@x402/evm/exact/facilitator";
import { ExactEvmScheme as ExactEvmServerScheme } from "@x402/evm/exact/server";
import { ExactEvmScheme as ExactEvmClientScheme } from "@x402/evm/exact/client";
import { toFacilitatorEvmSigner } from "@x402/evm";
import { wrapFetchWithPaymentFromConfig } from "@x402/fetch";
import { paymentMiddleware, x402ResourceServer } from "@x402/hono";
import { Hono } from "hono";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  createPublicClient,
  createWalletClient,
  getAddress,
  http,
  nonceManager,
  publicActions,
  type Abi,
  type Address,
  type Hex,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { testToken3009Abi } from "../src/protocol/abi.js";
import { freePort } from "../scripts/anvil.js";
import { rpcChain } from "../src/client/chain.js";

/** The token's EIP-712 domain (ERC20Permit's: the token name, version "1"). */
export const TOKEN3009_NAME = "Edge402 Test USD";
export const TOKEN3009_VERSION = "1";
/** The peer route's price, in the token's base units (our `/echofix` charges 5 too). */
export const PEER_PRICE = "5";

export type X402PeerOptions = {
  rpcUrl: string;
  chainId: number;
  /** Deploys the token and signs settlements (an anvil account nobody else uses). */
  facilitatorKey: Hex;
  /** Signs EIP-3009 authorizations (an anvil account nobody else uses). */
  payerKey: Hex;
  /** Who is paid. */
  payTo: Address;
  /** Base units minted to the payer. */
  fund: bigint;
};

export type X402Peer = {
  /** The resource server's base URL; the paid route is `${url}/echofix/:param`. */
  url: string;
  facilitatorUrl: string;
  token: Address;
  network: `eip155:${number}`;
  /** @x402/fetch around the payer: answers a 402 by signing and retrying with the payment. */
  fetchWithPayment: typeof fetch;
  /** The payer's token balance now. */
  payerBalance(): Promise<bigint>;
  stop(): Promise<void>;
};

function listen(fetchHandler: (req: Request) => Response | Promise<Response>, port: number): Promise<ServerType> {
  return new Promise((resolveListen) => {
    const server = serve({ fetch: fetchHandler, port, hostname: "127.0.0.1" }, () => resolveListen(server));
  });
}

function close(server: ServerType): Promise<void> {
  return new Promise((resolveClose) => {
    if ("closeAllConnections" in server && typeof server.closeAllConnections === "function")
      server.closeAllConnections();
    server.close(() => resolveClose());
  });
}

/** Deploys the EIP-3009 token, starts the facilitator and the resource server; see the module comment. */
export async function startX402Peer(opts: X402PeerOptions): Promise<X402Peer> {
  const chain = rpcChain(opts.chainId, opts.rpcUrl);
  // A short polling interval: anvil mines at once, so the facilitator should not wait seconds.
  const transport = http(opts.rpcUrl);
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 20 });
  const facilitatorAccount = privateKeyToAccount(opts.facilitatorKey, { nonceManager });
  const facilitatorWallet = createWalletClient({
    account: facilitatorAccount,
    chain,
    transport,
    pollingInterval: 20,
  }).extend(publicActions);
  const payer = privateKeyToAccount(opts.payerKey);

  // The token, and the payer's funds.
  const artifact = JSON.parse(
    readFileSync(join(import.meta.dirname, "..", "contracts", "out", "TestToken3009.json"), "utf8"),
  ) as {
    abi: Abi;
    bytecode: Hex;
  };
  const deployHash = await facilitatorWallet.deployContract({
    abi: artifact.abi,
    bytecode: artifact.bytecode,
    args: [],
  });
  const deployed = await publicClient.waitForTransactionReceipt({ hash: deployHash });
  if (deployed.status !== "success" || !deployed.contractAddress) throw new Error("deploying TestToken3009 failed");
  const token = getAddress(deployed.contractAddress);
  const minted = await publicClient.waitForTransactionReceipt({
    hash: await facilitatorWallet.writeContract({
      address: token,
      abi: testToken3009Abi,
      functionName: "mint",
      args: [payer.address, opts.fund],
    }),
  });
  if (minted.status !== "success") throw new Error("minting TestToken3009 failed");

  const network = `eip155:${opts.chainId}` as const;
  const servers: ServerType[] = [];
  try {
    // The facilitator, over HTTP as a resource server meets one.
    const facilitator = new x402Facilitator().register(
      network,
      // (viem's verifyTypedData overloads are wider than the signer type spells them: cast.)
      new ExactEvmFacilitatorScheme(
        toFacilitatorEvmSigner({ ...facilitatorWallet, address: facilitatorAccount.address } as unknown as Parameters<
          typeof toFacilitatorEvmSigner
        >[0]),
      ),
    );
    const facilitatorApp = new Hono();
    facilitatorApp.get("/supported", (c) => c.json(facilitator.getSupported()));
    facilitatorApp.post("/verify", async (c) => {
      const body = (await c.req.json()) as { paymentPayload: never; paymentRequirements: never };
      return c.json(await facilitator.verify(body.paymentPayload, body.paymentRequirements));
    });
    facilitatorApp.post("/settle", async (c) => {
      const body = (await c.req.json()) as { paymentPayload: never; paymentRequirements: never };
      return c.json(await facilitator.settle(body.paymentPayload, body.paymentRequirements));
    });
    const facilitatorPort = await freePort();
    servers.push(await listen(facilitatorApp.fetch, facilitatorPort));
    const facilitatorUrl = `http://127.0.0.1:${facilitatorPort}`;

    // The resource server: the same kind of route as our /echofix/:param.
    const resourceServer = new x402ResourceServer(new HTTPFacilitatorClient({ url: facilitatorUrl })).register(
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
              price: { asset: token, amount: PEER_PRICE, extra: { name: TOKEN3009_NAME, version: TOKEN3009_VERSION } },
              maxTimeoutSeconds: 300,
            },
            description: "echo, fixed price",
          },
        },
        resourceServer,
      ),
    );
    app.get("/echofix/:param", (c) => c.text(c.req.param("param")));
    const port = await freePort();
    servers.push(await listen(app.fetch, port));

    const fetchWithPayment = wrapFetchWithPaymentFromConfig(fetch, {
      schemes: [{ network, client: new ExactEvmClientScheme(payer) }],
      // A non-default asset must be allowed explicitly; cap each payment at the route's price.
      spendControls: { allowedAssets: [{ network, asset: token, maxAmountPerPayment: PEER_PRICE }] },
    });
    return {
      url: `http://127.0.0.1:${port}`,
      facilitatorUrl,
      token,
      network,
      fetchWithPayment,
      payerBalance: () =>
        publicClient.readContract({
          address: token,
          abi: testToken3009Abi,
          functionName: "balanceOf",
          args: [payer.address],
        }),
      stop: async () => {
        await Promise.all(servers.map(close));
      },
    };
  } catch (err) {
    await Promise.all(servers.map(close));
    throw err;
  }
}
