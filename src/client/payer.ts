// Turns "this request costs `price` at these terms" into a payment under the spending policy.
// Deciding and reserving happen for one request at a time per receiver, but the lock is let go
// before the request is sent, so many requests are in flight while proofs are made strictly one
// after another.
import type { Address, Hex } from "viem";
import { signBalanceProof } from "../protocol/sign.js";
import { receiverKey, type ChannelBook } from "./book.js";
import type { ChainAccess } from "./chain.js";
import { ClientErrorCodes, Edge402Error } from "./errors.js";
import type { Hooks, PaymentContext } from "./hooks.js";
import type { ChannelLedger } from "./ledger.js";
import { KeyedMutex } from "./mutex.js";
import {
  checkDeposit,
  checkPrice,
  checkTotal,
  chooseChannel,
  chooseTopUp,
  newChannelDeposit,
  paymentIncrement,
  topUpAmount,
  type ResolvedPolicy,
} from "./policy.js";
import type { Terms } from "./response.js";
import { checkServerTerms } from "./server-info.js";

export type ProofPayment = {
  kind: "proof";
  ledger: ChannelLedger;
  price: bigint;
  balance: bigint;
  amount: bigint;
  signature: Hex;
};
export type SessionPayment = { kind: "session"; ledger: ChannelLedger; price: bigint; token: string };
export type Payment = ProofPayment | SessionPayment;

export type PlanOptions = {
  /** A channel whose proof the server absorbed into credit: pay this request from that credit. */
  entitled?: ChannelLedger;
  /** Do not use credit (it just proved short). */
  noCredit?: boolean;
};

/** How many times one request waits for the prepaid surplus of proofs in flight. */
const MAX_PENDING_WAITS = 3;

export type PayerOptions = {
  chain: ChainAccess;
  book: ChannelBook;
  policy: ResolvedPolicy;
  hooks: Hooks;
  /** How long an entitled request waits for a session token before signing instead (ms). */
  sessionWaitMs: number;
};

/** A request that waits for the prepaid surplus of a proof in flight rather than sign more. */
type CreditWait = { kind: "wait"; ledger: ChannelLedger; price: bigint };

/** What `beforePay` is told about every payment of one request. */
type AskBase = Pick<PaymentContext, "url" | "method" | "price" | "receiver">;

/**
 * Plans, funds and signs payments. Terms are taken only on the RPC node's chain and for a
 * trusted contract holding the named token. Then the budgets and `beforePay` are asked, prepaid
 * credit is spent through a session token when it covers the price, else the smallest open
 * channel that covers the amount signs the next balance (a channel is opened or topped up on
 * chain first when none does). `finish` closes every payment's books with the server's answer.
 */
export class Payer {
  private readonly locks = new KeyedMutex();

  constructor(private readonly options: PayerOptions) {}

  get sender(): Address {
    return this.options.chain.address;
  }

  /** Plans, funds and signs the payment of one request. */
  async plan(terms: Terms, req: { url: string; method: string }, opts: PlanOptions = {}): Promise<Payment> {
    checkPrice(terms.price, this.options.policy);
    await checkServerTerms(this.options.chain, terms);
    if (opts.entitled && opts.entitled.session === undefined)
      await opts.entitled.waitForSession(this.options.sessionWaitMs);
    for (let round = 0; ; round++) {
      const planned = await this.locks.run(receiverKey(terms), () =>
        this.planLocked(terms, req, { ...opts, waitForPending: round < MAX_PENDING_WAITS }),
      );
      if (planned.kind === "wait") {
        // A prepaid proof in flight will leave enough credit: wait for it rather than sign more.
        await planned.ledger.changed(this.options.sessionWaitMs);
        planned.ledger.releasePending(planned.price);
        continue;
      }
      await this.options.book.save();
      return planned;
    }
  }

  private async ask(ctx: PaymentContext): Promise<void> {
    const answer = await this.options.hooks.beforePay?.(ctx);
    if (answer === false) {
      throw new Edge402Error(
        ClientErrorCodes.paymentDeclined,
        `Payment of ${ctx.price} for ${ctx.method} ${ctx.url} was declined.`,
      );
    }
  }

  /** Under the receiver's lock: prepaid credit first, else a new balance proof. */
  private async planLocked(
    terms: Terms,
    req: { url: string; method: string },
    opts: PlanOptions & { waitForPending: boolean },
  ): Promise<Payment | CreditWait> {
    const { book, chain } = this.options;
    await book.load();
    const ref = { chainId: terms.chainId, contract: terms.contract, token: terms.token, receiver: terms.receiver };
    if (!book.forReceiver(ref).some((l) => l.state === "open")) await book.recover(chain, ref);
    const ledgers = book.forReceiver(ref);
    const base: AskBase = { url: req.url, method: req.method, price: terms.price, receiver: terms.receiver };
    if (!opts.noCredit && terms.price > 0n) {
      const fromCredit = await this.creditPayment(terms, ledgers, base, opts);
      if (fromCredit) return fromCredit;
    }
    return this.proofPayment(terms, ledgers, base);
  }

