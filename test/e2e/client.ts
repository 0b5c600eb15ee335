// The end-to-end tests' client: written from PROTOCOL.md alone, not from src/protocol, so a
// mismatch between the Worker and the page shows up here instead of being shared. Header names
// are the page's literal strings; the EIP-712 domain and types are restated from section 2.
// It opens channels on the stack's anvil with real transactions (viem, the generated ABIs of
// the compiled contracts), signs with a viem local account or through anvil's own
// `eth_signTypedData_v4` (anvil's default accounts are unlocked: a standard wallet signing),
// and sends HTTP requests to the Worker.
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  type Address,
  type Hex,
  type PublicClient,
} from "viem";
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { microTransferChannelsAbi, testTokenAbi } from "../../src/protocol/abi.js";
import { rpc } from "../../scripts/anvil.js";
import type { Stack } from "../../scripts/stack.js";

/** The terms headers of PROTOCOL.md section 3. */
export const TERMS = [
  "RDN-Gateway-Path",
  "RDN-Receiver-Address",
  "RDN-Contract-Address",
  "RDN-Token-Address",
  "RDN-Chain-Id",
  "RDN-Price",
];
/** The refusal flags of a 402. */
export const FLAGS = [
  "RDN-Insufficient-Confirmations",
  "RDN-Nonexisting-Channel",
  "RDN-Invalid-Balance-Proof",
  "RDN-Invalid-Amount",
  "RDN-Insufficient-Deposit",
  "RDN-Channel-Closing",
  "RDN-Insufficient-Credit",
];

const domainType = [
  { name: "name", type: "string" },
  { name: "version", type: "string" },
  { name: "chainId", type: "uint256" },
  { name: "verifyingContract", type: "address" },
] as const;
const balanceProofType = [
  { name: "receiver", type: "address" },
  { name: "openBlock", type: "uint32" },
  { name: "balance", type: "uint192" },
] as const;
const closeRequestType = [
  { name: "receiver", type: "address" },
  { name: "openBlock", type: "uint32" },
  { name: "deadline", type: "uint64" },
] as const;

export type Domain = { chainId: number; contract: Address; receiver: Address };
export type Channel = { account: PrivateKeyAccount; sender: Address; openBlock: number; deposit: bigint };

export function balanceProof(d: Domain, openBlock: number, balance: bigint) {
  return {
    domain: { name: "MicroTransferChannels", version: "1", chainId: d.chainId, verifyingContract: d.contract },
    types: { BalanceProof: balanceProofType },
    primaryType: "BalanceProof" as const,
    message: { receiver: d.receiver, openBlock, balance },
  };
}

export function closeRequest(d: Domain, openBlock: number, deadline: bigint) {
  return {
    domain: { name: "MicroTransferChannels", version: "1", chainId: d.chainId, verifyingContract: d.contract },
    types: { CloseRequest: closeRequestType },
    primaryType: "CloseRequest" as const,
    message: { receiver: d.receiver, openBlock, deadline },
  };
}

export class E2EClient {
  readonly pub: PublicClient;
  readonly chain;
  readonly domain: Domain;

  constructor(readonly stack: Stack) {
    this.chain = defineChain({
      id: stack.chainId,
      name: "anvil",
      nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
      rpcUrls: { default: { http: [stack.rpcUrl] } },
    });
    this.pub = createPublicClient({ chain: this.chain, transport: http(stack.rpcUrl) }) as PublicClient;
    this.domain = { chainId: stack.chainId, contract: stack.contract, receiver: stack.receiver };
  }

