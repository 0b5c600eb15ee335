// Helpers for the worker tests, running inside workerd: the anvil chain the global setup
// started, channels opened on it with real transactions, proofs signed with viem accounts
// (a standard EIP-712 signer), and requests sent to the Worker under test.
import { env, runDurableObjectAlarm, SELF } from "cloudflare:test";
import { createPublicClient, createWalletClient, defineChain, http, type Address, type Hex } from "viem";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { microTransferChannelsAbi, testTokenAbi } from "../../src/protocol/abi.js";
import { encodeProofHeaders } from "../../src/protocol/codec.js";
import { balanceProofTypedData, closeRequestTypedData } from "../../src/protocol/eip712.js";
import { channelStub } from "../../src/worker/channel/stub.js";
import { channels } from "../../src/worker/db/schema.js";
import { channelId } from "../../src/protocol/channel-key.js";
import { drizzle } from "drizzle-orm/d1";
import { eq } from "drizzle-orm";
import { vi } from "vitest";

type TestChain = { rpcUrl: string; chainId: number; contract: Address; token: Address; deployBlock: number };
const testEnv = env as unknown as { TEST_CHAIN: TestChain; TEST_KEYS: Hex[]; ADMIN_TOKEN: string };

export const chain = testEnv.TEST_CHAIN;
export const keys = testEnv.TEST_KEYS;
export const adminToken = testEnv.ADMIN_TOKEN;
export const receiver = privateKeyToAccount(keys[1]!);
export const anvil = defineChain({
  id: chain.chainId,
  name: "anvil",
  nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
  rpcUrls: { default: { http: [chain.rpcUrl] } },
});
export const publicClient = createPublicClient({ chain: anvil, transport: http(chain.rpcUrl) });

export function wallet(account: PrivateKeyAccount) {
  return createWalletClient({ account, transport: http(chain.rpcUrl) });
}

/** Opens a channel from `account` to the Worker's receiver with a real deposit. */
export async function openChannel(
  account: PrivateKeyAccount,
  deposit: bigint,
): Promise<{ sender: Address; openBlock: number }> {
  const w = wallet(account);
  const tx = { chain: anvil, account } as const;
  await publicClient.waitForTransactionReceipt({
    hash: await w.writeContract({
      ...tx,
      address: chain.token,
      abi: testTokenAbi,
      functionName: "mint",
      args: [account.address, deposit],
    }),
  });
  await publicClient.waitForTransactionReceipt({
    hash: await w.writeContract({
      ...tx,
      address: chain.token,
      abi: testTokenAbi,
      functionName: "approve",
      args: [chain.contract, deposit],
    }),
  });
  const receipt = await publicClient.waitForTransactionReceipt({
    hash: await w.writeContract({
      ...tx,
      address: chain.contract,
      abi: microTransferChannelsAbi,
      functionName: "createChannel",
      args: [receiver.address, deposit],
    }),
  });
  if (receipt.status !== "success") throw new Error("createChannel failed");
  return { sender: account.address, openBlock: Number(receipt.blockNumber) };
}

export async function topUp(account: PrivateKeyAccount, openBlock: number, added: bigint): Promise<void> {
  const w = wallet(account);
  const tx = { chain: anvil, account } as const;
  await publicClient.waitForTransactionReceipt({
    hash: await w.writeContract({
      ...tx,
      address: chain.token,
      abi: testTokenAbi,
      functionName: "mint",
      args: [account.address, added],
    }),
  });
  await publicClient.waitForTransactionReceipt({
    hash: await w.writeContract({
      ...tx,
      address: chain.token,
      abi: testTokenAbi,
      functionName: "approve",
      args: [chain.contract, added],
    }),
  });
  await publicClient.waitForTransactionReceipt({
    hash: await w.writeContract({
      ...tx,
      address: chain.contract,
      abi: microTransferChannelsAbi,
      functionName: "topUp",
      args: [receiver.address, openBlock, added],
    }),
  });
}

export function signProof(
  account: PrivateKeyAccount,
  openBlock: number,
  balance: bigint,
  domain: { chainId?: number; contract?: Address; receiver?: Address } = {},
): Promise<Hex> {
  return account.signTypedData(
    balanceProofTypedData({
      chainId: domain.chainId ?? chain.chainId,
      contract: domain.contract ?? chain.contract,
      receiver: domain.receiver ?? receiver.address,
      openBlock,
      balance,
    }),
  );
}

