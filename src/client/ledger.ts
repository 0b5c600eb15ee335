// One channel's books in memory, where concurrency is made safe: the next cumulative balance is
// handed out synchronously so two requests never sign the same one, and every proof ends
// accepted, refused or unknown, so a new proof always starts above whatever may be at the
// server. No I/O.
import type { Address, Hex } from "viem";
import { maxBigint } from "../protocol/amount.js";
import type { ChannelRef } from "./hooks.js";
import { storedChannelKey, type ChannelIdentity, type StoredChannel, type StoredChannelState } from "./store.js";

export type { ChannelIdentity } from "./store.js";

/** What a server said about a channel on a response (`RDN-*` channel headers). */
export type ChannelReport = {
  sender: Address;
  openBlock: number;
  /** B, the last balance the server accepted. */
  balance: bigint;
  /** Its signature, absent while nothing was paid. */
  signature?: Hex;
  deposit?: bigint;
  credit?: bigint;
  cost?: bigint;
  session?: string;
};

type InFlight = { signature: Hex | undefined; surplus: bigint };

export class ChannelLedger implements ChannelIdentity {
  readonly chainId: number;
  readonly contract: Address;
  readonly token: Address;
  readonly sender: Address;
  readonly receiver: Address;
  readonly openBlock: number;

  state: StoredChannelState = "open";
  /** The deposit as last read from the chain (or raised by our own top-ups and server reports). */
  deposit: bigint;
  /** B: the last balance the server accepted, as far as we know, and our signature of it. */
  accepted = 0n;
  acceptedSignature: Hex | undefined;
  /** The highest balance signed whose fate is unknown (and everything signed before a restart). */
  private floor = 0n;
  /** The part of `signed` this store did not sign (learned after a lost store): the rest,
   *  `spentHere`, is what this store signed away on the channel. Persisted as `inherited`. */
  private baseline = 0n;
  /** What this store deposited into the channel (open and top-ups), persisted. */
  funded = 0n;
  /** The credit (B - C) the server last reported, the part held by session requests in flight,
   *  and the last session token it issued. */
  credit = 0n;
  private held = 0n;
  private pendingHeld = 0n;
  session: string | undefined;
  readonly gateways = new Set<string>();
  settleBlock: number | undefined;
  closingBalance: bigint | undefined;
  refund: bigint | undefined;
  updatedAt = 0;

  /** Proofs sent or about to be sent: balance -> our signature (once signed) and prepaid surplus. */
  private readonly inFlight = new Map<bigint, InFlight>();
  private waiters: Array<() => void> = [];

  constructor(id: ChannelIdentity, deposit: bigint) {
    this.chainId = id.chainId;
    this.contract = id.contract;
    this.token = id.token;
    this.sender = id.sender;
    this.receiver = id.receiver;
    this.openBlock = id.openBlock;
    this.deposit = deposit;
  }

  /** chain:contract:sender:receiver:openBlock */
  get key(): string {
    return storedChannelKey(this);
  }

  /** The channel as the hooks name it: chain, contract, receiver and open block. */
  get ref(): ChannelRef {
    return { chainId: this.chainId, contract: this.contract, receiver: this.receiver, openBlock: this.openBlock };
  }

  /** The highest balance that may be at the server: a new proof must go above it. */
  get signed(): bigint {
    let top = maxBigint(this.accepted, this.floor);
    for (const b of this.inFlight.keys()) top = maxBigint(top, b);
    return top;
  }

  /** What the deposit still covers above everything signed. */
  get available(): bigint {
    const signed = this.signed;
    return this.deposit > signed ? this.deposit - signed : 0n;
  }

  /** What this store signed away on this channel (balances learned from the server excluded). */
  get spentHere(): bigint {
    const signed = this.signed;
    return signed > this.baseline ? signed - this.baseline : 0n;
  }

  /** Proofs in flight. */
  get pendingProofs(): number {
    return this.inFlight.size;
  }

  /** Credit not yet held by a session request in flight. */
  get spendableCredit(): bigint {
    return this.credit > this.held ? this.credit - this.held : 0n;
  }

  /** Prepaid surplus of the proofs in flight that no waiting request has claimed yet. */
  get pendingSurplus(): bigint {
    let surplus = 0n;
    for (const f of this.inFlight.values()) surplus += f.surplus;
    return surplus > this.pendingHeld ? surplus - this.pendingHeld : 0n;
  }

