// One paid request with x402's own client, for the local run's banner: @x402/fetch's
// `wrapFetchWithPayment` around an x402Client with @x402/evm's stock `exact` scheme (an
// EIP-3009 authorization the facilitator settles on chain), or with `--channel` edge402's
// `channel` scheme (edge402/x402: a channel opened once, then balance proofs). It prints the
// status, the decoded PAYMENT-RESPONSE and the body. x402's spend controls allow only the
// token the first 402 names, up to `--max` base units a payment (default 100).
//
//   EDGE402_PRIVATE_KEY=0x... EDGE402_RPC_URL=http://127.0.0.1:8545 npx tsx scripts/x402-pay.ts [--channel] [--max N] URL
import { parseArgs } from "node:util";
import { x402Client } from "@x402/core/client";
import { decodePaymentRequiredHeader, decodePaymentResponseHeader } from "@x402/core/http";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { wrapFetchWithPayment } from "@x402/fetch";
import type { Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { channelScheme } from "../src/x402/index.js";

const USAGE =
  "usage: EDGE402_PRIVATE_KEY=0x... EDGE402_RPC_URL=http://... npx tsx scripts/x402-pay.ts [--channel] [--max N] URL";

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { channel: { type: "boolean" }, max: { type: "string" } },
    allowPositionals: true,
  });
  const [url] = positionals;
  const key = process.env.EDGE402_PRIVATE_KEY;
  const rpcUrl = process.env.EDGE402_RPC_URL;
  if (!url || !key || !/^0x[0-9a-fA-F]{64}$/.test(key) || (values.channel && !rpcUrl)) throw new Error(USAGE);
  const max = values.max ?? "100";
  if (!/^[0-9]+$/.test(max)) throw new Error(`--max must be a whole number of base units\n${USAGE}`);
  const account = privateKeyToAccount(key as Hex);

  // The first 402 names the network and token to allow.
  const probe = await fetch(url);
  const header = probe.headers.get("PAYMENT-REQUIRED");
  if (probe.status !== 402 || !header) throw new Error(`${url} answered ${probe.status} without an x402 offer`);
  const [offer] = decodePaymentRequiredHeader(header).accepts;
  if (!offer) throw new Error(`${url} offers no x402 payment`);
  const allowed = [{ network: offer.network, asset: offer.asset, maxAmountPerPayment: max }];
  const client = new x402Client().setSpendControls({ allowedAssets: allowed });
  if (values.channel) client.register("eip155:*", channelScheme({ account, rpcUrl, pollingInterval: 200 }));
  else client.register("eip155:*", new ExactEvmScheme(account));

  const res = await wrapFetchWithPayment(fetch, client)(url);
  console.log(`HTTP ${res.status}`);
  const receipt = res.headers.get("PAYMENT-RESPONSE");
  if (receipt) console.log(`PAYMENT-RESPONSE ${JSON.stringify(decodePaymentResponseHeader(receipt), null, 2)}`);
  console.log(await res.text());
  if (!res.ok) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
