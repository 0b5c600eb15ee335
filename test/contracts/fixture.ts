// test/contracts/fixture.ts owns the shared setup of the contract tests: one anvil per test
// file (free port), TestToken and MicroTransferChannels deployed from account 0 with the
// minimum challenge period, tokens minted to the senders (accounts 3 and up; account 1 is the
// receiver), viem clients for every account, EIP-712 signing helpers for BalanceProof and
// ClosingProof exactly as a standard wallet signs them (PROTOCOL.md section 2), a
// channel-opening helper, and `expectRevert`, which asserts the custom error name of a
// reverted call. `useSnapshots()` isolates tests by reverting the chain after each one.
// `deployTest()` deploys a test-only contract of contracts/test (hostile tokens, a fake channel
// manager) from its artifact in contracts/out/test.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, expect } from "vitest";
import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  decodeErrorResult,
  http,
  parseEther,
  type Address,
  type Hex,
  type PrivateKeyAccount,
  type PublicClient,
  type WalletClient,
  type Chain,
  type Transport,
  type Account,
  type Abi,
  getAddress,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { anvil as anvilChain } from "viem/chains";
import { REPO_ROOT, testArtifactPath, type TestContractName } from "../../contracts/build.js";
import { deployContracts, type Deployment } from "../../contracts/deploy.js";
import { microTransferChannelsAbi, testTokenAbi } from "../../src/protocol/abi.js";
import { ANVIL_KEYS, revert, snapshot, startAnvil, type AnvilHandle } from "../../scripts/anvil.js";

export { microTransferChannelsAbi, testTokenAbi };

export const CHALLENGE_PERIOD = 500;
export const DEPLOYER = 0;
export const RECEIVER = 1;
export const OTHER = 2;
export const SENDERS = [3, 4, 5, 6, 7, 8, 9] as const;
export const MINTED = parseEther("1000000");

export const proofTypes = {
  BalanceProof: [
    { name: "receiver", type: "address" },
    { name: "openBlock", type: "uint32" },
    { name: "balance", type: "uint192" },
  ],
  ClosingProof: [
    { name: "sender", type: "address" },
    { name: "openBlock", type: "uint32" },
    { name: "balance", type: "uint192" },
  ],
} as const;

type Wallet = WalletClient<Transport, Chain, Account>;

export interface Env {
  anvil: AnvilHandle;
  rpcUrl: string;
  deployment: Deployment;
  channels: Address;
  token: Address;
  chainId: number;
  chain: Chain;
  publicClient: PublicClient<Transport, Chain>;
  accounts: PrivateKeyAccount[];
  wallets: Wallet[];
}

/** Starts anvil and deploys in beforeAll, stops in afterAll; the returned object is filled in
 * once beforeAll has run. */
export function useChain(): Env {
  const env = {} as Env;
  beforeAll(async () => {
    env.anvil = await startAnvil();
    env.rpcUrl = env.anvil.rpcUrl;
    env.deployment = await deployContracts({
      rpcUrl: env.rpcUrl,
      privateKey: ANVIL_KEYS[DEPLOYER]!,
      challengePeriod: CHALLENGE_PERIOD,
    });
    env.channels = env.deployment.channels;
    env.token = env.deployment.token;
    env.chainId = env.deployment.chainId;
    env.chain = { ...anvilChain, rpcUrls: { default: { http: [env.rpcUrl] } } };
    const transport = http(env.rpcUrl);
    env.publicClient = createPublicClient({ chain: env.chain, transport, pollingInterval: 20 });
    env.accounts = ANVIL_KEYS.map((k) => privateKeyToAccount(k));
    env.wallets = env.accounts.map((account) =>
      createWalletClient({ account, chain: env.chain, transport, pollingInterval: 20 }),
    );
    for (const i of SENDERS) {
      await send(env, DEPLOYER, {
        address: env.token,
        abi: testTokenAbi,
        functionName: "mint",
        args: [env.accounts[i]!.address, MINTED],
      });
    }
  });
  afterAll(async () => {
    await env.anvil?.stop();
  });
  return env;
}

/** The artifact `{abi, bytecode}` of a test-only contract (contracts/test/<name>.sol). */
export function readTestArtifact(name: TestContractName): { abi: Abi; bytecode: Hex } {
  return JSON.parse(readFileSync(join(REPO_ROOT, testArtifactPath(name)), "utf8")) as { abi: Abi; bytecode: Hex };
}

