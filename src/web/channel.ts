// The channel a payment is made on: one this browser already uses (remembered in localStorage,
// named by the 402's channel headers, or found in the chain's ChannelCreated logs) that the
// server still serves and whose deposit covers the price, else a new one opened with
// `createChannelWithPermit` (one permit signature, one transaction; approve + createChannel
// for a token without permit). The deposit goes only into the contract the server's terms
// name, only when that contract holds the terms' token, and is exactly the deposit the page
// stated. The open transaction is remembered before it is mined, so a reload waits for it
// instead of opening another channel.
import { encodeFunctionData, type Hex } from "viem";
import { microTransferChannelsAbi, testTokenAbi } from "../protocol/abi.js";
import { RdnHeaders } from "../protocol/headers.js";
import { storeKey, type Context } from "./context.js";
import { PageError } from "./errors.js";
import {
  contractToken,
  createdChannels,
  openedIn,
  permitNonce,
  sendTransaction,
  tokenBalance,
  waitForTransaction,
} from "./eth.js";
import { serverChannel } from "./server.js";
import { signPermit } from "./sign.js";
import { forgetChannel, loadChannel, saveChannel, type StoredChannel } from "./store.js";

/** A channel to pay on: its deposit, the balance the server accepted (B), the highest balance
 *  signed here, and the charged total (C). */
export type Usable = { openBlock: number; deposit: bigint; accepted: bigint; signed: bigint; charged: bigint };

/** The deposit a new channel gets for a route of `price`. */
export const depositFor = (ctx: Context, price: bigint) => price * BigInt(ctx.data.depositRequests);

/**
 * A channel that can pay `price`, or null when there is none and `open` is false. With `open`,
 * the chain's logs are searched too, and a new channel is opened when nothing fits.
 */
export async function usableChannel(ctx: Context, price: bigint, open: boolean): Promise<Usable | null> {
  const key = storeKey(ctx);
  let stored = loadChannel(key);
  if (stored?.pendingTx && stored.openBlock === undefined) {
    await finishOpen(ctx, stored);
    stored = loadChannel(key);
  }
  const known: number[] = [];
  if (stored?.openBlock !== undefined) known.push(stored.openBlock);
  const headers = ctx.data.headers ?? {};
  const named = headers[RdnHeaders.senderAddress];
  if (named?.toLowerCase() === ctx.sender.toLowerCase() && headers[RdnHeaders.openBlock])
    known.push(Number(headers[RdnHeaders.openBlock]));
  const found =
    (await firstUsable(ctx, known, price, stored)) ??
    (open
      ? await firstUsable(ctx, await createdChannels(ctx.wallet, { ...ctx.data, sender: ctx.sender }), price, stored)
      : null);
  if (found || !open) return found;
  return openChannel(ctx, price, stored);
}

/** The first of `openBlocks` that the server serves and whose deposit still covers `price`. */
async function firstUsable(
  ctx: Context,
  openBlocks: number[],
  price: bigint,
  stored: StoredChannel | null,
): Promise<Usable | null> {
  const key = storeKey(ctx);
  for (const openBlock of new Set(openBlocks)) {
    const held = await serverChannel(ctx.data.gatewayPath, ctx.sender, openBlock);
    if (held?.state !== "open" || held.deposit - held.charged < price) continue;
    const signed = stored?.openBlock === openBlock ? BigInt(stored.signed) : 0n;
    if (stored?.openBlock !== openBlock) saveChannel(key, { openBlock, deposit: String(held.deposit), signed: "0" });
    return {
      openBlock,
      deposit: held.deposit,
      accepted: held.balance,
      signed: signed > held.balance ? signed : held.balance,
      charged: held.charged,
    };
  }
  return null;
}

/** Waits for an open transaction sent before a reload, and remembers the channel it made. */
async function finishOpen(ctx: Context, stored: StoredChannel): Promise<void> {
  const key = storeKey(ctx);
  ctx.status("Waiting for the channel you opened earlier…");
  try {
    const receipt = await waitForTransaction(
      ctx.wallet,
      stored.pendingTx!,
      ctx.data.minConfirmations,
      "the channel's deposit",
      ctx.status,
    );
    saveChannel(key, {
      openBlock: openedIn(receipt, { ...ctx.data, sender: ctx.sender }),
      deposit: stored.deposit,
      signed: "0",
    });
  } catch (err) {
    if (err instanceof PageError && err.kind === "transaction_failed")
      saveChannel(key, { ...stored, pendingTx: undefined });
    throw err;
  }
}

async function openChannel(ctx: Context, price: bigint, previous: StoredChannel | null): Promise<Usable> {
  const { wallet, sender, data } = ctx;
  const { contract, token, receiver } = data;
  const deposit = depositFor(ctx, price);
  const held = await contractToken(wallet, contract);
  if (held.toLowerCase() !== token.toLowerCase())
    throw new PageError(
      "refused",
      `The channel contract ${contract} holds token ${held}, not ${token}; nothing was paid.`,
    );
  const balance = await tokenBalance(wallet, token, sender);
  if (balance < deposit)
    throw new PageError(
      "insufficient_balance",
      `Your account holds ${ctx.format(balance)}, less than the ${ctx.format(deposit)} deposit this payment needs. Nothing was paid.`,
    );
  let call: Hex;
  const permit = ctx.token?.permit;
  if (permit) {
    ctx.status("Sign the deposit permit in your wallet…");
    const deadline = BigInt(Math.floor(Date.now() / 1000) + 3600);
    const nonce = await permitNonce(wallet, token, sender);
    const { v, r, s } = await signPermit(wallet, {
      domain: { ...permit, chainId: data.chainId, verifyingContract: token },
      owner: sender,
      spender: contract,
      value: deposit,
      nonce,
      deadline,
    });
    call = encodeFunctionData({
      abi: microTransferChannelsAbi,
      functionName: "createChannelWithPermit",
      args: [receiver, deposit, deadline, v, r, s],
    });
  } else {
    ctx.status("Allow the deposit in your wallet…");
    const approve = encodeFunctionData({ abi: testTokenAbi, functionName: "approve", args: [contract, deposit] });
    const hash = await sendTransaction(wallet, sender, token, approve, "allowing the deposit");
    await waitForTransaction(wallet, hash, 1, "the allowance", ctx.status);
    call = encodeFunctionData({
      abi: microTransferChannelsAbi,
      functionName: "createChannel",
      args: [receiver, deposit],
    });
  }
  ctx.status("Confirm the deposit transaction in your wallet…");
  const hash = await sendTransaction(wallet, sender, contract, call, "opening the channel");
  const key = storeKey(ctx);
  saveChannel(key, { pendingTx: hash, deposit: String(deposit), signed: "0" });
  let openBlock: number;
  try {
    const receipt = await waitForTransaction(wallet, hash, data.minConfirmations, "the channel's deposit", ctx.status);
    openBlock = openedIn(receipt, { ...data, sender });
  } catch (err) {
    if (err instanceof PageError && err.kind === "transaction_failed") {
      if (previous) saveChannel(key, previous);
      else forgetChannel(key);
    }
    throw err;
  }
  saveChannel(key, { openBlock, deposit: String(deposit), signed: "0" });
  return { openBlock, deposit, accepted: 0n, signed: 0n, charged: 0n };
}