  /** A request to the Worker. */
  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${this.stack.url}${path}`, init);
  }

  /** A new account with ether for gas (never one of anvil's shared accounts). */
  async freshAccount(): Promise<PrivateKeyAccount> {
    const account = privateKeyToAccount(generatePrivateKey());
    await rpc(this.stack.rpcUrl, "anvil_setBalance", [account.address, "0x3635C9ADC5DEA00000"]);
    return account;
  }

  private async send(
    account: PrivateKeyAccount,
    call: Parameters<ReturnType<typeof createWalletClient>["writeContract"]>[0],
  ) {
    const wallet = createWalletClient({ account, chain: this.chain, transport: http(this.stack.rpcUrl) });
    const hash = await wallet.writeContract({ ...call, account, chain: this.chain } as never);
    const receipt = await this.pub.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`transaction ${hash} reverted`);
    return receipt;
  }

  /** Mints, approves and opens a channel to the Worker's receiver (a real createChannel). */
  async openChannel(account: PrivateKeyAccount, deposit: bigint): Promise<Channel> {
    const { token, contract, receiver } = this.stack;
    await this.send(account, {
      address: token,
      abi: testTokenAbi,
      functionName: "mint",
      args: [account.address, deposit],
    } as never);
    await this.send(account, {
      address: token,
      abi: testTokenAbi,
      functionName: "approve",
      args: [contract, deposit],
    } as never);
    const receipt = await this.send(account, {
      address: contract,
      abi: microTransferChannelsAbi,
      functionName: "createChannel",
      args: [receiver, deposit],
    } as never);
    return { account, sender: account.address, openBlock: Number(receipt.blockNumber), deposit };
  }

  /** A fresh account with a fresh channel. */
  async newChannel(deposit: bigint): Promise<Channel> {
    return this.openChannel(await this.freshAccount(), deposit);
  }

  /** The sender's BalanceProof signature, from a viem local account. */
  sign(account: PrivateKeyAccount, openBlock: number, balance: bigint, domain: Partial<Domain> = {}): Promise<Hex> {
    return account.signTypedData(balanceProof({ ...this.domain, ...domain }, openBlock, balance));
  }

  /** The sender's BalanceProof signature, from anvil's `eth_signTypedData_v4` (unlocked account). */
  signViaRpc(address: Address, openBlock: number, balance: bigint): Promise<Hex> {
    const td = balanceProof(this.domain, openBlock, balance);
    const json = {
      types: { EIP712Domain: domainType, BalanceProof: balanceProofType },
      primaryType: td.primaryType,
      domain: td.domain,
      message: {
        receiver: td.message.receiver,
        openBlock: td.message.openBlock,
        balance: td.message.balance.toString(),
      },
    };
    return rpc<Hex>(this.stack.rpcUrl, "eth_signTypedData_v4", [address, JSON.stringify(json)]);
  }

  signCloseRequest(account: PrivateKeyAccount, openBlock: number, deadline: bigint): Promise<Hex> {
    return account.signTypedData(closeRequest(this.domain, openBlock, deadline));
  }

  /** The payment headers of a proof, as section 3 names them. */
  static proofHeaders(sender: Address, openBlock: number, balance: bigint, signature: Hex): Record<string, string> {
    return {
      "RDN-Sender-Address": sender,
      "RDN-Open-Block": String(openBlock),
      "RDN-Balance": balance.toString(),
      "RDN-Balance-Signature": signature,
    };
  }

  /** Pays `path` with a fresh viem-signed proof for cumulative `balance` on `ch`. */
  async pay(
    ch: Channel,
    balance: bigint,
    path = "/echofix/hello",
    extra: Record<string, string> = {},
  ): Promise<Response> {
    const signature = await this.sign(ch.account, ch.openBlock, balance);
    return this.fetch(path, {
      headers: { ...E2EClient.proofHeaders(ch.sender, ch.openBlock, balance, signature), ...extra },
    });
  }

  tokenBalance(address: Address, blockNumber?: bigint): Promise<bigint> {
    return this.pub.readContract({
      address: this.stack.token,
      abi: testTokenAbi,
      functionName: "balanceOf",
      args: [address],
      blockNumber,
    });
  }

  async channelInfo(ch: Channel, blockNumber?: bigint) {
    const [, deposit, settleBlock, closingBalance, withdrawn] = await this.pub.readContract({
      address: this.stack.contract,
      abi: microTransferChannelsAbi,
      functionName: "getChannelInfo",
      args: [ch.sender, this.stack.receiver, ch.openBlock],
      blockNumber,
    });
    return { deposit, settleBlock, closingBalance, withdrawn };
  }

  /** `cooperativeClose` sent by the sender; returns the receipt. */
  cooperativeClose(ch: Channel, balance: bigint, balanceSig: Hex, closingSig: Hex) {
    return this.send(ch.account, {
      address: this.stack.contract,
      abi: microTransferChannelsAbi,
      functionName: "cooperativeClose",
      args: [this.stack.receiver, ch.openBlock, balance, balanceSig, closingSig],
    } as never);
  }
}

/** The refusal flags a response carries (should be at most one). */
export function flagsOf(res: Response): string[] {
  return FLAGS.filter((f) => res.headers.get(f) === "1");
}

/** The JSON error body's code, or undefined. */
export async function errorCode(res: Response): Promise<string | undefined> {
  const body = (await res.json()) as { error?: { code?: string; message?: string } };
  return body.error?.code;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}
