// Applying a payment to its channel, whatever carried it: who pays (a balance proof's signer,
// checked here in the Worker without state, or a session token's holder), then one call to the
// channel's object, which takes the payment or refuses it (withLookup first teaches the object a
// channel it never met). The paywall's paid step and its priority-payer step both go through here.
import type { Address, Hex } from "viem";
import type { Payment } from "../../protocol/codec.js";
import { isProtocolError } from "../../protocol/errors.js";
import { verifyBalanceProof } from "../../protocol/verify.js";
import type { PayResult } from "../channel/object.js";
import { channelStub } from "../channel/stub.js";
import type { Config } from "../config.js";
import type { Env } from "../env.js";
import type { FlowCharge } from "../flow/bucket.js";
import { withLookup } from "../lookup/learn.js";
import { verifySession } from "../session.js";

/** The payer of a request, as its payment named it (`presented`: the session token it spent). */
export type Payer = {
  sender: Address;
  openBlock: number;
  kind: "proof" | "session";
  presented?: { token: string; expiresAt: number };
};

/** What a payment is asked for: `price` (with `reserveId`, a metered maximum reserved for at most
 *  `reserveMs`), and the payer's flow-control charge when the route is flow-controlled. */
export type ChannelCharge = { price: bigint; reserveId?: string; reserveMs?: number; flow?: FlowCharge };

/** The payer a payment names once its proof's signature or its session token checks out; null
 *  when it does not (nothing was asked of any channel). */
export async function verifyPayer(config: Config, payment: Payment): Promise<Payer | null> {
  if (payment.kind === "proof") {
    if (!(await proofIsValid(config, payment))) return null;
    return { sender: payment.sender, openBlock: payment.openBlock, kind: "proof" };
  }
  const claims = await verifySession(config.sessionSecret, payment.token);
  if (!claims) return null;
  return {
    sender: claims.sender,
    openBlock: claims.openBlock,
    kind: "session",
    presented: { token: payment.token, expiresAt: claims.expiresAt },
  };
}

/**
 * Applies a verified payment to its channel: a proof pays `charge.price` (its surplus becomes
 * credit), a session spends it from credit. One object call, or two when the object has to
 * learn the channel or its deposit from the chain first (withLookup, under the requester's free
 * allowance). `request` is the client's request (its IP names that allowance).
 */
export function applyPayment(
  env: Env,
  config: Config,
  request: Request,
  payment: Payment,
  payer: Payer,
  charge: ChannelCharge,
): Promise<PayResult> {
  const { sender, openBlock } = payer;
  const stub = channelStub(env, sender, openBlock);
  return withLookup(env, config, request, sender, openBlock, (learned) =>
    payment.kind === "proof"
      ? (stub.pay({
          sender,
          openBlock,
          balance: payment.balance,
          signature: payment.signature,
          ...charge,
          learned,
        }) as Promise<PayResult>)
      : (stub.spend({ sender, openBlock, ...charge, learned }) as Promise<PayResult>),
  );
}

/**
 * Paying clients are priority clients on every route (PROTOCOL.md, flow control): a request
 * that costs nothing (a free route, a trial route in the client's trial) and carries a valid
 * session, or a proof its channel accepts at price 0 (the surplus becomes credit), is charged to
 * the channel's bucket at PAID_CAPACITY. Null when it is no payer's request: a bad signature, an
 * invalid or expired session, a channel that does not serve, or one this server never met (a
 * proof does not make a free request learn a channel from the chain; it pays a priced route
 * first). Such a request is served from the free share like any stranger's, never refused.
 */
export async function applyPriority(
  env: Env,
  config: Config,
  payment: Payment,
  flow: FlowCharge,
): Promise<{ who: Payer; result: PayResult } | null> {
  const who = await verifyPayer(config, payment);
  if (!who) return null;
  const { sender, openBlock } = who;
  const stub = channelStub(env, sender, openBlock);
  const result: PayResult =
    payment.kind === "proof"
      ? await stub.pay({
          sender,
          openBlock,
          balance: payment.balance,
          signature: payment.signature,
          price: 0n,
          flow,
          knownOnly: true,
        })
      : await stub.chargeCapacity({ sender, openBlock, price: 0n, flow });
  return result.ok || result.code === "rate_limited" ? { who, result } : null;
}

async function proofIsValid(
  config: Config,
  p: { sender: Address; openBlock: number; balance: bigint; signature: Hex },
): Promise<boolean> {
  try {
    return await verifyBalanceProof({
      chainId: config.chainId,
      contract: config.contract,
      receiver: config.receiverAddress,
      openBlock: p.openBlock,
      balance: p.balance,
      signature: p.signature,
      sender: p.sender,
    });
  } catch (err) {
    if (isProtocolError(err)) return false;
    throw err;
  }
}
