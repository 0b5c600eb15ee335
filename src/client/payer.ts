// The payer: turns "this request costs `price` at these terms" into a payment, under the
// spending policy. Terms are only taken on the RPC node's chain and for a trusted channel
// contract holding the named token (trust.ts), before anything is recovered, signed or
// deposited. Per receiver, one request at a time (a keyed async mutex) checks the budgets
// (`maxSpend`, and `maxDeposit` for a deposit), asks the `beforePay` hook, takes prepaid credit
// when a session token covers the price, else picks the smallest open channel that covers the
// amount (opening one or topping one up on chain first), reserves the next cumulative balance
// synchronously and signs it. The lock is released before the request is sent, so many
// requests are in flight while proofs are made strictly one after another. `finish` closes every payment's books with the server's answer.
import type { Address, Hex } from "viem";
import { signBalanceProof } from "../protocol/sign.js";
import { receiverKey, type ChannelBook } from "./book.js";
import type { ChainAccess } from "./chain.js";
import { ClientErrorCodes, Edge402Error } from "./errors.js";
import type { Hooks, PaymentContext } from "./hooks.js";
import { ChannelLedger } from "./ledger.js";
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

export class Payer {
  private readonly locks = new KeyedMutex();
  private readonly checkedTerms = new Map<string, Promise<void>>();

  constructor(private readonly o: PayerOptions) {}

  get sender(): Address {
    return this.o.chain.address;
  }

  /** The server's chain must be our RPC's chain, its contract trusted and holding its token
   * (checked once per gateway, contract and token). */
  private checkTerms(terms: Terms): Promise<void> {
    const key = `${terms.gateway}|${terms.chainId}|${terms.contract.toLowerCase()}|${terms.token.toLowerCase()}`;
    let check = this.checkedTerms.get(key);
    if (!check) {
      check = (async () => {
        const id = await this.o.chain.chainId();
        if (id !== terms.chainId) {
          throw new Edge402Error(
            ClientErrorCodes.termsMismatch,
            `${terms.origin} takes payments on chain ${terms.chainId}, but the RPC node is on chain ${id}.`,
          );
        }
        const token = await this.o.chain.contractToken(terms.contract);
        if (token.toLowerCase() !== terms.token.toLowerCase()) {
          throw new Edge402Error(
            ClientErrorCodes.termsMismatch,
            `${terms.origin} names token ${terms.token}, but its contract ${terms.contract} holds ${token}.`,
          );
        }
      })();
      check.catch(() => this.checkedTerms.delete(key));
      this.checkedTerms.set(key, check);
    }
    return check;
  }

  /** Plans, funds and signs the payment of one request. */
  async plan(terms: Terms, req: { url: string; method: string }, opts: PlanOptions = {}): Promise<Payment> {
    checkPrice(terms.price, this.o.policy);
    await this.checkTerms(terms);
    if (opts.entitled && opts.entitled.session === undefined) await opts.entitled.waitForSession(this.o.sessionWaitMs);
    for (let round = 0; ; round++) {
      const planned = await this.locks.run(receiverKey(terms), () =>
        this.planLocked(terms, req, { ...opts, waitForPending: round < MAX_PENDING_WAITS }),
      );
      if (planned.kind === "wait") {
        // A prepaid proof in flight will leave enough credit: wait for it rather than sign more.
        await planned.ledger.changed(this.o.sessionWaitMs);
        planned.ledger.releasePending(planned.price);
        continue;
      }
      await this.o.book.save();
      return planned;
    }
  }

  private async ask(ctx: PaymentContext): Promise<void> {
    const answer = await this.o.hooks.beforePay?.(ctx);
    if (answer === false) {
      throw new Edge402Error(
        ClientErrorCodes.paymentDeclined,
        `Payment of ${ctx.price} for ${ctx.method} ${ctx.url} was declined.`,
      );
    }
  }