export function signCloseRequest(account: PrivateKeyAccount, openBlock: number, deadline: bigint): Promise<Hex> {
  return account.signTypedData(
    closeRequestTypedData({
      chainId: chain.chainId,
      contract: chain.contract,
      receiver: receiver.address,
      openBlock,
      deadline,
    }),
  );
}

/** A request to the Worker under test. */
export function request(path: string, init: RequestInit = {}): Promise<Response> {
  return SELF.fetch(`http://paywall.test${path}`, init);
}

/** A request paying with a fresh proof for cumulative `balance`. */
export async function pay(
  account: PrivateKeyAccount,
  openBlock: number,
  balance: bigint,
  path = "/echofix/hello",
  extra: Record<string, string> = {},
): Promise<Response> {
  const signature = await signProof(account, openBlock, balance);
  return request(path, {
    headers: { ...encodeProofHeaders({ sender: account.address, openBlock, balance, signature }), ...extra },
  });
}

/** A fresh test account (index >= 3 in anvil's list is left to tests, but we derive our own
 *  funded-by-anvil keys per test so files never share a nonce). */
export async function freshAccount(): Promise<PrivateKeyAccount> {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const key = `0x${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}` as Hex;
  const account = privateKeyToAccount(key);
  await fetch(chain.rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "anvil_setBalance",
      params: [account.address, "0x3635C9ADC5DEA00000"],
    }),
  });
  return account;
}

// --- Chain sync and settlement helpers (test/worker/sync*.test.ts, settlement*.test.ts) ---

/** The second anvil, private to the tests that rewrite history (see chain-global-setup.ts). */
export const reorgChain = (env as unknown as { TEST_REORG_CHAIN: TestChain }).TEST_REORG_CHAIN;

/** One JSON-RPC call (anvil's test methods among them); throws on a JSON-RPC error. */
export async function rpcCall<T = unknown>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