  /**
   * Pays from prepaid credit through a channel's session token (the entitled channel's, else
   * the one with the most credit), or says to wait for the surplus of a prepaid proof in flight.
   * Undefined: pay with a proof.
   */
  private async creditPayment(
    terms: Terms,
    ledgers: ChannelLedger[],
    base: AskBase,
    opts: PlanOptions & { waitForPending: boolean },
  ): Promise<SessionPayment | CreditWait | undefined> {
    const { book, policy } = this.options;
    const price = terms.price;
    const entitled = opts.entitled?.state === "open" ? opts.entitled : undefined;
    const candidates = entitled ? [entitled] : ledgers.filter((l) => l.state === "open" && l.session !== undefined);
    candidates.sort((a, b) =>
      a.spendableCredit > b.spendableCredit ? -1 : a.spendableCredit < b.spendableCredit ? 1 : 0,
    );
    const ledger = candidates[0];
    if (ledger?.holdCredit(price, entitled !== undefined)) {
      try {
        const { spent, deposited } = book;
        await this.ask({ ...base, kind: "session", amount: price, channel: ledger.ref, spent, deposited });
      } catch (err) {
        ledger.releaseCredit(price);
        throw err;
      }
      ledger.gateways.add(terms.gateway);
      return { kind: "session", ledger, price, token: ledger.session! };
    }
    if (opts.waitForPending && policy.prepay && !entitled) {
      const pending = ledgers.find((l) => l.state === "open" && l.holdPending(price));
      if (pending) return { kind: "wait", ledger: pending, price };
    }
    return undefined;
  }

  /** A new balance proof from the smallest open channel that covers it, funding one first when none does. */
  private async proofPayment(terms: Terms, ledgers: ChannelLedger[], base: AskBase): Promise<ProofPayment> {
    const { book, chain, policy } = this.options;
    const amount = paymentIncrement(terms.price, book.spent, policy);
    let ledger = chooseChannel(ledgers, amount);
    const target = ledger ? undefined : chooseTopUp(ledgers);
    const funding = ledger ? undefined : this.fundingFor(terms.price, amount, target);
    const paying = ledger ?? target;
    await this.ask({
      ...base,
      kind: "proof",
      amount,
      ...(paying ? { channel: paying.ref } : {}),
      ...(funding ? { funding } : {}),
      spent: book.spent,
      deposited: book.deposited,
    });
    if (funding) {
      ledger = (await book.fundChannel(chain, policy, terms, funding.amount, target)).ledger;
      await book.save();
    }
    return this.signNext(ledger!, terms, amount);
  }

  /**
   * What to deposit when no open channel covers `amount`: a top-up of `target`, else a new
   * channel. Refused by the deposit budget before the hook is asked about it.
   */
  private fundingFor(
    price: bigint,
    amount: bigint,
    target: ChannelLedger | undefined,
  ): NonNullable<PaymentContext["funding"]> {
    const { book, policy } = this.options;
    const funding = target
      ? { action: "topUp" as const, amount: topUpAmount(price, amount - target.available, policy) }
      : { action: "open" as const, amount: newChannelDeposit(price, amount, policy) };
    checkDeposit(funding.amount, book.deposited, policy);
    return funding;
  }

  /** Reserves the next cumulative balance on `ledger` (`amount` more) and signs it. */
  private async signNext(ledger: ChannelLedger, terms: Terms, amount: bigint): Promise<ProofPayment> {
    const { book, chain, policy } = this.options;
    const price = terms.price;
    // Other receivers' payments may have signed meanwhile: the total is checked again, and the
    // balance reserved, in one synchronous step.
    checkTotal(amount, book.spent, policy);
    const balance = ledger.reserve(amount, amount - price);
    ledger.gateways.add(terms.gateway);
    let signature: Hex;
    try {
      signature = await signBalanceProof(chain.signer, { ...ledger.ref, balance });
    } catch (err) {
      ledger.settleRefused(balance);
      throw new Edge402Error(
        ClientErrorCodes.paymentDeclined,
        `The balance proof was not signed: ${(err as Error).message}`,
        { cause: err },
      );
    }
    ledger.attachSignature(balance, signature);
    return { kind: "proof", ledger, price, balance, amount, signature };
  }

  /**
   * Closes the books of a payment: `accepted` (served), `refused` (the server kept nothing) or
   * `unknown` (no answer, so the proof may be at the server).
   */
  finish(payment: Payment, outcome: "accepted" | "refused" | "unknown"): void {
    if (payment.kind === "session") {
      payment.ledger.releaseCredit(payment.price);
      return;
    }
    if (outcome === "accepted") payment.ledger.settleAccepted(payment.balance);
    else if (outcome === "refused") payment.ledger.settleRefused(payment.balance);
    else payment.ledger.settleUnknown(payment.balance);
  }
}
