// Everything the client does on chain, in one place, because every chain answer is hostile
// until checked: no deposit goes to a contract trust.ts has not accepted, only events the
// channel contract itself emitted count (a hostile token or node can forge their shape), and
// every failure becomes one `chain_error`.
import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  defineChain,
  domainSeparator,
  getAddress,
  http,
  parseEventLogs,
  parseSignature as splitSignature,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type Log,
  type PublicClient,
  type TransactionReceipt,
  type WalletClient,
} from "viem";
import { microTransferChannelsAbi, testTokenAbi } from "../protocol/abi.js";
import { permitTypes } from "../protocol/eip712.js";
import type { TypedDataSigner } from "../protocol/sign.js";
import { ClientErrorCodes, Edge402Error } from "./errors.js";
import type { ChainAction, ProgressEvent } from "./hooks.js";
import { Mutex } from "./mutex.js";
import { ContractTrust, type TrustOptions } from "./trust.js";

export type ChainOptions = TrustOptions & {
  /** The payer: a local account (`privateKeyToAccount`) or any viem account; needs `rpcUrl` to send. */
  account?: Account;
  /** Or a wallet client that carries its account (e.g. `custom(window.ethereum)`). */
  walletClient?: WalletClient;
  /** JSON-RPC URL for reads (and for sending, with `account`). */
  rpcUrl?: string;
  /** Or a public client for reads. */
  publicClient?: PublicClient;
  /** Confirmations to wait for after each transaction (default 1). */
  confirmations?: number;
  /** How often to poll the node, in ms (default 1000). */
  pollingInterval?: number;
  /** Use EIP-2612 permit to open channels when the token supports it (default true). */
  permit?: boolean;
  /** First block of the `ChannelCreated` scan that rebuilds a lost store (default 0). */
  fromBlock?: bigint;
  /** Blocks per `eth_getLogs` call of that scan (default 50000). */
  logChunkSize?: bigint;
  onProgress?: (event: ProgressEvent) => void;
};

export type OnChainChannel = { deposit: bigint; settleBlock: number; closingBalance: bigint; withdrawn: bigint };

function errorText(err: unknown): string {
  if (err instanceof BaseError) return err.shortMessage;
  return err instanceof Error ? err.message : String(err);
}

