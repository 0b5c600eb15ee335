// One payment from the 402 page: a channel that covers the price (channel.ts), a balance
// proof, and the request again with the RDN-* headers, then the paid answer shown in place.
// The proof prepays `prepayRequests` requests at this price (never past the deposit), or, when
// the channel still has that much credit, adds one base unit to get a fresh session. A proof
// signed here that the server never received is sent again as it is, so a reload signs
// nothing twice. The answer's RDN-Sender-Balance and RDN-Balance-Signature (the balance the
// server holds) are remembered; the session cookie it sets pays later requests.
import type { Hex } from "viem";
import { encodeProofHeaders } from "../protocol/codec.js";
import { errorMessages, refusalFlags, type ErrorCode } from "../protocol/errors.js";
import { RdnHeaders } from "../protocol/headers.js";
import { usableChannel, type Usable } from "./channel.js";
import { storeKey, type Context } from "./context.js";
import { PageError } from "./errors.js";
import { sleep } from "./eth.js";
import { show } from "./show.js";
import { signBalanceProof } from "./sign.js";
import { loadChannel, saveChannel } from "./store.js";

/** What a navigation accepts, so the paid answer is the one a browser would get. */
const NAVIGATION_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
/** How often an answer of "too few confirmations" is retried, a second apart. */
const CONFIRMATION_RETRIES = 60;

/** The balance the next proof signs, or null when the deposit cannot pay `price`. */
export function nextBalance(ch: Usable, price: bigint, prepay: number): bigint | null {
  const target = ch.charged + price * BigInt(prepay);
  let next = target > ch.signed + 1n ? target : ch.signed + 1n;
  if (next > ch.deposit) next = ch.deposit;
  return next > ch.signed && next - ch.charged >= price ? next : null;
}

/**
 * Pays this page's URL and shows the answer. With `ask` it may prompt for a new channel;
 * without, it pays only from a channel this browser already has and returns false otherwise.
 */
export async function pay(ctx: Context, price: bigint, ask: boolean): Promise<boolean> {
  const ch = await usableChannel(ctx, price, ask);
  if (!ch) return false;
  const key = storeKey(ctx);
  let proof = undelivered(ctx, ch, price);
  for (let attempt = 0; ; attempt++) {
    if (!proof) {
      const balance = nextBalance(ch, price, ctx.data.prepayRequests);
      if (balance === null) throw new PageError("refused", "The channel's deposit is used up.");
      ctx.status(`Sign the payment of ${ctx.format(balance - ch.accepted)} in your wallet…`);
      const signature = await signBalanceProof(ctx.wallet, ctx.sender, {
        chainId: ctx.data.chainId,
        contract: ctx.data.contract,
        receiver: ctx.data.receiver,
        openBlock: ch.openBlock,
        balance,
      });
      proof = { balance, signature };
      saveChannel(key, { openBlock: ch.openBlock, deposit: String(ch.deposit), signed: String(balance), signature });
      ch.signed = balance;
    }
    ctx.status("Loading the page you paid for…");
    const res = await fetch(location.href, {
      headers: {
        Accept: NAVIGATION_ACCEPT,
        ...encodeProofHeaders({ sender: ctx.sender, openBlock: ch.openBlock, ...proof }),
      },
      credentials: "same-origin",
      cache: "no-store",
      redirect: "manual",
    });
    remember(ctx, ch, res);
    if (res.type === "opaqueredirect" || res.status < 400 || res.headers.has(RdnHeaders.cost)) {
      await show(res);
      return true;
    }
    if (res.status !== 402) throw new PageError("refused", `The site answered HTTP ${res.status}; try again later.`);
    const code = refusalCode(res);
    if (code === "insufficient_confirmations" && attempt < CONFIRMATION_RETRIES) {
      ctx.status("Waiting for the site to see your channel's confirmations…");
      await sleep(1000);
      continue;
    }
    if (code === "invalid_amount" && attempt === 0 && ch.accepted >= proof.balance) {
      proof = null; // the server holds a higher balance than this browser knew: sign above it
      continue;
    }
    throw new PageError("refused", `The site refused the payment: ${errorMessages[code]}`);
  }
}

/** A proof signed here for this channel that the server has not accepted yet and that pays `price`. */
function undelivered(ctx: Context, ch: Usable, price: bigint): { balance: bigint; signature: Hex } | null {
  const stored = loadChannel(storeKey(ctx));
  if (!stored?.signature || stored.openBlock !== ch.openBlock) return null;
  const balance = BigInt(stored.signed);
  return balance > ch.accepted && balance - ch.charged >= price ? { balance, signature: stored.signature } : null;
}

/** Takes the balance the server holds from its answer (RDN-Sender-Balance and its signature). */
function remember(ctx: Context, ch: Usable, res: Response): void {
  const held = res.headers.get(RdnHeaders.senderBalance);
  if (!held || !/^[0-9]{1,78}$/.test(held)) return;
  ch.accepted = BigInt(held);
  const signature = res.headers.get(RdnHeaders.balanceSignature) as Hex | null;
  if (ch.accepted > ch.signed && signature) {
    ch.signed = ch.accepted;
    saveChannel(storeKey(ctx), {
      openBlock: ch.openBlock,
      deposit: String(ch.deposit),
      signed: held,
      signature,
    });
  }
}

const flagCodes = Object.entries(refusalFlags) as Array<[ErrorCode, string]>;

/** The refusal's error code, from its flag header (payment_required when it has none). */
function refusalCode(res: Response): ErrorCode {
  for (const [code, flag] of flagCodes) if (res.headers.get(flag) === "1") return code;
  return "payment_required";
}