  /**
   * Reserves the next cumulative balance, `signed + amount`, synchronously: no other request can
   * get it. `surplus` is the part of `amount` above the price (prepaid credit). Throws when
   * `amount` is not positive, the channel is not open or the deposit does not cover it.
   */
  reserve(amount: bigint, surplus = 0n): bigint {
    if (amount <= 0n) throw new RangeError("reserve: the amount must be positive");
    if (surplus < 0n || surplus >= amount) throw new RangeError("reserve: the surplus must be below the amount");
    if (this.state !== "open") throw new Error(`reserve: channel ${this.openBlock} is ${this.state}`);
    const balance = this.signed + amount;
    if (balance > this.deposit) throw new RangeError(`reserve: ${balance} exceeds the deposit ${this.deposit}`);
    this.inFlight.set(balance, { signature: undefined, surplus });
    return balance;
  }

  /** Records our signature of a reserved balance. */
  attachSignature(balance: bigint, signature: Hex): void {
    const f = this.inFlight.get(balance);
    if (!f) throw new Error(`attachSignature: ${balance} is not reserved`);
    f.signature = signature;
  }

  /** Our signature of `balance` if this process signed it (in flight) or it is the accepted one. */
  signatureOf(balance: bigint): Hex | undefined {
    const f = this.inFlight.get(balance);
    if (f) return f.signature;
    if (balance === this.accepted) return this.acceptedSignature;
    return undefined;
  }

  /** True when this process holds its own signature of `balance` (in flight, or the accepted one). */
  hasSigned(balance: bigint): boolean {
    if (this.inFlight.get(balance)?.signature !== undefined) return true;
    return balance === this.accepted && this.acceptedSignature !== undefined;
  }

  /** The server accepted our proof for `balance` (its report follows through `applyReport`). */
  settleAccepted(balance: bigint): void {
    const signature = this.inFlight.get(balance)?.signature;
    this.inFlight.delete(balance);
    if (balance > this.accepted) {
      this.accepted = balance;
      this.acceptedSignature = signature;
    }
    this.touch(false);
  }

  /** The server refused our proof for `balance`: it holds nothing of it. */
  settleRefused(balance: bigint): void {
    this.inFlight.delete(balance);
    this.touch(true);
  }

  /** We do not know whether the server got `balance` (no answer): never sign at or below it again. */
  settleUnknown(balance: bigint): void {
    this.inFlight.delete(balance);
    this.floor = maxBigint(this.floor, balance);
    this.touch(true);
  }

  /**
   * A balance the server holds that we trust (ours, or its signature verified to recover to
   * us): raise B to it. Lower values are ignored here; see `adopt`. `foreign`: it was not
   * signed by this process (it came back from the server after a lost store); only what it
   * adds above everything this store signed is inherited.
   */
  recordServerBalance(balance: bigint, signature: Hex | undefined, foreign = false): void {
    if (foreign) this.inherit(balance);
    if (balance > this.accepted) {
      this.accepted = balance;
      this.acceptedSignature = signature ?? this.signatureOf(balance);
      this.touch(false);
    }
  }

  /**
   * µRaiden's reconciliation: the server's verified B differs from ours, so it becomes ours.
   * New proofs still start above everything we ever signed.
   */
  adopt(balance: bigint, signature: Hex | undefined): void {
    const before = this.signed;
    this.inherit(balance);
    this.floor = maxBigint(before, balance);
    this.accepted = balance;
    this.acceptedSignature = signature;
    this.touch(false);
  }

  /** A balance above everything this store signed was signed before it (a lost store): not spent here. */
  private inherit(balance: bigint): void {
    const before = this.signed;
    if (balance > before) this.baseline += balance - before;
  }

  /**
   * Takes the chain's word on the channel (`getChannelInfo`, null when it no longer exists): gone
   * means settled, a higher deposit is taken, and a requested close makes it closing.
   */
  noteChainState(onChain: { deposit: bigint; settleBlock: number; closingBalance: bigint } | null): void {
    if (!onChain) {
      this.state = "settled";
      return;
    }
    if (onChain.deposit > this.deposit) this.deposit = onChain.deposit;
    if (onChain.settleBlock > 0) {
      this.state = "closing";
      this.settleBlock = onChain.settleBlock;
      this.closingBalance = onChain.closingBalance;
    }
  }

