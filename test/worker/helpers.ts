// Helpers for the worker tests, running inside workerd: the anvil chain the global setup
// started, channels opened on it with real transactions, proofs signed with viem accounts
// (a standard EIP-712 signer), and requests sent to the Worker under test.
import { env, SELF } from "cloudflare:test";
import { createPublicClient, createWalletClient, defineChain, http, type Address, type Hex } from "viem";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { microTransferChannelsAbi, testTokenAbi } from "../../src/protocol/abi.js";
import { encodeProofHeaders } from "../../src/protocol/codec.js";
import { balanceProofTypedData, closeRequestTypedData } from "../../src/protocol/eip712.js";

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
export async function openChannel(account: PrivateKeyAccount, deposit: bigint): Promise<{ sender: Address; openBlock: number }> {
  const w = wallet(account);
  const tx = { chain: anvil, account } as const;
  await publicClient.waitForTransactionReceipt({
    hash: await w.writeContract({ ...tx, address: chain.token, abi: testTokenAbi, functionName: "mint", args: [account.address, deposit] }),
  });
  await publicClient.waitForTransactionReceipt({
    hash: await w.writeContract({ ...tx, address: chain.token, abi: testTokenAbi, functionName: "approve", args: [chain.contract, deposit] }),
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
    hash: await w.writeContract({ ...tx, address: chain.token, abi: testTokenAbi, functionName: "mint", args: [account.address, added] }),
  });
  await publicClient.waitForTransactionReceipt({
    hash: await w.writeContract({ ...tx, address: chain.token, abi: testTokenAbi, functionName: "approve", args: [chain.contract, added] }),
  });
  await publicClient.waitForTransactionReceipt({
    hash: await w.writeContract({ ...tx, address: chain.contract, abi: microTransferChannelsAbi, functionName: "topUp", args: [receiver.address, openBlock, added] }),
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
    closeRequestTypedData({ chainId: chain.chainId, contract: chain.contract, receiver: receiver.address, openBlock, deadline }),
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
  return request(path, { headers: { ...encodeProofHeaders({ sender: account.address, openBlock, balance, signature }), ...extra } });
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
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "anvil_setBalance", params: [account.address, "0x3635C9ADC5DEA00000"] }),
  });
  return account;
}