/** Real transactions and reads on one test chain, for the sync and settlement tests. */
export function onChain(c: TestChain) {
  const def = defineChain({
    id: c.chainId,
    name: "anvil",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [c.rpcUrl] } },
  });
  const client = createPublicClient({ chain: def, transport: http(c.rpcUrl) });
  const send = async (
    account: PrivateKeyAccount,
    call: {
      address: Address;
      abi: typeof microTransferChannelsAbi | typeof testTokenAbi;
      functionName: string;
      args: unknown[];
    },
  ) => {
    const w = createWalletClient({ account, chain: def, transport: http(c.rpcUrl) });
    const receipt = await client.waitForTransactionReceipt({ hash: await w.writeContract(call as never) });
    if (receipt.status !== "success") throw new Error(`${call.functionName} reverted`);
    return receipt;
  };
  const api = {
    chain: c,
    client,
    async fund(account: PrivateKeyAccount): Promise<void> {
      await rpcCall(c.rpcUrl, "anvil_setBalance", [account.address, "0x3635C9ADC5DEA00000"]);
    },
    async freshAccount(): Promise<PrivateKeyAccount> {
      const bytes = crypto.getRandomValues(new Uint8Array(32));
      const account = privateKeyToAccount(
        `0x${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}` as Hex,
      );
      await api.fund(account);
      return account;
    },
    async openChannel(
      account: PrivateKeyAccount,
      deposit: bigint,
      to: Address = receiver.address,
    ): Promise<{ sender: Address; openBlock: number }> {
      await send(account, {
        address: c.token,
        abi: testTokenAbi,
        functionName: "mint",
        args: [account.address, deposit],
      });
      await send(account, {
        address: c.token,
        abi: testTokenAbi,
        functionName: "approve",
        args: [c.contract, deposit],
      });
      const receipt = await send(account, {
        address: c.contract,
        abi: microTransferChannelsAbi,
        functionName: "createChannel",
        args: [to, deposit],
      });
      return { sender: account.address, openBlock: Number(receipt.blockNumber) };
    },
    async topUp(account: PrivateKeyAccount, openBlock: number, added: bigint): Promise<void> {
      await send(account, {
        address: c.token,
        abi: testTokenAbi,
        functionName: "mint",
        args: [account.address, added],
      });
      await send(account, { address: c.token, abi: testTokenAbi, functionName: "approve", args: [c.contract, added] });
      await send(account, {
        address: c.contract,
        abi: microTransferChannelsAbi,
        functionName: "topUp",
        args: [receiver.address, openBlock, added],
      });
    },
    /** The sender's uncooperative close claiming `balance`; returns its settle block. */
    async uncooperativeClose(
      account: PrivateKeyAccount,
      openBlock: number,
      balance: bigint,
    ): Promise<{ blockNumber: number; settleBlock: number }> {
      const receipt = await send(account, {
        address: c.contract,
        abi: microTransferChannelsAbi,
        functionName: "uncooperativeClose",
        args: [receiver.address, openBlock, balance],
      });
      const [, , settleBlock] = await api.channelInfoOrThrow(account.address, openBlock);
      return { blockNumber: Number(receipt.blockNumber), settleBlock: Number(settleBlock) };
    },
    channelInfoOrThrow(sender: Address, openBlock: number) {
      return client
        .readContract({
          address: c.contract,
          abi: microTransferChannelsAbi,
          functionName: "getChannelInfo",
          args: [sender, receiver.address, openBlock],
        })
        .then(
          ([, deposit, settleBlock, closingBalance, withdrawn]) =>
            [deposit, withdrawn, settleBlock, closingBalance] as const,
        );
    },
    /** getChannelInfo as { deposit, withdrawn, settleBlock, closingBalance }, or null once the channel is gone. */
    async channelInfo(sender: Address, openBlock: number) {
      try {
        const [deposit, withdrawn, settleBlock, closingBalance] = await api.channelInfoOrThrow(sender, openBlock);
        return { deposit, withdrawn, settleBlock, closingBalance };
      } catch {
        return null;
      }
    },
    /** The contract's events for one channel of the Worker's receiver, oldest first. */
    async channelEvents(sender: Address, openBlock: number) {
      const logs = await client.getContractEvents({
        address: c.contract,
        abi: microTransferChannelsAbi,
        fromBlock: BigInt(c.deployBlock),
        args: { sender, receiver: receiver.address, openBlock } as never,
      });
      return logs as unknown as Array<{
        eventName: string;
        blockNumber: bigint;
        args: Record<string, bigint | number | string>;
      }>;
    },
    mine: (blocks: number) => rpcCall(c.rpcUrl, "anvil_mine", [`0x${blocks.toString(16)}`]),
    snapshot: () => rpcCall<Hex>(c.rpcUrl, "evm_snapshot"),
    revert: (id: Hex) => rpcCall<boolean>(c.rpcUrl, "evm_revert", [id]),
    head: async () => Number(await client.getBlockNumber({ cacheTime: 0 })),
  };
  return api;
}

export const mainChain = onChain(chain);

/** Config overrides pointing the sync (runSync) at a test chain. */
export function syncConfigFor(c: TestChain, extra: Record<string, unknown> = {}) {
  return {
    rpcUrl: c.rpcUrl,
    contract: c.contract,
    token: c.token,
    chainId: c.chainId,
    deployBlock: BigInt(c.deployBlock),
    ...extra,
  };
}

/** Has a channel object send its D1 projection now instead of after its alarm delay, and waits
 *  until the projection queue's consumer has written the object's current version to D1. */
export async function flushProjection(sender: Address, openBlock: number): Promise<void> {
  const stub = channelStub(env as never, sender, openBlock);
  await runDurableObjectAlarm(stub);
  const version = (await stub.raw())?.version ?? 0;
  const id = channelId(sender, openBlock);
  await vi.waitFor(
    async () => {
      const [row] = await drizzle(env.DB)
        .select({ version: channels.version })
        .from(channels)
        .where(eq(channels.id, id));
      if (!row || row.version < version)
        throw new Error(`D1 holds version ${row?.version} of ${id}, not ${version} yet`);
    },
    { timeout: 20_000, interval: 25 },
  );
}

export function adminRequest(path: string, init: RequestInit = {}): Promise<Response> {
  return request(`/api/1/admin${path}`, {
    ...init,
    headers: {
      authorization: `Bearer ${adminToken}`,
      "content-type": "application/json",
      ...(init.headers as Record<string, string> | undefined),
    },
  });
}