  /** Takes the server's credit, a higher deposit and a fresh session token from a report. */
  applyReport(report: Pick<ChannelReport, "deposit" | "credit" | "session">): void {
    if (report.deposit !== undefined && report.deposit > this.deposit) this.deposit = report.deposit;
    if (report.credit !== undefined) this.credit = report.credit;
    if (report.session !== undefined) this.session = report.session;
    this.touch(true);
  }

  setSession(token: string | undefined): void {
    this.session = token;
    this.touch(true);
  }

  /**
   * Holds `price` of the credit for a session request; false when there is no session token or
   * the credit is short. `force` skips the credit check: the request knows its own proof was
   * absorbed into the credit by a higher one (see fetch.ts).
   */
  holdCredit(price: bigint, force = false): boolean {
    if (this.session === undefined || (!force && this.spendableCredit < price)) return false;
    this.held += price;
    return true;
  }

  releaseCredit(price: bigint): void {
    this.held = this.held > price ? this.held - price : 0n;
  }

  /** Claims `price` of the in-flight prepaid surplus for a request that will wait for it. */
  holdPending(price: bigint): boolean {
    if (this.pendingSurplus < price) return false;
    this.pendingHeld += price;
    return true;
  }

  releasePending(price: bigint): void {
    this.pendingHeld = this.pendingHeld > price ? this.pendingHeld - price : 0n;
  }

  /**
   * Resolves true at the next change a waiting request cares about (a report, a session token,
   * a proof refused or lost), or false after `timeoutMs`.
   */
  changed(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      this.waiters.push(done);
    });
  }

  /** Resolves true once a session token is known, or false after `timeoutMs`. */
  async waitForSession(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.session === undefined) {
      const left = deadline - Date.now();
      if (left <= 0 || !(await this.changed(left))) return this.session !== undefined;
    }
    return true;
  }

  private touch(notify: boolean): void {
    this.updatedAt = Date.now();
    if (notify && this.waiters.length > 0) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w();
    }
  }

  toStored(): StoredChannel {
    return {
      chainId: this.chainId,
      contract: this.contract,
      token: this.token,
      sender: this.sender,
      receiver: this.receiver,
      openBlock: this.openBlock,
      state: this.state,
      deposit: this.deposit.toString(),
      balance: this.accepted.toString(),
      ...(this.acceptedSignature ? { balanceSignature: this.acceptedSignature } : {}),
      signed: this.signed.toString(),
      inherited: this.baseline.toString(),
      funded: this.funded.toString(),
      credit: this.credit.toString(),
      ...(this.session ? { session: this.session } : {}),
      gateways: [...this.gateways],
      ...(this.settleBlock !== undefined ? { settleBlock: this.settleBlock } : {}),
      ...(this.closingBalance !== undefined ? { closingBalance: this.closingBalance.toString() } : {}),
      ...(this.refund !== undefined ? { refund: this.refund.toString() } : {}),
      updatedAt: this.updatedAt,
    };
  }

  /**
   * A channel found on chain after the store was lost: the receiver's `withdrawn` is the only
   * balance known to be ours; the server's returned proof tells the rest on the first payment.
   */
  static recovered(
    id: ChannelIdentity,
    onChain: { deposit: bigint; withdrawn: bigint; settleBlock: number; closingBalance: bigint },
  ): ChannelLedger {
    const l = new ChannelLedger(id, onChain.deposit);
    l.accepted = onChain.withdrawn;
    l.floor = onChain.withdrawn;
    l.baseline = onChain.withdrawn;
    l.noteChainState(onChain);
    l.touch(false);
    return l;
  }

  /** Rebuilds a ledger from its record. Whatever was in flight is unknown now: `signed` is the floor. */
  static fromStored(s: StoredChannel): ChannelLedger {
    const l = new ChannelLedger(s, BigInt(s.deposit));
    l.state = s.state;
    l.accepted = BigInt(s.balance);
    l.acceptedSignature = s.balanceSignature;
    l.floor = BigInt(s.signed);
    l.baseline = s.inherited === undefined ? l.signed : BigInt(s.inherited);
    l.funded = BigInt(s.funded ?? "0");
    l.credit = BigInt(s.credit);
    l.session = s.session;
    for (const g of s.gateways) l.gateways.add(g);
    l.settleBlock = s.settleBlock;
    l.closingBalance = s.closingBalance === undefined ? undefined : BigInt(s.closingBalance);
    l.refund = s.refund === undefined ? undefined : BigInt(s.refund);
    l.updatedAt = s.updatedAt;
    return l;
  }
}
