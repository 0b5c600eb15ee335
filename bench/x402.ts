// The x402 part of the bench: paid requests sent by x402's own client (@x402/fetch), three ways,
// on the same anvil, token and local facilitator (scripts/x402-facilitator.ts):
//   peer exact        x402's own resource server (@x402/hono, bench/x402-peer.ts), `exact` (EIP-3009)
//   edge402 exact     edge402's Worker taking the stock `exact` scheme through the facilitator
//   edge402 channel   edge402's Worker paid by edge402's `channel` scheme (edge402/x402), prepaying
// each at concurrency 1 and 32, first on the bench stack's anvil (mines at once), then on a
// second stack whose anvil mines every 2 s, as Base does. For each it counts the on-chain
// transactions the payments took (the facilitator's for `exact`, the payer's for `channel`: its
// channel's opening) per 1,000 paid requests. Every paid request is two HTTP round trips: the
// unpaid one that gets the 402, then the paid retry, as @x402/fetch sends them.
import { x402Client } from "@x402/core/client";
import { wrapFetchWithPayment } from "@x402/fetch";
import type { Address, Hex } from "viem";
import { createPublicClient, createWalletClient, http } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { ANVIL_KEYS, rpc } from "../scripts/anvil.js";
import { startStack, type Stack } from "../scripts/stack.js";
import { testTokenAbi } from "../src/protocol/abi.js";
import { channelScheme } from "../src/x402/index.js";
import { expectStatus, runLoad, type LoadResult } from "./load.js";
import { exactFetch, PEER_PRICE, startX402Peer } from "./x402-peer.js";

type Progress = (message: string) => void;

export type X402Way = "peer exact" | "edge402 exact" | "edge402 channel";

export type X402Row = {
  way: X402Way;
  c1: LoadResult;
  c32: LoadResult;
  /** Paid answers, warm-up included, and the on-chain transactions they took. */
  paid: number;
  transactions: number;
  transactionsPer1000: number;
};

export type X402Chain = { rows: X402Row[] } | { error: string };

export type X402Result = { instant: X402Chain; blockTime2s: X402Chain };

type Plan = { c1: { total: number; maxMs: number }; c32: { total: number; maxMs: number } };

/** Request counts and time bounds per way, on an anvil that mines at once and on 2 s blocks. */
const PLANS: Record<"instant" | "blockTime2s", Record<X402Way, Plan>> = {
  instant: {
    "peer exact": { c1: { total: 150, maxMs: 15_000 }, c32: { total: 600, maxMs: 20_000 } },
    "edge402 exact": { c1: { total: 150, maxMs: 15_000 }, c32: { total: 600, maxMs: 20_000 } },
    "edge402 channel": { c1: { total: 600, maxMs: 15_000 }, c32: { total: 2000, maxMs: 15_000 } },
  },
  blockTime2s: {
    "peer exact": { c1: { total: 8, maxMs: 15_000 }, c32: { total: 200, maxMs: 20_000 } },
    "edge402 exact": { c1: { total: 8, maxMs: 15_000 }, c32: { total: 200, maxMs: 20_000 } },
    "edge402 channel": { c1: { total: 300, maxMs: 15_000 }, c32: { total: 1000, maxMs: 15_000 } },
  },
};

const WARM_UP = 2;

/** A fresh payer with ether for gas and tokens minted by anvil's account 0 (its own nonce stays 0). */
async function fundedPayer(stack: Stack): Promise<Hex> {
  const key = generatePrivateKey();
  const address = privateKeyToAccount(key).address;
  await rpc(stack.rpcUrl, "anvil_setBalance", [address, "0x3635C9ADC5DEA00000"]);
  const minter = createWalletClient({ account: privateKeyToAccount(ANVIL_KEYS[0]!), transport: http(stack.rpcUrl) });
  const hash = await minter.writeContract({
    address: stack.token,
    abi: testTokenAbi,
    functionName: "mint",
    args: [address, 10n ** 12n],
    chain: null,
  });
  await createPublicClient({ transport: http(stack.rpcUrl) }).waitForTransactionReceipt({ hash });
  return key;
}