/** Deploys a test-only contract from account `from` (default the deployer); returns its address. */
export async function deployTest(
  env: Pick<Env, "wallets" | "publicClient">,
  name: TestContractName,
  args: readonly unknown[],
  from: number = DEPLOYER,
): Promise<Address> {
  const { abi, bytecode } = readTestArtifact(name);
  const hash = await env.wallets[from]!.deployContract({ abi, bytecode, args });
  const receipt = await env.publicClient.waitForTransactionReceipt({ hash });
  expect(receipt.status).toBe("success");
  return getAddress(receipt.contractAddress!);
}

/** Takes a snapshot before each test and reverts to it afterwards. */
export function useSnapshots(env: Env): void {
  let id: Hex | undefined;
  beforeEach(async () => {
    id = await snapshot(env.rpcUrl);
  });
  afterEach(async () => {
    if (id) await revert(env.rpcUrl, id);
    id = undefined;
  });
}

export function addr(env: Env, i: number): Address {
  return env.accounts[i]!.address;
}

/** Sends a contract call from account `i`, waits for it, asserts success, returns the receipt. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function send(env: Env, i: number, call: any) {
  const hash = await env.wallets[i]!.writeContract(call);
  const receipt = await env.publicClient.waitForTransactionReceipt({ hash });
  expect(receipt.status).toBe("success");
  return receipt;
}

export function domain(env: Env) {
  return {
    name: "MicroTransferChannels",
    version: "1",
    chainId: env.chainId,
    verifyingContract: env.channels,
  } as const;
}

/** The sender's BalanceProof signature, made the way any EIP-712 wallet makes it. */
export function signBalance(env: Env, senderIdx: number, receiver: Address, openBlock: number, balance: bigint) {
  return env.accounts[senderIdx]!.signTypedData({
    domain: domain(env),
    types: proofTypes,
    primaryType: "BalanceProof",
    message: { receiver, openBlock, balance },
  });
}

/** The receiver's ClosingProof signature. */
export function signClosing(env: Env, receiverIdx: number, sender: Address, openBlock: number, balance: bigint) {
  return env.accounts[receiverIdx]!.signTypedData({
    domain: domain(env),
    types: proofTypes,
    primaryType: "ClosingProof",
    message: { sender, openBlock, balance },
  });
}

export async function tokenBalance(env: Env, who: Address): Promise<bigint> {
  return env.publicClient.readContract({
    address: env.token,
    abi: testTokenAbi,
    functionName: "balanceOf",
    args: [who],
  });
}

/** Approves and opens a channel from `senderIdx` to account 1 (or `receiverIdx`); returns its
 * open block and the creation receipt. */
export async function openChannel(env: Env, senderIdx: number, deposit: bigint, receiverIdx = RECEIVER) {
  await send(env, senderIdx, {
    address: env.token,
    abi: testTokenAbi,
    functionName: "approve",
    args: [env.channels, deposit],
  });
  const receipt = await send(env, senderIdx, {
    address: env.channels,
    abi: microTransferChannelsAbi,
    functionName: "createChannel",
    args: [addr(env, receiverIdx), deposit],
  });
  return { openBlock: Number(receipt.blockNumber), receipt };
}

export async function channelInfo(env: Env, senderIdx: number, openBlock: number, receiverIdx = RECEIVER) {
  const [key, deposit, settleBlock, closingBalance, withdrawn] = await env.publicClient.readContract({
    address: env.channels,
    abi: microTransferChannelsAbi,
    functionName: "getChannelInfo",
    args: [addr(env, senderIdx), addr(env, receiverIdx), openBlock],
  });
  return { key, deposit, settleBlock, closingBalance, withdrawn };
}

/** The custom error name a failed call or deployment reverted with, or undefined. */
export function revertErrorName(err: unknown): string | undefined {
  if (!(err instanceof BaseError)) return undefined;
  const reverted = err.walk((e) => e instanceof ContractFunctionRevertedError);
  if (reverted instanceof ContractFunctionRevertedError && reverted.data?.errorName) {
    return reverted.data.errorName;
  }
  // Deployments and raw calls: decode the revert data against both ABIs.
  const withData = err.walk((e) => typeof (e as { data?: unknown }).data === "string");
  const data = (withData as { data?: unknown } | null)?.data;
  if (typeof data === "string" && data.startsWith("0x") && data.length >= 10) {
    try {
      return decodeErrorResult({ abi: [...microTransferChannelsAbi, ...testTokenAbi], data: data as Hex }).errorName;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Asserts that `action` rejects with the custom error `errorName`. */
export async function expectRevert(action: () => Promise<unknown>, errorName: string): Promise<void> {
  let caught: unknown;
  try {
    await action();
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected a revert with ${errorName}`).toBeDefined();
  const name = revertErrorName(caught);
  expect(name, `revert reason of: ${(caught as Error).message}`).toBe(errorName);
}
