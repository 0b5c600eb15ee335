// Chain reads for the Worker: one viem public client per configuration, the confirmed head,
// and the channel look-up (`getChannelInfo` at the confirmed block) made the first time a
// channel's object meets its channel and when a proof exceeds the deposit it knows (through
// the LookupObject's own client and budget, src/worker/lookup). Nothing else on the paid path
// talks to the chain.
import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  http,
  type Address,
  type PublicClient,
} from "viem";
import { microTransferChannelsAbi } from "../protocol/abi.js";
import type { Config } from "./config.js";

const clients = new Map<string, PublicClient>();

/** The shared public client for this config's RPC URL (batched JSON-RPC, 10 s timeout). */
export function publicClient(config: Pick<Config, "rpcUrl" | "chainId">): PublicClient {
  let client = clients.get(config.rpcUrl);
  if (!client) {
    client = createPublicClient({
      transport: http(config.rpcUrl, { timeout: 10_000, retryCount: 1, batch: { wait: 0 } }),
    }) as PublicClient;
    clients.set(config.rpcUrl, client);
  }
  return client;
}

/**
 * A chain error as one line for logs, alerts and the public sync status: viem's short message and
 * the node's details, never the request (whose URL may carry an API key).
 */
export function rpcErrorText(err: unknown): string {
  if (err instanceof BaseError)
    return err.details && err.details !== err.shortMessage ? `${err.shortMessage} ${err.details}` : err.shortMessage;
  return err instanceof Error ? err.message : String(err);
}

/** Raised when the node cannot be reached or answers with an error we cannot interpret. */
export class ChainUnavailableError extends Error {
  override name = "ChainUnavailableError";
}

export type OnChainChannel = {
  deposit: bigint;
  settleBlock: number;
  closingBalance: bigint;
  withdrawn: bigint;
};

export type ChannelLookup =
  | { status: "found"; channel: OnChainChannel; confirmedBlock: bigint }
  | { status: "unconfirmed"; confirmedBlock: bigint }
  | { status: "missing"; confirmedBlock: bigint };

/**
 * Looks a channel up at the confirmed block (head - minConfirmations + 1). A channel opened
 * after that block is reported `unconfirmed` if it exists at the head, else `missing`.
 */
export async function lookupChannel(
  config: Config,
  sender: Address,
  openBlock: number,
  client: PublicClient = publicClient(config),
): Promise<ChannelLookup> {
  try {
    const head = await client.getBlockNumber({ cacheTime: 0 });
    const confirmedBlock = head - BigInt(config.minConfirmations - 1);
    const atBlock = BigInt(openBlock) > confirmedBlock ? undefined : confirmedBlock;
    const info = await readChannelInfo(client, config, sender, openBlock, atBlock);
    if (!info) return { status: "missing", confirmedBlock };
    if (atBlock === undefined) return { status: "unconfirmed", confirmedBlock };
    return { status: "found", channel: info, confirmedBlock };
  } catch (err) {
    if (err instanceof ChainUnavailableError) throw err;
    throw new ChainUnavailableError(rpcErrorText(err));
  }
}

/** The channel's record from `getChannelInfo` at `blockNumber` (latest when undefined), or null
 *  when the contract has none there. Anything but a revert is a ChainUnavailableError. */
export async function readChannelInfo(
  client: PublicClient,
  config: Pick<Config, "contract" | "receiverAddress">,
  sender: Address,
  openBlock: number,
  blockNumber: bigint | undefined,
): Promise<OnChainChannel | null> {
  try {
    const [, deposit, settleBlock, closingBalance, withdrawn] = await client.readContract({
      address: config.contract,
      abi: microTransferChannelsAbi,
      functionName: "getChannelInfo",
      args: [sender, config.receiverAddress, openBlock],
      blockNumber,
    });
    return { deposit, settleBlock: Number(settleBlock), closingBalance, withdrawn };
  } catch (err) {
    if (err instanceof BaseError && err.walk((e) => e instanceof ContractFunctionRevertedError)) return null;
    throw new ChainUnavailableError(rpcErrorText(err));
  }
}
