// The test-token faucet behind `edge402 faucet`, so a new payer on a local chain funds itself
// without hand-written JSON-RPC. It works only on a local test setup: the mint is simulated
// first (a real token has no public mint) and gas money comes only from `anvil_setBalance`.
import {
  createPublicClient,
  createWalletClient,
  http,
  parseEther,
  type Address,
  type Hex,
  type LocalAccount,
} from "viem";
import { testTokenAbi } from "../protocol/abi.js";
import { rpcChain } from "./chain.js";

/** What `edge402 faucet` mints when no amount is given: enough for many demo requests. */
export const DEFAULT_FAUCET_AMOUNT = 1_000_000n;

/** Below this much ether the payer is given gas money on a local chain. */
const GAS_FLOOR = parseEther("0.01");
const GAS_GRANT = parseEther("100");

export type FaucetOptions = {
  /** Who signs and pays the gas of the mint. */
  account: LocalAccount;
  rpcUrl: string;
  token: Address;
  /** Who gets the tokens (default: the account). */
  to?: Address;
  amount?: bigint;
  /** The chain the token must be on (e.g. the one the server names); a different RPC chain is refused. */
  chainId?: number;
  confirmations?: number;
  pollingInterval?: number;
};

export type FaucetResult = {
  chainId: number;
  token: Address;
  to: Address;
  amount: bigint;
  hash: Hex;
  /** The recipient's token balance after the mint. */
  balance: bigint;
  /** Ether given to the account for gas first (0 when it had enough). */
  gasGranted: bigint;
};

/** The faucet cannot mint here; the message says why and what to do. */
export class FaucetError extends Error {
  override name = "FaucetError";
}

export async function mintTestTokens(options: FaucetOptions): Promise<FaucetResult> {
  const to = options.to ?? options.account.address;
  const amount = options.amount ?? DEFAULT_FAUCET_AMOUNT;
  const transport = http(options.rpcUrl, { retryCount: 0 });
  const pub = createPublicClient({ transport, pollingInterval: options.pollingInterval });
  const chainId = await pub.getChainId();
  if (options.chainId !== undefined && chainId !== options.chainId) {
    throw new FaucetError(
      `the RPC URL is chain ${chainId}, but the token is on chain ${options.chainId}: point EDGE402_RPC_URL at that chain`,
    );
  }
  const code = await pub.getCode({ address: options.token });
  if (!code || code === "0x") throw new FaucetError(`there is no contract at ${options.token} on chain ${chainId}`);

  let gasGranted = 0n;
  const ether = await pub.getBalance({ address: options.account.address });
  if (ether < GAS_FLOOR) {
    try {
      await pub.request({
        method: "anvil_setBalance",
        params: [options.account.address, `0x${(ether + GAS_GRANT).toString(16)}`],
      } as never);
    } catch {
      throw new FaucetError(
        `${options.account.address} has no ether for gas on chain ${chainId}, and the node is not a local test chain that can grant it`,
      );
    }
    gasGranted = GAS_GRANT;
  }

  try {
    await pub.simulateContract({
      account: options.account,
      address: options.token,
      abi: testTokenAbi,
      functionName: "mint",
      args: [to, amount],
    });
  } catch {
    throw new FaucetError(
      `the token ${options.token} on chain ${chainId} has no public mint(address,uint256): the faucet only works with edge402's TestToken on a local test chain`,
    );
  }
  const chain = rpcChain(chainId, options.rpcUrl);
  const wallet = createWalletClient({ account: options.account, chain, transport });
  const hash = await wallet.writeContract({
    address: options.token,
    abi: testTokenAbi,
    functionName: "mint",
    args: [to, amount],
  });
  const receipt = await pub.waitForTransactionReceipt({ hash, confirmations: options.confirmations ?? 1 });
  if (receipt.status !== "success") throw new FaucetError(`the mint transaction ${hash} reverted`);
  const balance = await pub.readContract({
    address: options.token,
    abi: testTokenAbi,
    functionName: "balanceOf",
    args: [to],
  });
  return { chainId, token: options.token, to, amount, hash, balance, gasGranted };
}
