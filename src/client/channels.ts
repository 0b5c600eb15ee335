// Channel management outside of paying: list, top up, close and settle. Closing asks the server
// for its closing proof first because a cooperative close returns the unspent deposit at once;
// when the server refuses, is gone or its proof is unusable, the client closes on its own at the
// last balance the server accepted and settles after the challenge period. A server's contract
// is used only once trusted (trust.ts), and every top-up counts against `maxDeposit`.
import type { Address, Hex } from "viem";
import { parseSignature, parseUint } from "../protocol/codec.js";
import { protocolErrorFromBody } from "../protocol/errors.js";
import { RdnHeaders } from "../protocol/headers.js";
import { signBalanceProof, signCloseRequest } from "../protocol/sign.js";
import { verifyClosingProof } from "../protocol/verify.js";
import type { ChannelBook } from "./book.js";
import type { ChainAccess } from "./chain.js";
import { ClientErrorCodes, Edge402Error } from "./errors.js";
import type { Hooks } from "./hooks.js";
import type { ChannelLedger } from "./ledger.js";
import { chooseTopUp, type ResolvedPolicy } from "./policy.js";
import type { ChannelIdentity } from "./store.js";
import { checkServerTerms, fetchServerInfo, gatewayOf, type ServerInfo } from "./server-info.js";
import { isOurBalance, reportFor, takeServerBalance } from "./reconcile.js";
import { readChannelReport } from "./response.js";

/** One channel as `channels` lists it (amounts as decimal strings, like the wire). */
export type ChannelSummary = ChannelIdentity & {
  state: "open" | "closing" | "settled";
  deposit: string;
  /** The last balance the server accepted (B). */
  balance: string;
  /** The highest balance signed. */
  signed: string;
  /** The deposit not yet signed away. */
  available: string;
  credit: string;
  gateways: string[];
  settleBlock?: number;
  closingBalance?: string;
  refund?: string;
};

/** What `close` did to one channel. */
export type CloseResult = {
  openBlock: number;
  receiver: Address;
  /** `cooperative`: settled now; `uncooperative`: challenge started; `none`: nothing to do. */
  mode: "cooperative" | "uncooperative" | "none";
  state: "closing" | "settled";
  /** The balance the channel closes at. */
  balance?: string;
  /** What came back to the sender (cooperative close). */
  refund?: string;
  settleBlock?: number;
  hash?: Hex;
  /** Why the close was not cooperative. */
  reason?: string;
};

/** What `settle` did to one closing channel, or how long it still has to wait. */
export type SettleResult = {
  openBlock: number;
  receiver: Address;
  state: "closing" | "settled";
  settleBlock?: number;
  /** Blocks still to be mined before `settle` can run. */
  blocksLeft?: number;
  refund?: string;
  hash?: Hex;
  note?: string;
};

/** What `topUp` did: the channel funded (opened when `opened`), amounts as decimal strings. */
export type TopUpResult = {
  openBlock: number;
  receiver: Address;
  added: string;
  deposit: string;
  opened: boolean;
  hash?: Hex;
};

export type ManagerOptions = {
  chain: ChainAccess;
  book: ChannelBook;
  hooks: Hooks;
  /** The budgets: a top-up or a new channel counts against `maxDeposit`. */
  policy: Pick<ResolvedPolicy, "maxDeposit">;
  fetch: typeof fetch;
  /** How long a close request stays valid (seconds, default 300). */
  closeDeadlineSeconds?: number;
};

export function summarize(ledger: ChannelLedger): ChannelSummary {
  return {
    chainId: ledger.chainId,
    contract: ledger.contract,
    token: ledger.token,
    sender: ledger.sender,
    receiver: ledger.receiver,
    openBlock: ledger.openBlock,
    state: ledger.state,
    deposit: ledger.deposit.toString(),
    balance: ledger.accepted.toString(),
    signed: ledger.signed.toString(),
    available: ledger.available.toString(),
    credit: ledger.credit.toString(),
    gateways: [...ledger.gateways],
    ...(ledger.settleBlock !== undefined ? { settleBlock: ledger.settleBlock } : {}),
    ...(ledger.closingBalance !== undefined ? { closingBalance: ledger.closingBalance.toString() } : {}),
    ...(ledger.refund !== undefined ? { refund: ledger.refund.toString() } : {}),
  };
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    throw new Edge402Error(ClientErrorCodes.invalidArgument, `Not a URL: ${url}`);
  }
}

export class ChannelManager {
  constructor(private readonly options: ManagerOptions) {}