/** A chain viem can send transactions on: the one behind `rpcUrl`, with chain id `id`. */
export function rpcChain(id: number, rpcUrl: string): Chain {
  return defineChain({
    id,
    name: `chain-${id}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
}

function chainError(what: string, err: unknown): Edge402Error {
  if (err instanceof Edge402Error) return err;
  return new Edge402Error(ClientErrorCodes.chainError, `${what}: ${errorText(err)}`, { cause: err });
}

function isRevert(err: unknown): boolean {
  return err instanceof BaseError && err.walk((e) => e instanceof ContractFunctionRevertedError) !== null;
}

type ChannelEventName = "ChannelCreated" | "ChannelToppedUp" | "ChannelCloseRequested" | "ChannelSettled";

/** The logs that `contract` itself emitted: the only ones that can speak for it. */
function emittedBy<T extends Pick<Log, "address">>(logs: readonly T[], contract: Address): T[] {
  return logs.filter((l) => l.address.toLowerCase() === contract.toLowerCase());
}

/** A receipt's `eventName` events of one channel, emitted by its contract. */
function channelEvents<E extends ChannelEventName>(
  receipt: TransactionReceipt,
  eventName: E,
  ch: { contract: Address; sender: Address; receiver: Address; openBlock?: number },
) {
  return parseEventLogs({
    abi: microTransferChannelsAbi,
    logs: emittedBy(receipt.logs, ch.contract),
    eventName,
    strict: true,
  }).filter(
    (l) =>
      l.args.sender.toLowerCase() === ch.sender.toLowerCase() &&
      l.args.receiver.toLowerCase() === ch.receiver.toLowerCase() &&
      (ch.openBlock === undefined || Number(l.args.openBlock) === ch.openBlock),
  );
}

/**
 * The client's chain reads and transactions, for a local account or a wallet client (an EIP-1193
 * provider such as a browser wallet). Transactions go one at a time (nonces), are waited for with
 * the configured confirmations and reported as progress events. A channel opens in one
 * `createChannelWithPermit` transaction when the token's EIP-2612 domain checks out, else with
 * approve and `createChannel`.
 */
export class ChainAccess {
  readonly publicClient: PublicClient;
  readonly address: Address;
  private readonly account: Account;
  private readonly rpcUrl: string | undefined;
  private readonly givenWallet: WalletClient | undefined;
  private wallet: Promise<WalletClient> | undefined;
  private chainIdValue: Promise<number> | undefined;
  private readonly txLock = new Mutex();
  private readonly permitDomains = new Map<string, Promise<{ name: string; version: string } | null>>();
  private readonly trust: ContractTrust;
  readonly confirmations: number;
  private readonly pollingInterval: number;
  private readonly usePermit: boolean;
  private readonly fromBlock: bigint;
  private readonly logChunkSize: bigint;
  private readonly onProgress: ((event: ProgressEvent) => void) | undefined;

  constructor(opts: ChainOptions) {
    const account = opts.walletClient?.account ?? opts.account;
    if (!account) {
      throw new Edge402Error(
        ClientErrorCodes.invalidArgument,
        "A signer is required: pass `account`, or a `walletClient` with an account.",
      );
    }
    if (!opts.publicClient && !opts.rpcUrl) {
      throw new Edge402Error(ClientErrorCodes.invalidArgument, "A chain is required: pass `rpcUrl` or `publicClient`.");
    }
    if (!opts.walletClient && !opts.rpcUrl) {
      throw new Edge402Error(
        ClientErrorCodes.invalidArgument,
        "With an `account`, `rpcUrl` is required to send transactions.",
      );
    }
    this.account = account;
    this.address = getAddress(account.address);
    this.rpcUrl = opts.rpcUrl;
    this.givenWallet = opts.walletClient;
    this.pollingInterval = opts.pollingInterval ?? 1000;
    this.publicClient =
      opts.publicClient ??
      (createPublicClient({
        transport: http(opts.rpcUrl, { retryCount: 2 }),
        pollingInterval: this.pollingInterval,
      }) as PublicClient);
    const confirmations = opts.confirmations ?? 1;
    if (!Number.isInteger(confirmations) || confirmations < 1) {
      throw new Edge402Error(ClientErrorCodes.invalidArgument, "confirmations must be an integer of at least 1");
    }
    this.confirmations = confirmations;
    this.usePermit = opts.permit ?? true;
    this.fromBlock = opts.fromBlock ?? 0n;
    this.logChunkSize = opts.logChunkSize ?? 50_000n;
    this.onProgress = opts.onProgress;
    this.trust = new ContractTrust(opts, {
      chainId: () => this.chainId(),
      code: (contract) =>
        this.publicClient
          .getCode({ address: contract })
          .catch((err: unknown) => Promise.reject(chainError(`Cannot read the code of ${contract}`, err))),
      token: (contract) =>
        this.publicClient
          .readContract({ address: contract, abi: microTransferChannelsAbi, functionName: "token" })
          .then((t) => getAddress(t))
          .catch((err: unknown) => Promise.reject(chainError(`Cannot read the token of ${contract}`, err))),
    });
  }

  /** The chain id of the RPC node (read once). */
  chainId(): Promise<number> {
    this.chainIdValue ??= this.publicClient.getChainId().catch((err: unknown) => {
      this.chainIdValue = undefined;
      throw chainError("Cannot reach the chain", err);
    });
    return this.chainIdValue;
  }

  /** Signs the protocol's typed data (and permits) with the configured signer. */
  get signer(): TypedDataSigner {
    const sign = async (typedData: object): Promise<Hex> => {
      const wallet = await this.walletClient();
      return wallet.signTypedData({ ...typedData, account: this.account } as Parameters<
        WalletClient["signTypedData"]
      >[0]);
    };
    return { signTypedData: sign as unknown as TypedDataSigner["signTypedData"] };
  }

  private walletClient(): Promise<WalletClient> {
    this.wallet ??= (async () => {
      if (this.givenWallet) return this.givenWallet;
      const id = await this.chainId();
      const chain = rpcChain(id, this.rpcUrl!);
      return createWalletClient({ account: this.account, chain, transport: http(this.rpcUrl, { retryCount: 0 }) });
    })();
    return this.wallet;
  }

  async blockNumber(): Promise<bigint> {
    try {
      return await this.publicClient.getBlockNumber({ cacheTime: 0 });
    } catch (err) {
      throw chainError("Cannot read the block number", err);
    }
  }

  /** The token a trusted channel manager holds (trust judged once per contract: its code, or
   * the allowlist); else `untrusted_contract`. */
  async contractToken(contract: Address): Promise<Address> {
    return (await this.trust.check(contract)).token;
  }

  /** Refuses a deposit into an untrusted contract, or of a token other than the contract's. */
  private async assertDepositTarget(contract: Address, token: Address): Promise<void> {
    const trusted = await this.trust.check(contract);
    if (trusted.token.toLowerCase() !== token.toLowerCase()) {
      throw new Edge402Error(
        ClientErrorCodes.termsMismatch,
        `The contract ${contract} holds token ${trusted.token}, not ${token}.`,
      );
    }
  }

  /** A channel's state on chain, or null when it does not exist (never opened, or settled). */
  async channelInfo(
    contract: Address,
    receiver: Address,
    openBlock: number,
    sender: Address = this.address,
  ): Promise<OnChainChannel | null> {
    try {
      const [, deposit, settleBlock, closingBalance, withdrawn] = await this.publicClient.readContract({
        address: contract,
        abi: microTransferChannelsAbi,
        functionName: "getChannelInfo",
        args: [sender, receiver, openBlock],
      });
      return { deposit, settleBlock: Number(settleBlock), closingBalance, withdrawn };
    } catch (err) {
      if (isRevert(err)) return null;
      throw chainError("Cannot read the channel", err);
    }
  }

  /** Every channel this sender ever opened to `receiver` on `contract` (from `ChannelCreated` logs). */
  async createdChannels(contract: Address, receiver: Address): Promise<Array<{ openBlock: number; deposit: bigint }>> {
    try {
      const head = await this.blockNumber();
      const found: Array<{ openBlock: number; deposit: bigint }> = [];
      for (let from = this.fromBlock; from <= head; from += this.logChunkSize) {
        const to = from + this.logChunkSize - 1n < head ? from + this.logChunkSize - 1n : head;
        this.onProgress?.({ type: "scan", receiver, fromBlock: from, toBlock: to });
        const logs = await this.publicClient.getContractEvents({
          address: contract,
          abi: microTransferChannelsAbi,
          eventName: "ChannelCreated",
          args: { sender: this.address, receiver },
          fromBlock: from,
          toBlock: to,
          strict: true,
        });
        for (const log of emittedBy(logs, contract))
          found.push({ openBlock: Number(log.args.openBlock), deposit: log.args.deposit });
      }
      return found;
    } catch (err) {
      throw chainError("Cannot scan the chain for channels", err);
    }
  }

  async tokenBalance(token: Address): Promise<bigint> {
    try {
      return await this.publicClient.readContract({
        address: token,
        abi: testTokenAbi,
        functionName: "balanceOf",
        args: [this.address],
      });
    } catch (err) {
      throw chainError("Cannot read the token balance", err);
    }
  }

  private async assertFunds(token: Address, amount: bigint): Promise<void> {
    const balance = await this.tokenBalance(token);
    if (balance < amount) {
      throw new Edge402Error(
        ClientErrorCodes.insufficientFunds,
        `${this.address} holds ${balance} of token ${token}, less than the ${amount} to deposit.`,
        { details: { balance: balance.toString(), needed: amount.toString(), token } },
      );
    }
  }

  /** The EIP-712 domain of the token's permit, or null when it has none (then approve is used). */
  private permitDomain(token: Address): Promise<{ name: string; version: string } | null> {
    const key = token.toLowerCase();
    let domain = this.permitDomains.get(key);
    if (!domain) {
      domain = (async () => {
        const chainId = await this.chainId();
        try {
          const [separator] = await Promise.all([
            this.publicClient.readContract({ address: token, abi: testTokenAbi, functionName: "DOMAIN_SEPARATOR" }),
            this.publicClient.readContract({
              address: token,
              abi: testTokenAbi,
              functionName: "nonces",
              args: [this.address],
            }),
          ]);
          let candidate: { name: string; version: string };
          try {
            const [, name, version] = await this.publicClient.readContract({
              address: token,
              abi: testTokenAbi,
              functionName: "eip712Domain",
            });
            candidate = { name, version };
          } catch {
            const name = await this.publicClient.readContract({
              address: token,
              abi: testTokenAbi,
              functionName: "name",
            });
            candidate = { name, version: "1" };
          }
          // Only a domain that reproduces the token's own separator is trusted.
          const ours = domainSeparator({ domain: { ...candidate, chainId, verifyingContract: token } });
          return ours.toLowerCase() === separator.toLowerCase() ? candidate : null;
        } catch {
          return null;
        }
      })();
      this.permitDomains.set(key, domain);
    }
    return domain;
  }

  /** Sends one contract call (one at a time per client), waits for it, and checks its status. */
  private async send(
    action: ChainAction,
    request: { address: Address; abi: unknown; functionName: string; args: readonly unknown[] },
  ): Promise<TransactionReceipt> {
    const wallet = await this.walletClient();
    let hash: Hex;
    try {
      hash = await this.txLock.run(() =>
        wallet.writeContract({ ...request, account: this.account, chain: wallet.chain ?? null } as Parameters<
          WalletClient["writeContract"]
        >[0]),
      );
    } catch (err) {
      throw chainError(`${action} failed`, err);
    }
    this.onProgress?.({ type: "transaction", action, hash });
    this.onProgress?.({ type: "confirming", action, hash, confirmations: this.confirmations });
    let receipt: TransactionReceipt;
    try {
      receipt = await this.publicClient.waitForTransactionReceipt({
        hash,
        confirmations: this.confirmations,
        pollingInterval: this.pollingInterval,
        timeout: 600_000,
      });
    } catch (err) {
      throw chainError(`${action} (${hash}) was not confirmed`, err);
    }
    if (receipt.status !== "success") {
      throw new Edge402Error(ClientErrorCodes.chainError, `${action} (${hash}) reverted`, { details: { hash } });
    }
    this.onProgress?.({ type: "confirmed", action, hash, blockNumber: receipt.blockNumber });
    return receipt;
  }

  private async ensureAllowance(token: Address, spender: Address, amount: bigint): Promise<void> {
    let allowance: bigint;
    try {
      allowance = await this.publicClient.readContract({
        address: token,
        abi: testTokenAbi,
        functionName: "allowance",
        args: [this.address, spender],
      });
    } catch (err) {
      throw chainError("Cannot read the allowance", err);
    }
    if (allowance >= amount) return;
    await this.send("approve", { address: token, abi: testTokenAbi, functionName: "approve", args: [spender, amount] });
  }

  /** Opens a channel to `receiver` with `deposit`; returns its open block. */
  async openChannel(p: {
    contract: Address;
    token: Address;
    receiver: Address;
    deposit: bigint;
  }): Promise<{ openBlock: number; deposit: bigint; hash: Hex; permit: boolean }> {
    await this.assertDepositTarget(p.contract, p.token);
    await this.assertFunds(p.token, p.deposit);
    const domain = this.usePermit ? await this.permitDomain(p.token) : null;
    let receipt: TransactionReceipt;
    if (domain) {
      const chainId = await this.chainId();
      const nonce = await this.publicClient.readContract({
        address: p.token,
        abi: testTokenAbi,
        functionName: "nonces",
        args: [this.address],
      });
      const deadline = BigInt(Math.floor(Date.now() / 1000) + 3600);
      const wallet = await this.walletClient();
      const signature = await wallet.signTypedData({
        account: this.account,
        domain: { ...domain, chainId, verifyingContract: p.token },
        types: permitTypes,
        primaryType: "Permit",
        message: { owner: this.address, spender: p.contract, value: p.deposit, nonce, deadline },
      });
      const { r, s, v, yParity } = splitSignature(signature);
      const vNumber = v !== undefined ? Number(v) : 27 + yParity;
      receipt = await this.send("open", {
        address: p.contract,
        abi: microTransferChannelsAbi,
        functionName: "createChannelWithPermit",
        args: [p.receiver, p.deposit, deadline, vNumber, r, s],
      });
    } else {
      await this.ensureAllowance(p.token, p.contract, p.deposit);
      receipt = await this.send("open", {
        address: p.contract,
        abi: microTransferChannelsAbi,
        functionName: "createChannel",
        args: [p.receiver, p.deposit],
      });
    }
    const created = channelEvents(receipt, "ChannelCreated", {
      contract: p.contract,
      sender: this.address,
      receiver: p.receiver,
    }).find((l) => Number(l.args.openBlock) === Number(receipt.blockNumber));
    if (!created)
      throw new Edge402Error(
        ClientErrorCodes.chainError,
        `The channel transaction ${receipt.transactionHash} created no channel.`,
      );
    return {
      openBlock: Number(created.args.openBlock),
      deposit: created.args.deposit,
      hash: receipt.transactionHash,
      permit: domain !== null,
    };
  }

  /** Adds `added` to an open channel's deposit (approving it first when needed). */
  async topUp(p: {
    contract: Address;
    token: Address;
    receiver: Address;
    openBlock: number;
    added: bigint;
  }): Promise<{ hash: Hex }> {
    await this.assertDepositTarget(p.contract, p.token);
    await this.assertFunds(p.token, p.added);
    await this.ensureAllowance(p.token, p.contract, p.added);
    const receipt = await this.send("topUp", {
      address: p.contract,
      abi: microTransferChannelsAbi,
      functionName: "topUp",
      args: [p.receiver, p.openBlock, p.added],
    });
    const ch = { contract: p.contract, sender: this.address, receiver: p.receiver, openBlock: p.openBlock };
    if (!channelEvents(receipt, "ChannelToppedUp", ch).some((l) => l.args.added === p.added)) {
      throw new Edge402Error(
        ClientErrorCodes.chainError,
        `The top-up transaction ${receipt.transactionHash} added nothing to channel ${p.openBlock}.`,
      );
    }
    return { hash: receipt.transactionHash };
  }

  /** Settles at once with our balance proof and the receiver's closing proof. */
  async cooperativeClose(p: {
    contract: Address;
    receiver: Address;
    openBlock: number;
    balance: bigint;
    balanceSignature: Hex;
    closingSignature: Hex;
  }): Promise<{ hash: Hex; receiverTokens: bigint }> {
    const receipt = await this.send("cooperativeClose", {
      address: p.contract,
      abi: microTransferChannelsAbi,
      functionName: "cooperativeClose",
      args: [p.receiver, p.openBlock, p.balance, p.balanceSignature, p.closingSignature],
    });
    const [settled] = channelEvents(receipt, "ChannelSettled", { ...p, sender: this.address });
    return { hash: receipt.transactionHash, receiverTokens: settled?.args.receiverTokens ?? 0n };
  }

  /** Starts the challenge at `balance`; returns the block after which `settle` may run. */
  async uncooperativeClose(p: {
    contract: Address;
    receiver: Address;
    openBlock: number;
    balance: bigint;
  }): Promise<{ hash: Hex; settleBlock: number }> {
    const receipt = await this.send("uncooperativeClose", {
      address: p.contract,
      abi: microTransferChannelsAbi,
      functionName: "uncooperativeClose",
      args: [p.receiver, p.openBlock, p.balance],
    });
    const [requested] = channelEvents(receipt, "ChannelCloseRequested", { ...p, sender: this.address });
    if (!requested)
      throw new Edge402Error(
        ClientErrorCodes.chainError,
        `The close transaction ${receipt.transactionHash} requested no close.`,
      );
    return { hash: receipt.transactionHash, settleBlock: Number(requested.args.settleBlock) };
  }

  /** Settles a closing channel once its challenge period is over. */
  async settle(p: {
    contract: Address;
    receiver: Address;
    openBlock: number;
  }): Promise<{ hash: Hex; balance: bigint }> {
    const receipt = await this.send("settle", {
      address: p.contract,
      abi: microTransferChannelsAbi,
      functionName: "settle",
      args: [this.address, p.receiver, p.openBlock],
    });
    const [settled] = channelEvents(receipt, "ChannelSettled", { ...p, sender: this.address });
    return { hash: receipt.transactionHash, balance: settled?.args.balance ?? 0n };
  }
}
