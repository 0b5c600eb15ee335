// Thousands of channels on the stack's anvil in a few blocks, for the scale simulation
// (bench/scale.ts). Each channel needs its own sender (two channels of one sender to one
// receiver in one block would share a key), so every sender is a fresh key whose transactions
// anvil sends unsigned (auto-impersonation): mint, approve and createChannel each, all queued
// with auto-mining off, then mined a few blocks at a time under a raised block gas limit. The
// keys stay here: they sign the channels' balance proofs. JSON-RPC calls go in batches.
import { encodeFunctionData, getAddress, parseEventLogs, type Address, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { microTransferChannelsAbi, testTokenAbi } from "../src/protocol/abi.js";
import type { BenchChannel, StackChain } from "./channels.js";

type Progress = (message: string) => void;
type Call = { method: string; params: unknown[] };

const RPC_BATCH = 250;

/** JSON-RPC calls in batches of RPC_BATCH per HTTP request; results in order. */
async function rpcBatch<T = unknown>(rpcUrl: string, calls: Call[]): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < calls.length; i += RPC_BATCH) {
    const chunk = calls.slice(i, i + RPC_BATCH).map((c, j) => ({ jsonrpc: "2.0", id: i + j, ...c }));
    const res = await fetch(rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(chunk),
    });
    const body = (await res.json()) as Array<{ id: number; result?: T; error?: { message: string } }>;
    body.sort((a, b) => a.id - b.id);
    for (const r of body) {
      if (r.error) throw new Error(`${chunk[r.id - i]!.method}: ${r.error.message}`);
      out.push(r.result as T);
    }
  }
  return out;
}

const one = async <T>(rpcUrl: string, method: string, params: unknown[] = []) =>
  (await rpcBatch<T>(rpcUrl, [{ method, params }]))[0]!;

/** The three transactions that open a fresh sender's channel (nonces 0 to 2), unsigned: anvil
 *  impersonates the sender. */
function openingCalls(s: StackChain, sender: Address, deposit: bigint): Call[] {
  const tx = (nonce: number, to: Address, data: Hex, gas: number) => ({
    method: "eth_sendTransaction",
    params: [{ from: sender, to, data, gas: `0x${gas.toString(16)}`, nonce: `0x${nonce.toString(16)}` }],
  });
  const mint = encodeFunctionData({ abi: testTokenAbi, functionName: "mint", args: [sender, deposit] });
  const approve = encodeFunctionData({ abi: testTokenAbi, functionName: "approve", args: [s.contract, deposit] });
  const create = encodeFunctionData({
    abi: microTransferChannelsAbi,
    functionName: "createChannel",
    args: [s.receiver, deposit],
  });
  return [tx(0, s.token, mint, 120_000), tx(1, s.token, approve, 80_000), tx(2, s.contract, create, 250_000)];
}

/** Mines until anvil's pool is empty; returns the blocks mined. */
async function mineAll(rpcUrl: string): Promise<number> {
  let blocks = 0;
  for (;;) {
    const pool = await one<{ pending: Hex; queued: Hex }>(rpcUrl, "txpool_status");
    if (BigInt(pool.pending) === 0n && BigInt(pool.queued) === 0n) return blocks;
    await one(rpcUrl, "evm_mine");
    blocks++;
    if (blocks > 10_000) throw new Error("anvil's pool does not empty");
  }
}

/**
 * Opens `deposits.length` channels (the i-th with `deposits[i]`), one fresh sender each, to the
 * stack's receiver; returns them in that order with the time it took and the blocks used.
 */
export async function openManyChannels(
  s: StackChain,
  deposits: bigint[],
  progress: Progress,
): Promise<{ channels: BenchChannel[]; ms: number; blocks: number }> {
  const started = performance.now();
  const accounts: PrivateKeyAccount[] = deposits.map(() => privateKeyToAccount(generatePrivateKey()));
  const from = BigInt(await one<Hex>(s.rpcUrl, "eth_blockNumber")) + 1n;
  await one(s.rpcUrl, "anvil_autoImpersonateAccount", [true]);
  await one(s.rpcUrl, "evm_setBlockGasLimit", ["0x1DCD65000"]); // 8 billion: ~25,000 channels a block
  await one(s.rpcUrl, "evm_setAutomine", [false]);
  try {
    progress(`scale: funding ${accounts.length} senders with ether`);
    await rpcBatch(
      s.rpcUrl,
      accounts.map((a) => ({ method: "anvil_setBalance", params: [a.address, "0x8AC7230489E80000"] })),
    );
    progress(`scale: queueing ${3 * accounts.length} transactions (mint, approve, createChannel per sender)`);
    await rpcBatch(
      s.rpcUrl,
      accounts.flatMap((a, i) => openingCalls(s, a.address, deposits[i]!)),
    );
    progress("scale: mining them");
    const blocks = await mineAll(s.rpcUrl);
    const channels = await readOpened(s, from, accounts, deposits);
    return { channels, ms: performance.now() - started, blocks };
  } finally {
    await one(s.rpcUrl, "evm_setAutomine", [true]);
    await one(s.rpcUrl, "anvil_autoImpersonateAccount", [false]);
    await one(s.rpcUrl, "anvil_mine", ["0x1"]); // the confirmation
  }
}

/** Each sender's channel from the ChannelCreated logs since block `from`. */
async function readOpened(
  s: StackChain,
  from: bigint,
  accounts: PrivateKeyAccount[],
  deposits: bigint[],
): Promise<BenchChannel[]> {
  const logs = await one<Array<{ topics: Hex[]; data: Hex; address: Address }>>(s.rpcUrl, "eth_getLogs", [
    { address: s.contract, fromBlock: `0x${from.toString(16)}`, toBlock: "latest" },
  ]);
  const created = parseEventLogs({
    abi: microTransferChannelsAbi,
    eventName: "ChannelCreated",
    logs: logs as never,
  }) as unknown as Array<{ args: { sender: Address; openBlock: number } }>;
  const openBlock = new Map(created.map((l) => [getAddress(l.args.sender), Number(l.args.openBlock)]));
  return accounts.map((account, i) => {
    const block = openBlock.get(account.address);
    if (block === undefined) throw new Error(`no ChannelCreated for ${account.address}`);
    return { account, sender: account.address, openBlock: block, deposit: deposits[i]! };
  });
}