  /** The server's identity (its contract trusted), or undefined when it does not answer. */
  private async identify(serverUrl: string): Promise<ServerInfo | undefined> {
    const origin = originOf(serverUrl);
    const stored = this.options.book
      .all()
      .flatMap((l) => [...l.gateways])
      .find((g) => originOf(g) === origin);
    const gateway = stored ?? gatewayOf(serverUrl);
    try {
      const info = await fetchServerInfo(gateway, this.options.fetch);
      await checkServerTerms(this.options.chain, info);
      return info;
    } catch (err) {
      if (err instanceof Edge402Error && err.code === ClientErrorCodes.serverUnreachable) return undefined;
      throw err;
    }
  }

  /**
   * The channels paid through `serverUrl`: its receiver's (recovered from chain if need be), else the
   * stored ones for its origin.
   */
  private async channelsOf(serverUrl: string): Promise<{ info: ServerInfo | undefined; ledgers: ChannelLedger[] }> {
    await this.options.book.load();
    const info = await this.identify(serverUrl);
    if (info) {
      await this.options.book.recover(this.options.chain, info);
      return { info, ledgers: this.options.book.forReceiver(info) };
    }
    const origin = originOf(serverUrl);
    return {
      info,
      ledgers: this.options.book.all().filter((l) => [...l.gateways].some((g) => originOf(g) === origin)),
    };
  }

  /** The sender's channels, newest last; `refresh` reads each unsettled one from the chain. */
  async list(opts: { server?: string; refresh?: boolean; all?: boolean } = {}): Promise<ChannelSummary[]> {
    await this.options.book.load();
    let ledgers = opts.server ? (await this.channelsOf(opts.server)).ledgers : this.options.book.all();
    if (opts.refresh ?? true) {
      await Promise.all(ledgers.filter((l) => l.state !== "settled").map((l) => this.refresh(l)));
      await this.options.book.save();
    }
    if (!opts.all) ledgers = ledgers.filter((l) => l.state !== "settled");
    return ledgers.sort((a, b) => a.openBlock - b.openBlock).map(summarize);
  }

  /** Reads one channel from the chain into its ledger; false when it no longer exists. */
  private async refresh(ledger: ChannelLedger): Promise<boolean> {
    const info = await this.options.chain.channelInfo(ledger.contract, ledger.receiver, ledger.openBlock);
    ledger.noteChainState(info);
    if (!info) return false;
    // The receiver withdrew with a proof of ours: at least that much was accepted.
    if (info.withdrawn > ledger.signed) ledger.adopt(info.withdrawn, undefined);
    else if (info.withdrawn > ledger.accepted) ledger.recordServerBalance(info.withdrawn, undefined);
    return true;
  }

  /** Adds `amount` to the server's channel (`openBlock`, else the open one that covers the most), or opens one. */
  async topUp(serverUrl: string, amount: bigint, opts: { openBlock?: number } = {}): Promise<TopUpResult> {
    if (amount <= 0n) throw new Edge402Error(ClientErrorCodes.invalidArgument, "The top-up amount must be positive.");
    const { info, ledgers } = await this.channelsOf(serverUrl);
    if (!info)
      throw new Edge402Error(
        ClientErrorCodes.serverUnreachable,
        `${serverUrl} does not answer; cannot tell which channel to fund.`,
      );
    const open = ledgers.filter((l) => l.state === "open");
    const target = opts.openBlock !== undefined ? open.find((l) => l.openBlock === opts.openBlock) : chooseTopUp(open);
    if (opts.openBlock !== undefined && !target) {
      throw new Edge402Error(ClientErrorCodes.noChannel, `No open channel ${opts.openBlock} to ${info.receiver}.`);
    }
    const { ledger, hash } = await this.options.book.fundChannel(
      this.options.chain,
      this.options.policy,
      info,
      amount,
      target,
    );
    ledger.gateways.add(info.gateway);
    await this.options.book.save();
    return {
      openBlock: ledger.openBlock,
      receiver: info.receiver,
      added: amount.toString(),
      deposit: ledger.deposit.toString(),
      opened: target === undefined,
      hash,
    };
  }

