// The chain, read and written through the wallet: the account and the chain it is on (with a
// switch request when it is on another), token balance, permit nonce, the channel contract's
// token by `eth_call`, the sender's channels from `ChannelCreated` logs,
// and a transaction sent with `eth_sendTransaction` then waited for until it has the
// confirmations the Worker requires. Only logs the channel contract itself emitted count.
import {
  decodeFunctionResult,
  encodeFunctionData,
  getAddress,
  hexToBigInt,
  numberToHex,
  pad,
  parseEventLogs,
  toEventSelector,
  type Address,
  type Hex,
  type Log,
} from "viem";
import { microTransferChannelsAbi, testTokenAbi } from "../protocol/abi.js";
import { PageError } from "./errors.js";
import { walletRequest, type Wallet } from "./wallet.js";

const POLL_MS = 500;
/** Polls in a row in which the node does not know a sent transaction before it counts as dropped. */
const DROPPED_AFTER_POLLS = 20;

/** The account the wallet gives this page: with a prompt (`ask`), else only one already allowed. */
export async function account(wallet: Wallet, ask: boolean): Promise<Address | null> {
  const method = ask ? "eth_requestAccounts" : "eth_accounts";
  const accounts = await walletRequest<string[]>(wallet, method, [], "connecting your wallet");
  return accounts[0] ? getAddress(accounts[0]) : null;
}

/** Makes sure the wallet is on `chainId`, asking it to switch when `ask` (else refusing). */
export async function ensureChain(wallet: Wallet, chainId: number, ask: boolean): Promise<void> {
  const current = async () => Number(await walletRequest<string>(wallet, "eth_chainId", [], "reading the chain"));
  let on = await current();
  if (on === chainId) return;
  const wrong = () =>
    new PageError(
      "wrong_chain",
      `Your wallet is on chain ${on}; this site is paid on chain ${chainId}. Switch your wallet to chain ${chainId} and try again.`,
    );
  if (!ask) throw wrong();
  try {
    await wallet.provider.request({
      method: "wallet_switchEthereumChain",
      params: [{ chainId: numberToHex(chainId) }],
    });
  } catch {
    throw wrong();
  }
  on = await current();
  if (on !== chainId) throw wrong();
}

async function call(wallet: Wallet, to: Address, data: Hex): Promise<Hex> {
  return walletRequest<Hex>(wallet, "eth_call", [{ to, data }, "latest"], "reading the chain");
}

export async function tokenBalance(wallet: Wallet, token: Address, owner: Address): Promise<bigint> {
  return hexToBigInt(
    await call(wallet, token, encodeFunctionData({ abi: testTokenAbi, functionName: "balanceOf", args: [owner] })),
  );
}

export async function permitNonce(wallet: Wallet, token: Address, owner: Address): Promise<bigint> {
  return hexToBigInt(
    await call(wallet, token, encodeFunctionData({ abi: testTokenAbi, functionName: "nonces", args: [owner] })),
  );
}

/** The token the channel contract holds. */
export async function contractToken(wallet: Wallet, contract: Address): Promise<Address> {
  const data = await call(
    wallet,
    contract,
    encodeFunctionData({ abi: microTransferChannelsAbi, functionName: "token" }),
  );
  return decodeFunctionResult({ abi: microTransferChannelsAbi, functionName: "token", data });
}

const CHANNEL_CREATED = toEventSelector("ChannelCreated(address,address,uint32,uint192)");

/** The open blocks of every channel `sender` opened to `receiver`, newest first (empty if the
 *  wallet's node will not answer the log query). */
export async function createdChannels(
  wallet: Wallet,
  ch: { contract: Address; sender: Address; receiver: Address },
): Promise<number[]> {
  let logs: Log[];
  try {
    logs = await walletRequest<Log[]>(
      wallet,
      "eth_getLogs",
      [
        {
          address: ch.contract,
          fromBlock: "0x0",
          toBlock: "latest",
          topics: [CHANNEL_CREATED, pad(ch.sender), pad(ch.receiver)],
        },
      ],
      "looking for your channels",
    );
  } catch {
    return [];
  }
  return createdIn(logs, ch).reverse();
}

/** The open blocks of the ChannelCreated events that `ch.contract` emitted for this sender and receiver. */
function createdIn(logs: Log[], ch: { contract: Address; sender: Address; receiver: Address }): number[] {
  const own = logs.filter((l) => l.address.toLowerCase() === ch.contract.toLowerCase());
  return parseEventLogs({ abi: microTransferChannelsAbi, logs: own, eventName: "ChannelCreated", strict: true })
    .filter(
      (l) =>
        l.args.sender.toLowerCase() === ch.sender.toLowerCase() &&
        l.args.receiver.toLowerCase() === ch.receiver.toLowerCase(),
    )
    .map((l) => Number(l.args.openBlock));
}

type Receipt = { status: Hex; blockNumber: Hex; logs: Log[]; transactionHash: Hex };

/** Sends a transaction from `from` and returns its hash (the wallet asks the person). A wallet
 *  that will not send it (it would revert, no gas) is "transaction_failed"; a refusal "rejected". */
export async function sendTransaction(wallet: Wallet, from: Address, to: Address, data: Hex, what: string) {
  try {
    return await walletRequest<Hex>(wallet, "eth_sendTransaction", [{ from, to, data }], what);
  } catch (err) {
    if (err instanceof PageError && err.kind === "failed")
      throw new PageError("transaction_failed", `The transaction (${what}) failed: ${err.cause}. Nothing was paid.`);
    throw err;
  }
}

/** Waits until `hash` is mined with `confirmations` blocks; a reverted transaction is "transaction_failed". */
export async function waitForTransaction(
  wallet: Wallet,
  hash: Hex,
  confirmations: number,
  what: string,
  onWait: (text: string) => void,
): Promise<Receipt> {
  let receipt: Receipt | null = null;
  for (let unknown = 0; ; ) {
    receipt = await walletRequest<Receipt | null>(wallet, "eth_getTransactionReceipt", [hash], "reading the chain");
    if (receipt) break;
    // A transaction the node no longer knows (cancelled or replaced in the wallet) never lands.
    const tx = await walletRequest<unknown>(wallet, "eth_getTransactionByHash", [hash], "reading the chain");
    unknown = tx ? 0 : unknown + 1;
    if (unknown >= DROPPED_AFTER_POLLS)
      throw new PageError("transaction_failed", `The transaction (${what}, ${hash}) was dropped; nothing was paid.`);
    onWait(`Waiting for ${what} (${hash}) to be mined…`);
    await sleep(POLL_MS);
  }
  if (hexToBigInt(receipt.status) !== 1n)
    throw new PageError("transaction_failed", `The transaction (${what}, ${hash}) failed on chain; nothing was paid.`);
  const mined = hexToBigInt(receipt.blockNumber);
  for (;;) {
    const head = hexToBigInt(await walletRequest<Hex>(wallet, "eth_blockNumber", [], "reading the chain"));
    const have = head - mined + 1n;
    if (have >= BigInt(confirmations)) return receipt;
    onWait(`Waiting for confirmations of ${what}: ${have} of ${confirmations}…`);
    await sleep(POLL_MS);
  }
}

/** The open block of the channel a confirmed `createChannel*` receipt created. */
export function openedIn(receipt: Receipt, ch: { contract: Address; sender: Address; receiver: Address }): number {
  const [openBlock] = createdIn(receipt.logs, ch);
  if (openBlock === undefined)
    throw new PageError("transaction_failed", `The transaction ${receipt.transactionHash} opened no channel.`);
  return openBlock;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
