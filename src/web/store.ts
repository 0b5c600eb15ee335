// What the page remembers between visits, in localStorage, per chain, channel contract,
// receiver and sender: the channel it uses (or the transaction that is opening it), its
// deposit, the highest balance the person signed with that signature, and the balance the
// server last confirmed. With it a reload never opens a second channel or signs what was
// already paid: a proof signed but not delivered is sent again as it is.
import type { Address, Hex } from "viem";

export type StoredChannel = {
  /** The open transaction, while it is not yet confirmed. */
  pendingTx?: Hex;
  openBlock?: number;
  deposit: string;
  /** The highest balance signed on this channel, and its signature. */
  signed: string;
  signature?: Hex;
};

export type StoreKey = { chainId: number; contract: Address; receiver: Address; sender: Address };

const keyOf = (k: StoreKey) =>
  `edge402:${k.chainId}:${k.contract.toLowerCase()}:${k.receiver.toLowerCase()}:${k.sender.toLowerCase()}`;

export function loadChannel(k: StoreKey): StoredChannel | null {
  try {
    const text = localStorage.getItem(keyOf(k));
    return text ? (JSON.parse(text) as StoredChannel) : null;
  } catch {
    return null;
  }
}

export function saveChannel(k: StoreKey, ch: StoredChannel): void {
  localStorage.setItem(keyOf(k), JSON.stringify(ch));
}

export function forgetChannel(k: StoreKey): void {
  localStorage.removeItem(keyOf(k));
}