  /** Closes the sender's channels to a server (cooperatively unless `uncooperative` or it cannot). */
  async close(serverUrl: string, opts: { uncooperative?: boolean; openBlock?: number } = {}): Promise<CloseResult[]> {
    const { info, ledgers } = await this.channelsOf(serverUrl);
    const candidates = ledgers.filter(
      (l) =>
        l.state !== "settled" &&
        l.settleBlock === undefined &&
        (opts.openBlock === undefined || l.openBlock === opts.openBlock),
    );
    if (candidates.length === 0) {
      throw new Edge402Error(
        ClientErrorCodes.noChannel,
        opts.openBlock === undefined
          ? `No open channel to ${serverUrl}.`
          : `No open channel ${opts.openBlock} to ${serverUrl}.`,
      );
    }
    const results: CloseResult[] = [];
    for (const ledger of candidates) {
      results.push(await this.closeOne(ledger, info, opts.uncooperative ?? false));
      await this.options.book.save();
    }
    return results;
  }

  private async closeOne(
    ledger: ChannelLedger,
    info: ServerInfo | undefined,
    uncooperative: boolean,
  ): Promise<CloseResult> {
    const base = { openBlock: ledger.openBlock, receiver: ledger.receiver };
    if (!(await this.refresh(ledger)))
      return { ...base, mode: "none", state: "settled", reason: "The channel no longer exists on chain." };
    if (ledger.settleBlock !== undefined) {
      return {
        ...base,
        mode: "none",
        state: "closing",
        settleBlock: ledger.settleBlock,
        reason: "A close was already requested on chain.",
      };
    }
    let reason = uncooperative ? "Asked to close uncooperatively." : "The server does not answer.";
    if (!uncooperative && info) {
      try {
        return await this.closeCooperatively(ledger, info.gateway);
      } catch (err) {
        reason = err instanceof Error ? err.message : String(err);
        // The chain may have settled it meanwhile (the closing proof went through after all).
        if (!(await this.refresh(ledger))) return { ...base, mode: "none", state: "settled", reason };
      }
    }
    this.options.hooks.onProgress?.({ type: "close", openBlock: ledger.openBlock, mode: "uncooperative", reason });
    const balance = ledger.accepted;
    const { hash, settleBlock } = await this.options.chain.uncooperativeClose({ ...ledger.ref, balance });
    ledger.state = "closing";
    ledger.settleBlock = settleBlock;
    ledger.closingBalance = balance;
    return { ...base, mode: "uncooperative", state: "closing", balance: balance.toString(), settleBlock, hash, reason };
  }

  /** Asks for the receiver's closing proof, checks it, and closes on chain with it. */
  private async closeCooperatively(ledger: ChannelLedger, gateway: string): Promise<CloseResult> {
    const { chain } = this.options;
    const res = await this.requestClose(ledger, gateway);
    const { balance, closingSignature } = await readClosingProof(res);
    await checkClosingProof(ledger, balance, closingSignature, res.headers);
    const balanceSignature = await signBalanceProof(chain.signer, { ...ledger.ref, balance });
    this.options.hooks.onProgress?.({ type: "close", openBlock: ledger.openBlock, mode: "cooperative" });
    const { hash } = await chain.cooperativeClose({ ...ledger.ref, balance, balanceSignature, closingSignature });
    ledger.state = "settled";
    ledger.closingBalance = balance;
    ledger.refund = ledger.deposit - balance;
    return {
      openBlock: ledger.openBlock,
      receiver: ledger.receiver,
      mode: "cooperative",
      state: "settled",
      balance: balance.toString(),
      refund: ledger.refund.toString(),
      hash,
    };
  }

