// A sender's channels in this process, shared by every request, because the budgets and the
// next balance must be counted over all of them at once: loaded once from the store, saved back
// in coalesced writes, and rebuilt from the chain when the store was lost.
import type { Address, Hex } from "viem";
import type { ChainAccess } from "./chain.js";
import { ChannelLedger } from "./ledger.js";
import { checkDeposit, type ResolvedPolicy } from "./policy.js";
import type { ChannelStore } from "./store.js";

/** The channels of one receiver on one contract and chain. */
export type ReceiverRef = { chainId: number; contract: Address; token: Address; receiver: Address };

export function receiverKey(r: Pick<ReceiverRef, "chainId" | "contract" | "receiver">): string {
  return `${r.chainId}:${r.contract.toLowerCase()}:${r.receiver.toLowerCase()}`;
}

/**
 * Every channel ledger of one sender. `recover` finds the channels a lost store forgot from the
 * chain's `ChannelCreated` events (their balances come back from the server's returned proof on
 * the next payment); `spent` and `deposited` are the budgets' counters over the store, and
 * `fund` checks and counts a deposit in one synchronous step.
 */
export class ChannelBook {
  private readonly ledgers = new Map<string, ChannelLedger>();
  private loading: Promise<void> | undefined;
  private readonly scanned = new Map<string, Promise<void>>();
  private writing: Promise<void> = Promise.resolve();
  private pending: Promise<void> | undefined;
  private depositsInFlight = 0n;

  constructor(
    private readonly store: ChannelStore,
    readonly sender: Address,
  ) {}

  /** Loads the stored channels once; later calls wait for the same load. */
  load(): Promise<void> {
    this.loading ??= this.store.load(this.sender).then(
      (stored) => {
        for (const s of stored) {
          if (s.sender.toLowerCase() !== this.sender.toLowerCase()) continue;
          const ledger = ChannelLedger.fromStored(s);
          if (!this.ledgers.has(ledger.key)) this.ledgers.set(ledger.key, ledger);
        }
      },
      (err: unknown) => {
        this.loading = undefined;
        throw err;
      },
    );
    return this.loading;
  }

  all(): ChannelLedger[] {
    return [...this.ledgers.values()];
  }

  forReceiver(r: Pick<ReceiverRef, "chainId" | "contract" | "receiver">): ChannelLedger[] {
    const key = receiverKey(r);
    return this.all().filter((l) => receiverKey(l) === key);
  }

  /** Adds a channel (a ledger already known under its key is kept). */
  add(ledger: ChannelLedger): ChannelLedger {
    const known = this.ledgers.get(ledger.key);
    if (known) return known;
    this.ledgers.set(ledger.key, ledger);
    return ledger;
  }

  /** What this store signed away, over all channels. */
  get spent(): bigint {
    let total = 0n;
    for (const l of this.ledgers.values()) total += l.spentHere;
    return total;
  }

  /** What this store deposited, over all channels, with the deposits being sent now. */
  get deposited(): bigint {
    let total = this.depositsInFlight;
    for (const l of this.ledgers.values()) total += l.funded;
    return total;
  }

  /**
   * Runs a deposit transaction of `amount` under `maxDeposit`: checked and counted at once (so
   * concurrent deposits cannot both slip under the budget), counted until `send` returns.
   * `send` must add `amount` to the funded ledger's `funded` once the deposit is in.
   */
  async fund<T>(amount: bigint, policy: Pick<ResolvedPolicy, "maxDeposit">, send: () => Promise<T>): Promise<T> {
    await this.load();
    checkDeposit(amount, this.deposited, policy);
    this.depositsInFlight += amount;
    try {
      return await send();
    } finally {
      this.depositsInFlight -= amount;
    }
  }

  /**
   * Deposits `amount` for payments to `r`: a top-up of `target`, or a new channel opened with it
   * when there is none, under `maxDeposit` (see `fund`). Returns the funded channel and the
   * deposit's transaction.
   */
  fundChannel(
    chain: ChainAccess,
    policy: Pick<ResolvedPolicy, "maxDeposit">,
    r: ReceiverRef,
    amount: bigint,
    target?: ChannelLedger,
  ): Promise<{ ledger: ChannelLedger; hash: Hex }> {
    const { contract, token, receiver } = r;
    return this.fund(amount, policy, async () => {
      if (target) {
        const { hash } = await chain.topUp({ contract, token, receiver, openBlock: target.openBlock, added: amount });
        target.deposit += amount;
        target.funded += amount;
        return { ledger: target, hash };
      }
      const opened = await chain.openChannel({ contract, token, receiver, deposit: amount });
      const id = { chainId: r.chainId, contract, token, sender: this.sender, receiver, openBlock: opened.openBlock };
      const ledger = this.add(new ChannelLedger(id, opened.deposit));
      ledger.funded += amount;
      return { ledger, hash: opened.hash };
    });
  }

  /**
   * Writes the book to the store (after loading it, if that has not happened yet). A save
   * requested while another is being written waits for it and writes once for every change
   * made meanwhile.
   */
  save(): Promise<void> {
    if (this.pending) return this.pending;
    const run = this.writing.then(async () => {
      // Never write before the stored channels are in: that would erase them.
      await this.load();
      this.pending = undefined;
      await this.store.save(
        this.sender,
        this.all().map((l) => l.toStored()),
      );
    });
    this.pending = run;
    this.writing = run.catch(() => undefined);
    return run;
  }

  /**
   * Finds this sender's channels to `r.receiver` on chain and adds the ones the book lacks and
   * the chain still holds. Runs once per receiver per process unless `force`.
   */
  recover(chain: ChainAccess, r: ReceiverRef, force = false): Promise<void> {
    const key = receiverKey(r);
    let scan = force ? undefined : this.scanned.get(key);
    if (!scan) {
      scan = (async () => {
        const created = await chain.createdChannels(r.contract, r.receiver);
        const known = new Set(this.forReceiver(r).map((l) => l.openBlock));
        for (const { openBlock } of created) {
          if (known.has(openBlock)) continue;
          const info = await chain.channelInfo(r.contract, r.receiver, openBlock);
          if (!info) continue;
          this.add(ChannelLedger.recovered({ ...r, sender: this.sender, openBlock }, info));
        }
      })();
      scan.catch(() => this.scanned.delete(key));
      this.scanned.set(key, scan);
    }
    return scan;
  }
}
