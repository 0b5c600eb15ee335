// scripts/pay-once.ts owns the "make one paid request" demo that works without the edge402 CLI:
// `tsx scripts/pay-once.ts <url>`. Using only viem and src/protocol, it asks the URL, reads the
// payment terms from the 402 (receiver, contract, token, chain, price), mints test tokens to the
// payer from the TestToken faucet, approves them and opens a channel with a deposit of 100 times
// the price, waits until the paywall's confirmations are reached, signs a BalanceProof for the
// price and repeats the request with the RDN-* payment headers, then prints the body and the
// payment headers of the answer. Each run opens a new channel. The payer's key comes from
// EDGE402_PRIVATE_KEY (default: anvil's account 3, a local test key) and the chain from
// EDGE402_RPC_URL (default http://127.0.0.1:8545). Exits 0 on a 2xx answer, 1 otherwise.
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createPublicClient, createWalletClient, defineChain, http, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  encodeProofHeaders,
  microTransferChannelsAbi,
  parseAddress,
  parseUint,
  RdnHeaders,
  signBalanceProof,
  testTokenAbi,
} from "../src/protocol/index.js";

/** anvil's account 3: the first account `npm start` leaves to users. A public test key. */
const DEFAULT_KEY: Hex = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6";
const DEPOSIT_MULTIPLE = 100n;
const CONFIRMATION_WAIT_MS = 60_000;

type Terms = {
  gatewayPath: string;
  receiver: Address;
  contract: Address;
  token: Address;
  chainId: number;
  price: bigint;
};

function readTerms(res: Response): Terms {
  const need = (name: string): string => {
    const v = res.headers.get(name);
    if (v === null) throw new Error(`the 402 has no ${name} header: is this an edge402 paywall?`);
    return v;
  };
  return {
    gatewayPath: res.headers.get(RdnHeaders.gatewayPath) ?? "/api/1",
    receiver: parseAddress(need(RdnHeaders.receiverAddress), RdnHeaders.receiverAddress),
    contract: parseAddress(need(RdnHeaders.contractAddress), RdnHeaders.contractAddress),
    token: parseAddress(need(RdnHeaders.tokenAddress), RdnHeaders.tokenAddress),
    chainId: Number(parseUint(need(RdnHeaders.chainId), RdnHeaders.chainId, 64)),
    price: parseUint(need(RdnHeaders.price), RdnHeaders.price),
  };
}

function printResponse(res: Response, body: string): void {
  console.log(`HTTP ${res.status} ${res.statusText}`);
  for (const [name, value] of res.headers) if (name.startsWith("rdn-")) console.log(`  ${name}: ${value}`);
  console.log(body);
}

export async function payOnce(url: string, privateKey: Hex, rpcUrl: string): Promise<Response> {
  const first = await fetch(url);
  if (first.status !== 402) {
    console.log("(no payment needed)");
    printResponse(first, await first.text());
    return first;
  }
  await first.arrayBuffer();
  const terms = readTerms(first);
  const account = privateKeyToAccount(privateKey);
  const chain = defineChain({
    id: terms.chainId,
    name: `chain-${terms.chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
  const pub = createPublicClient({ chain, transport: http(rpcUrl) });
  const rpcChain = await pub.getChainId();
  if (rpcChain !== terms.chainId)
    throw new Error(`${rpcUrl} is chain ${rpcChain}, the paywall wants chain ${terms.chainId}`);
  const wallet = createWalletClient({ account, chain, transport: http(rpcUrl) });
  const send = async (hash: Hex, what: string) => {
    const receipt = await pub.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`${what} failed (transaction ${hash})`);
    return receipt;
  };

  const deposit = terms.price * DEPOSIT_MULTIPLE;
  console.log(
    `price ${terms.price}; payer ${account.address}; opening a channel to ${terms.receiver} with deposit ${deposit}`,
  );
  await send(
    await wallet.writeContract({
      address: terms.token,
      abi: testTokenAbi,
      functionName: "mint",
      args: [account.address, deposit],
    }),
    "mint",
  );
  await send(
    await wallet.writeContract({
      address: terms.token,
      abi: testTokenAbi,
      functionName: "approve",
      args: [terms.contract, deposit],
    }),
    "approve",
  );
  const opened = await send(
    await wallet.writeContract({
      address: terms.contract,
      abi: microTransferChannelsAbi,
      functionName: "createChannel",
      args: [terms.receiver, deposit],
    }),
    "createChannel",
  );
  const openBlock = Number(opened.blockNumber);
  console.log(`channel opened at block ${openBlock}`);

  // Wait for the paywall's confirmations (GET <gateway>/stats tells how many it wants).
  let minConfirmations = 1;
  try {
    const stats = (await (await fetch(new URL(`${terms.gatewayPath}/stats`, url))).json()) as {
      minConfirmations?: number;
    };
    if (typeof stats.minConfirmations === "number") minConfirmations = stats.minConfirmations;
  } catch {
    // assume 1
  }
  const deadline = Date.now() + CONFIRMATION_WAIT_MS;
  while ((await pub.getBlockNumber({ cacheTime: 0 })) < BigInt(openBlock + minConfirmations - 1)) {
    if (Date.now() > deadline)
      throw new Error(`the channel did not reach ${minConfirmations} confirmations within a minute`);
    await new Promise((r) => setTimeout(r, 1_000));
  }

  const balance = terms.price;
  const signature = await signBalanceProof(account, {
    chainId: terms.chainId,
    contract: terms.contract,
    receiver: terms.receiver,
    openBlock,
    balance,
  });
  const paid = await fetch(url, {
    headers: encodeProofHeaders({ sender: account.address, openBlock, balance, signature }),
  });
  printResponse(paid, await paid.text());
  return paid;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const url = process.argv[2];
  if (!url || !/^https?:\/\//.test(url)) {
    console.error(
      "usage: [EDGE402_PRIVATE_KEY=0x...] [EDGE402_RPC_URL=http://127.0.0.1:8545] tsx scripts/pay-once.ts <url>",
    );
    process.exit(2);
  }
  const key = (process.env.EDGE402_PRIVATE_KEY || DEFAULT_KEY) as Hex;
  if (!/^0x[0-9a-fA-F]{64}$/.test(key)) {
    console.error("EDGE402_PRIVATE_KEY must be 0x followed by 64 hex digits");
    process.exit(2);
  }
  payOnce(url, key, process.env.EDGE402_RPC_URL || "http://127.0.0.1:8545").then(
    (res) => process.exit(res.ok ? 0 : 1),
    (err: unknown) => {
      console.error(`pay-once: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