  private async planLocked(
    terms: Terms,
    req: { url: string; method: string },
    opts: PlanOptions & { waitForPending: boolean },
  ): Promise<Payment | { kind: "wait"; ledger: ChannelLedger; price: bigint }> {
    const { book, chain, policy } = this.o;
    await book.load();
    const ref = { chainId: terms.chainId, contract: terms.contract, token: terms.token, receiver: terms.receiver };
    if (!book.forReceiver(ref).some((l) => l.state === "open")) await book.recover(chain, ref);
    const ledgers = book.forReceiver(ref);
    const price = terms.price;
    const base = { url: req.url, method: req.method, price, receiver: terms.receiver };

    // 1. Prepaid credit, through the channel's session token.
    if (!opts.noCredit && price > 0n) {
      const entitled = opts.entitled?.state === "open" ? opts.entitled : undefined;
      const candidates = entitled ? [entitled] : ledgers.filter((l) => l.state === "open" && l.session !== undefined);
      candidates.sort((a, b) =>
        a.spendableCredit > b.spendableCredit ? -1 : a.spendableCredit < b.spendableCredit ? 1 : 0,
      );
      const ledger = candidates[0];
      if (ledger?.holdCredit(price, entitled !== undefined)) {
        try {
          await this.ask({
            ...base,
            kind: "session",
            amount: price,
            channel: ledger.ref,
            spent: book.spent,
            deposited: book.deposited,
          });
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
    }

    // 2. A new balance proof, from the smallest open channel that covers it.
    const amount = paymentIncrement(price, book.spent, policy);
    let ledger = chooseChannel(ledgers, amount);
    let funding: PaymentContext["funding"];
    let target: ChannelLedger | undefined;
    if (!ledger) {
      target = chooseTopUp(ledgers);
      funding = target
        ? { action: "topUp", amount: topUpAmount(price, amount - target.available, policy) }
        : { action: "open", amount: newChannelDeposit(price, amount, policy) };
      // Refused by the budget before the hook is asked about it.
      checkDeposit(funding.amount, book.deposited, policy);
    }
    await this.ask({
      ...base,
      kind: "proof",
      amount,
      ...((ledger ?? target) ? { channel: (ledger ?? target)!.ref } : {}),
      ...(funding ? { funding } : {}),
      spent: book.spent,
      deposited: book.deposited,
    });
    if (funding) {
      const added = funding.amount;
      const token = terms.token;
      ledger = await book.fund(added, policy, async () => {
        if (target) {
          await chain.topUp({
            contract: terms.contract,
            token,
            receiver: terms.receiver,
            openBlock: target.openBlock,
            added,
          });
          target.deposit += added;
          target.funded += added;
          return target;
        }
        const opened = await chain.openChannel({
          contract: terms.contract,
          token,
          receiver: terms.receiver,
          deposit: added,
        });
        const fresh = book.add(
          new ChannelLedger({ ...ref, token, sender: this.sender, openBlock: opened.openBlock }, opened.deposit),
        );
        fresh.funded += added;
        return fresh;
      });
      await book.save();
    }
    const chosen = ledger!;
    // Other receivers' payments may have signed meanwhile: the total is checked again, and the
    // balance reserved, in one synchronous step.
    checkTotal(amount, book.spent, policy);
    const balance = chosen.reserve(amount, amount - price);
    chosen.gateways.add(terms.gateway);
    let signature: Hex;
    try {
      signature = await signBalanceProof(chain.signer, {
        chainId: chosen.chainId,
        contract: chosen.contract,
        receiver: chosen.receiver,
        openBlock: chosen.openBlock,
        balance,
      });
    } catch (err) {
      chosen.settleRefused(balance);
      throw new Edge402Error(
        ClientErrorCodes.paymentDeclined,
        `The balance proof was not signed: ${(err as Error).message}`,
        { cause: err },
      );
    }
    chosen.attachSignature(balance, signature);
    return { kind: "proof", ledger: chosen, price, balance, amount, signature };
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