/** One way's runs: warm-up, concurrency 1, concurrency 32, with the transactions they took. */
async function runWay(stack: Stack, way: X402Way, plan: Plan, label: string, progress: Progress): Promise<X402Row> {
  const key = await fundedPayer(stack);
  const payer = privateKeyToAccount(key).address;
  const pub = createPublicClient({ transport: http(stack.rpcUrl) });
  // Who sends the payments' transactions: the facilitator for `exact`, the payer for `channel`.
  const sender: Address = way === "edge402 channel" ? payer : stack.facilitator.address;
  const { pay, base, stop } = await payingWay(stack, way, key);
  try {
    const send = async (i: number) => expectStatus(await pay(`${base}/echofix/r${i}`));
    const nonceBefore = await pub.getTransactionCount({ address: sender });
    progress(`x402 ${way}${label}: warm-up`);
    const warm = await runLoad({ concurrency: 1, total: WARM_UP, maxMs: 30_000, send });
    progress(`x402 ${way}${label}: concurrency 1 (${plan.c1.total} paid requests, at most ${plan.c1.maxMs / 1000} s)`);
    const c1 = await runLoad({ concurrency: 1, ...plan.c1, send });
    progress(
      `x402 ${way}${label}: concurrency 32 (${plan.c32.total} paid requests, at most ${plan.c32.maxMs / 1000} s)`,
    );
    const c32 = await runLoad({ concurrency: 32, ...plan.c32, send });
    const transactions = (await pub.getTransactionCount({ address: sender })) - nonceBefore;
    const paid = warm.ok + c1.ok + c32.ok;
    return { way, c1, c32, paid, transactions, transactionsPer1000: paid ? (transactions * 1000) / paid : Number.NaN };
  } finally {
    await stop();
  }
}

/** The paying fetch and the base URL of one way. */
async function payingWay(
  stack: Stack,
  way: X402Way,
  key: Hex,
): Promise<{ pay: typeof fetch; base: string; stop(): Promise<void> }> {
  const network = `eip155:${stack.chainId}` as const;
  if (way === "edge402 channel") {
    const scheme = channelScheme({
      account: privateKeyToAccount(key),
      rpcUrl: stack.rpcUrl,
      pollingInterval: 100,
      prepay: true,
      // Room for 20,000 requests: the one deposit pays the whole run.
      deposit: { multiple: 20_000 },
    });
    const client = new x402Client().register("eip155:*", scheme).setSpendControls({
      allowedAssets: [{ network, asset: stack.token, maxAmountPerPayment: PEER_PRICE }],
    });
    return { pay: wrapFetchWithPayment(fetch, client), base: stack.url, stop: async () => undefined };
  }
  const pay = exactFetch(key, stack.chainId, stack.token, PEER_PRICE);
  if (way === "edge402 exact") return { pay, base: stack.url, stop: async () => undefined };
  const peer = await startX402Peer({
    chainId: stack.chainId,
    facilitatorUrl: stack.facilitator.url,
    token: stack.token,
    payTo: stack.receiver,
  });
  return { pay, base: peer.url, stop: peer.stop };
}

async function runChain(stack: Stack, which: keyof typeof PLANS, progress: Progress): Promise<X402Chain> {
  const label = which === "instant" ? "" : ", 2 s blocks";
  const rows: X402Row[] = [];
  try {
    for (const way of ["peer exact", "edge402 exact", "edge402 channel"] as const)
      rows.push(await runWay(stack, way, PLANS[which][way], label, progress));
  } catch (err) {
    return { error: (err as Error).message.split("\n")[0]! };
  }
  return { rows };
}

/** The three ways on the bench stack, then on a second stack that mines every 2 s. */
export async function benchX402(stack: Stack, progress: Progress): Promise<X402Result> {
  const instant = await runChain(stack, "instant", progress);
  let blockTime2s: X402Chain;
  let slow: Stack | undefined;
  try {
    progress("x402, 2 s blocks: starting a second stack whose anvil mines every 2 s");
    slow = await startStack({
      anvilBlockTime: 2,
      env: { FREE_CAPACITY: "1000000", PAID_CAPACITY: "1000000", LOOKUP_RATE: "1000000" },
      scheduledEveryMs: 0,
      quiet: true,
    });
    blockTime2s = await runChain(slow, "blockTime2s", progress);
  } catch (err) {
    blockTime2s = { error: (err as Error).message.split("\n")[0]! };
  } finally {
    await slow?.stop();
  }
  return { instant, blockTime2s };
}
