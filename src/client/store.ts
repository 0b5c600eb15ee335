// Where a sender's channels outlive the process, behind one small interface so that a browser,
// a server and the CLI each keep them their own way. A store holds only what the client may
// lose (the chain and the server's returned proof rebuild it, see book.ts), plus the budgets'
// counters, so `maxSpend.total` and `maxDeposit` hold across processes that share a store.
import { getAddress, type Address, type Hex } from "viem";
import * as z from "zod";
import { parseAmount } from "../protocol/amount.js";

export type StoredChannelState = "open" | "closing" | "settled";

/** What names a channel: its chain, contract, token, sender, receiver and open block. */
export type ChannelIdentity = {
  chainId: number;
  contract: Address;
  token: Address;
  sender: Address;
  receiver: Address;
  openBlock: number;
};

/** One channel as a store keeps it: plain JSON, amounts as decimal strings like the wire. */
export type StoredChannel = ChannelIdentity & {
  state: StoredChannelState;
  /** The deposit as last read from the chain or after our own deposit transactions. */
  deposit: string;
  /** The last balance the server accepted (B), as far as we know, and our signature of it. */
  balance: string;
  balanceSignature?: Hex;
  /** The highest balance we have signed (>= balance): new proofs start above it. */
  signed: string;
  /** The part of `signed` this store did not sign: balances learned from the server or the chain
   * after a lost store. `signed - inherited` counts against `maxSpend.total`. Absent in files
   * written before budgets were kept per store: then all of `signed` is inherited. */
  inherited?: string;
  /** What this store deposited into the channel (its own open and top-ups): counts against
   * `maxDeposit`. Absent: 0. */
  funded?: string;
  /** The credit (B - C) the server last reported, and its last session token. */
  credit: string;
  session?: string;
  /** Gateway URLs (origin + RDN-Gateway-Path) of the servers paid through this channel. */
  gateways: string[];
  /** Set once a close is requested on chain (uncooperative close). */
  settleBlock?: number;
  closingBalance?: string;
  /** What the sender got back when the channel settled. */
  refund?: string;
  updatedAt: number;
};

/**
 * Keeps each sender's channels: implement it to keep them elsewhere (a database, the browser's
 * storage). `save` must be atomic (a crash leaves the old set or the new one), and `load` should
 * check what it reads with `parseStoredChannels`.
 *
 * @example
 * class LocalStorageStore implements ChannelStore {
 *   async load(sender: Address) {
 *     const text = localStorage.getItem(`edge402:${sender.toLowerCase()}`);
 *     return text === null ? [] : parseStoredChannels(JSON.parse(text));
 *   }
 *   async save(sender: Address, channels: StoredChannel[]) {
 *     localStorage.setItem(`edge402:${sender.toLowerCase()}`, JSON.stringify({ version: 1, channels }));
 *   }
 * }
 */
export interface ChannelStore {
  /** Every channel stored for `sender` (any chain, contract or receiver); [] when none. */
  load(sender: Address): Promise<StoredChannel[]>;
  /** Replaces the stored set of `sender`'s channels. */
  save(sender: Address, channels: StoredChannel[]): Promise<void>;
}

const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, "expected an address")
  .transform((a) => getAddress(a.toLowerCase()));
const uint = z.string().refine((v) => parseAmount(v) !== null, "expected an unsigned decimal integer");
const signature = z
  .string()
  .regex(/^0x[0-9a-fA-F]{130}$/, "expected a 65-byte signature")
  .transform((s) => s as Hex);

const storedChannel = z.object({
  chainId: z.number().int().positive(),
  contract: address,
  token: address,
  sender: address,
  receiver: address,
  openBlock: z.number().int().min(0).max(0xffffffff),
  state: z.enum(["open", "closing", "settled"]),
  deposit: uint,
  balance: uint,
  balanceSignature: signature.optional(),
  signed: uint,
  inherited: uint.optional(),
  funded: uint.optional(),
  credit: uint,
  session: z.string().min(1).max(512).optional(),
  gateways: z.array(z.string()),
  settleBlock: z.number().int().min(0).max(0xffffffff).optional(),
  closingBalance: uint.optional(),
  refund: uint.optional(),
  updatedAt: z.number(),
});

const storedFile = z.object({ version: z.literal(1), channels: z.array(storedChannel) });

/** The on-disk (or wire) form of one sender's channels. */
export type StoredChannelsFile = { version: 1; channels: StoredChannel[] };

/**
 * Validates a loaded channel document, `{ version: 1, channels: [...] }`: every store's reader.
 *
 * @param json - The parsed JSON.
 * @param where - What to call the document in the error (a file path).
 * @returns The channels, addresses checksummed.
 * @throws {Error} naming `where` and the first problem, for anything that is not a valid channel document.
 *
 * @example
 * const channels = parseStoredChannels(JSON.parse(await readFile(path, "utf8")), path);
 */
export function parseStoredChannels(json: unknown, where = "channel store"): StoredChannel[] {
  const parsed = storedFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `${where} is not a valid edge402 channel file: ${issue ? `${issue.path.join(".")}: ${issue.message}` : "invalid"}`,
    );
  }
  return parsed.data.channels;
}

/** The identity of a stored channel: chain, contract, sender, receiver, open block. */
export function storedChannelKey(
  c: Pick<StoredChannel, "chainId" | "contract" | "sender" | "receiver" | "openBlock">,
): string {
  return `${c.chainId}:${c.contract.toLowerCase()}:${c.sender.toLowerCase()}:${c.receiver.toLowerCase()}:${c.openBlock}`;
}

/**
 * Keeps channels in memory only: they are gone with the process (the default store; tests,
 * browsers, short-lived clients). The chain and the servers' returned proofs rebuild them.
 *
 * @example
 * const client = createEdge402Client({ account, rpcUrl, store: new MemoryChannelStore() });
 */
export class MemoryChannelStore implements ChannelStore {
  private readonly data = new Map<string, string>();

  async load(sender: Address): Promise<StoredChannel[]> {
    const text = this.data.get(sender.toLowerCase());
    return text === undefined ? [] : parseStoredChannels(JSON.parse(text));
  }

  async save(sender: Address, channels: StoredChannel[]): Promise<void> {
    // Stored as JSON text, so callers never share objects with the store.
    this.data.set(sender.toLowerCase(), JSON.stringify({ version: 1, channels } satisfies StoredChannelsFile));
  }

  /** Forgets everything (a lost store, for tests). */
  clear(): void {
    this.data.clear();
  }
}
