// Reads one chunk of the chain for the sync: this receiver's channel events and the hash of the
// chunk's last block (the new cursor), decoded in chain order. A reorg between those two reads
// would leave another fork's events under a cursor that looks fine, so the chunk is refused
// (ChainMovedError) unless an earlier read of that block's hash agrees.
import { decodeEventLog, numberToHex, pad, toEventSelector, type Address, type Hex, type PublicClient } from "viem";
import { microTransferChannelsAbi } from "../../protocol/abi.js";
import { CHAIN_EVENT_NAMES, eventId, type ChainEvent, type ChainEventName } from "../channel/events.js";
import type { Config } from "../config.js";
import type { chainEvents } from "../db/schema.js";

type RpcLog = {
  address: Address;
  blockHash: Hex;
  blockNumber: Hex;
  logIndex: Hex;
  transactionHash: Hex;
  data: Hex;
  topics: Hex[];
  removed?: boolean;
};

/** A row of D1 `chain_events`. */
export type ChainEventRow = typeof chainEvents.$inferInsert;

/** `nextHash`: the hash of the block `nextTo` asked for, read after this chunk's logs. */
export type Chunk = { events: ChainEvent[]; rows: ChainEventRow[]; toHash: Hex; nextHash?: Hex };

/** The chain changed under the chunk being read (a reorg in progress): read it again later. */
export class ChainMovedError extends Error {
  override name = "ChainMovedError";
}

const eventAbis = microTransferChannelsAbi.filter(
  (item) => item.type === "event" && (CHAIN_EVENT_NAMES as readonly string[]).includes(item.name),
);
const selectors = eventAbis.map((e) => toEventSelector(e as never));

/** The eth_getLogs filter: this contract, any of the five events, topic 2 = this receiver. */
export function logFilter(config: Pick<Config, "contract" | "receiverAddress">, from: bigint, to: bigint) {
  return {
    address: config.contract,
    fromBlock: numberToHex(from),
    toBlock: numberToHex(to),
    topics: [selectors, null, pad(config.receiverAddress.toLowerCase() as Hex, { size: 32 })],
  };
}

/**
 * Reads blocks [from, to]: one `eth_getLogs` (the receiver is an indexed topic) and the hash of
 * `to`, in one batched request. `toHash`: the hash of `to` as an earlier request read it (read
 * here first when not given: the first chunk of a run pays one request more); `nextTo`: the next
 * chunk's end, whose hash the same batch reads ahead.
 */
export async function fetchChunk(
  client: PublicClient,
  config: Pick<Config, "contract" | "receiverAddress">,
  from: bigint,
  to: bigint,
  ahead: { toHash?: Hex; nextTo?: bigint } = {},
): Promise<Chunk> {
  const before = ahead.toHash ?? (await client.getBlock({ blockNumber: to })).hash!;
  const [logs, block, next] = await Promise.all([
    client.request({ method: "eth_getLogs", params: [logFilter(config, from, to) as never] }) as Promise<RpcLog[]>,
    client.getBlock({ blockNumber: to }),
    ahead.nextTo === undefined ? null : client.getBlock({ blockNumber: ahead.nextTo }).catch(() => null),
  ]);
  if (block.hash!.toLowerCase() !== before.toLowerCase())
    throw new ChainMovedError(`block ${to} changed while the chunk was read`);
  const items: { event: ChainEvent; row: ChainEventRow }[] = [];
  for (const log of logs) {
    if (log.removed || log.address.toLowerCase() !== config.contract.toLowerCase()) continue;
    const blockNumber = Number(log.blockNumber);
    if (blockNumber < Number(from) || blockNumber > Number(to))
      throw new ChainMovedError(`the node answered a log of block ${blockNumber} for blocks ${from}-${to}`);
    if (blockNumber === Number(to) && log.blockHash.toLowerCase() !== block.hash!.toLowerCase()) {
      throw new ChainMovedError(`block ${to} changed while it was read`);
    }
    const decoded = decodeEventLog({
      abi: microTransferChannelsAbi,
      data: log.data,
      topics: log.topics as [Hex, ...Hex[]],
    });
    const name = decoded.eventName as ChainEventName;
    if (!(CHAIN_EVENT_NAMES as readonly string[]).includes(name)) continue;
    const args = decoded.args as Record<string, unknown>;
    if ((args.receiver as string).toLowerCase() !== config.receiverAddress.toLowerCase()) continue;
    const logIndex = Number(log.logIndex);
    const ev: ChainEvent = {
      id: eventId(log.blockHash, logIndex),
      name,
      blockNumber,
      logIndex,
      sender: args.sender as Address,
      openBlock: Number(args.openBlock),
      amount: eventAmount(name, args),
      ...(name === "ChannelCloseRequested" ? { settleBlock: Number(args.settleBlock) } : {}),
      ...(name === "ChannelSettled" ? { receiverTokens: args.receiverTokens as bigint } : {}),
    };
    items.push({
      event: ev,
      row: {
        blockNumber,
        blockHash: log.blockHash.toLowerCase(),
        logIndex,
        txHash: log.transactionHash,
        name,
        sender: ev.sender.toLowerCase(),
        openBlock: ev.openBlock,
        args: JSON.stringify(args, (_k, v) => (typeof v === "bigint" ? v.toString() : v)),
      },
    });
  }
  items.sort((a, b) => a.event.blockNumber - b.event.blockNumber || a.event.logIndex - b.event.logIndex);
  return {
    events: items.map((i) => i.event),
    rows: items.map((i) => i.row),
    toHash: block.hash!,
    nextHash: next?.hash ?? undefined,
  };
}

function eventAmount(name: ChainEventName, args: Record<string, unknown>): bigint {
  switch (name) {
    case "ChannelCreated":
      return args.deposit as bigint;
    case "ChannelToppedUp":
      return args.added as bigint;
    case "ChannelCloseRequested":
    case "ChannelSettled":
      return args.balance as bigint;
    case "ChannelWithdraw":
      return args.withdrawn as bigint;
  }
}