  /** `DELETE {gateway}/channels/{sender}/{openBlock}` with a signed close request (PROTOCOL.md). */
  private async requestClose(ledger: ChannelLedger, gateway: string): Promise<Response> {
    const deadline = BigInt(Math.floor(Date.now() / 1000) + (this.options.closeDeadlineSeconds ?? 300));
    const closeSignature = await signCloseRequest(this.options.chain.signer, { ...ledger.ref, deadline });
    try {
      return await this.options.fetch(`${gateway}/channels/${ledger.sender}/${ledger.openBlock}`, {
        method: "DELETE",
        headers: {
          [RdnHeaders.closeSignature]: closeSignature,
          [RdnHeaders.closeDeadline]: deadline.toString(),
          accept: "application/json",
        },
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      throw new Edge402Error(
        ClientErrorCodes.serverUnreachable,
        `The server does not answer the close request: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  /** Settles every closing channel whose challenge period is over (of one server, or all). */
  async settle(opts: { server?: string } = {}): Promise<SettleResult[]> {
    await this.options.book.load();
    const ledgers = opts.server ? (await this.channelsOf(opts.server)).ledgers : this.options.book.all();
    const closing = ledgers.filter((l) => l.state === "closing");
    const results: SettleResult[] = [];
    const head = closing.length > 0 ? await this.options.chain.blockNumber() : 0n;
    for (const ledger of closing) {
      const base = { openBlock: ledger.openBlock, receiver: ledger.receiver };
      if (!(await this.refresh(ledger))) {
        results.push({ ...base, state: "settled", note: "Already settled on chain." });
        continue;
      }
      if (ledger.settleBlock === undefined) {
        results.push({
          ...base,
          state: "closing",
          note: "The server stopped serving it, but no close is requested on chain: run close.",
        });
        continue;
      }
      // settle() needs block.number > settleBlock; the next block is head + 1.
      if (head < BigInt(ledger.settleBlock)) {
        results.push({
          ...base,
          state: "closing",
          settleBlock: ledger.settleBlock,
          blocksLeft: Number(BigInt(ledger.settleBlock) - head),
        });
        continue;
      }
      results.push(await this.settleOne(ledger));
      await this.options.book.save();
    }
    await this.options.book.save();
    return results;
  }

  /** Settles one channel whose challenge is over. Anyone may settle, the paywall's cron too: a
   *  settle that reverts because someone else settled first reports the channel as settled. */
  private async settleOne(ledger: ChannelLedger): Promise<SettleResult> {
    const base = { openBlock: ledger.openBlock, receiver: ledger.receiver, settleBlock: ledger.settleBlock };
    try {
      const { hash, balance } = await this.options.chain.settle(ledger.ref);
      ledger.state = "settled";
      ledger.refund = ledger.deposit - balance;
      return { ...base, state: "settled", refund: ledger.refund.toString(), hash };
    } catch (err) {
      if (!(err instanceof Edge402Error && err.code === ClientErrorCodes.chainError)) throw err;
      if (await this.refresh(ledger)) throw err;
      // Settled at the claimed closing balance: the contract paid the sender the rest.
      ledger.state = "settled";
      if (ledger.closingBalance !== undefined) ledger.refund = ledger.deposit - ledger.closingBalance;
      return {
        ...base,
        state: "settled",
        ...(ledger.refund !== undefined ? { refund: ledger.refund.toString() } : {}),
        note: "Already settled on chain by someone else.",
      };
    }
  }
}

/** The closing proof of a close answer; the server's refusal or a malformed proof is an error. */
async function readClosingProof(res: Response): Promise<{ balance: bigint; closingSignature: Hex }> {
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const refusal = protocolErrorFromBody(body);
    throw new Edge402Error(
      refusal?.code ?? ClientErrorCodes.serverUnreachable,
      `The server refused to close (HTTP ${res.status}): ${refusal?.message ?? "no reason given"}`,
      { status: res.status },
    );
  }
  const proof = (body ?? {}) as { balance?: unknown; closingSignature?: unknown };
  try {
    return {
      balance: parseUint(String(proof.balance), "balance"),
      closingSignature: parseSignature(String(proof.closingSignature), "closingSignature"),
    };
  } catch (err) {
    throw new Edge402Error(
      ClientErrorCodes.invalidClosingProof,
      `The server's closing proof is malformed: ${(err as Error).message}`,
    );
  }
}

/**
 * Throws `invalid_closing_proof` unless the receiver signed the closing proof and its balance is
 * at most what this client signed. A client that lost its state signed more than it knows: the
 * answer's B (`headers`), when its signature is ours and B >= the closing balance, is owed
 * already, so closing there pays nothing more.
 */
async function checkClosingProof(
  ledger: ChannelLedger,
  balance: bigint,
  closingSignature: Hex,
  headers: Headers,
): Promise<void> {
  const valid = await verifyClosingProof({
    ...ledger.ref,
    sender: ledger.sender,
    balance,
    signature: closingSignature,
  });
  if (!valid)
    throw new Edge402Error(
      ClientErrorCodes.invalidClosingProof,
      "The closing proof is not signed by the channel's receiver.",
    );
  const report = reportFor(ledger, readChannelReport(headers));
  if (balance > ledger.signed && report && report.balance >= balance) {
    if (await isOurBalance(ledger, report.balance, report.signature)) takeServerBalance(ledger, report, ledger.signed);
  }
  // Never sign a closing balance above what we know we signed: that would pay more than we owe.
  if (balance > ledger.signed || balance > ledger.deposit) {
    throw new Edge402Error(
      ClientErrorCodes.invalidClosingProof,
      `The server wants to close at ${balance}, above the ${ledger.signed} this client signed.`,
    );
  }
}
