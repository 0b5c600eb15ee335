// The channel store: where a sender's channels outlive the process. `ChannelStore` is the
// interface (load and save the whole set of one sender's channels), `StoredChannel` the JSON
// record of one channel (amounts as decimal strings, like the wire), `parseStoredChannels` the
// strict reader every store uses on what it loads, and `MemoryChannelStore` the in-memory
// implementation (tests, browsers, short-lived clients). The Node file store is file-store.ts.
// A store only holds what the client may lose: the chain and the server's returned proof
// rebuild a lost store (see book.ts). It also carries the budgets' counters (what each channel
// signed and was funded with through this store), so `maxSpend.total` and `maxDeposit` hold
// across processes that share a store, one at a time.
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

/** One channel as a store keeps it. */
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

/** Keeps each sender's channels. Implementations must make `save` atomic. */
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

/** Validates a loaded `{ version: 1, channels: [...] }` document; throws naming the first problem. */
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

/** Keeps channels in memory only: they are gone with the process. */
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
