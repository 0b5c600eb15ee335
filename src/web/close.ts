// "Close and refund": asks the server to close the channel (DELETE with a CloseRequest
// signature), which answers with the receiver's closing proof at the charged total C; signs
// the balance proof for C when this browser does not hold one (a proof of more than it signed
// is refused), then settles on chain with `cooperativeClose`: the receiver gets C, the rest of
// the deposit comes back to the person at once.
import { encodeFunctionData, type Address, type Hex } from "viem";
import { microTransferChannelsAbi } from "../protocol/abi.js";
import { RdnHeaders } from "../protocol/headers.js";
import { storeKey, type Context } from "./context.js";
import { PageError } from "./errors.js";
import { createdChannels, sendTransaction, waitForTransaction } from "./eth.js";
import { serverChannel } from "./server.js";
import { signBalanceProof, signCloseRequest } from "./sign.js";
import { forgetChannel, loadChannel } from "./store.js";

/** How long the close request stays valid, in seconds. */
const CLOSE_DEADLINE_SECONDS = 300;

/** The open block of the sender's open channel with this site: the remembered one, else the
 *  newest the chain's logs and the server know; null when there is none. */
export async function currentChannel(ctx: Context): Promise<number | null> {
  const stored = loadChannel(storeKey(ctx));
  const candidates = stored?.openBlock !== undefined ? [stored.openBlock] : [];
  candidates.push(...(await createdChannels(ctx.wallet, { ...ctx.data, sender: ctx.sender })));
  for (const openBlock of candidates) {
    const held = await serverChannel(ctx.data.gatewayPath, ctx.sender, openBlock);
    if (held?.state === "open") return openBlock;
  }
  return null;
}

/** Closes the channel and returns what came back to the sender and what the site kept. */
export async function closeAndRefund(ctx: Context): Promise<{ refund: bigint; paid: bigint }> {
  const { wallet, sender, data } = ctx;
  const openBlock = await currentChannel(ctx);
  if (openBlock === null) throw new PageError("failed", "You have no open channel with this site.");
  const ch = { chainId: data.chainId, contract: data.contract, receiver: data.receiver, openBlock };
  const deadline = BigInt(Math.floor(Date.now() / 1000) + CLOSE_DEADLINE_SECONDS);
  ctx.status("Sign the close request in your wallet…");
  const closeSignature = await signCloseRequest(wallet, sender, { ...ch, deadline });
  const res = await fetch(`${data.gatewayPath}/channels/${sender}/${openBlock}`, {
    method: "DELETE",
    headers: { [RdnHeaders.closeSignature]: closeSignature, [RdnHeaders.closeDeadline]: deadline.toString() },
  });
  const body = (await res.json().catch(() => ({}))) as {
    balance?: string;
    closingSignature?: Hex;
    channel?: { deposit?: string };
    error?: { message?: string };
  };
  if (!res.ok || !body.balance || !body.closingSignature)
    throw new PageError("refused", `The site refused to close: ${body.error?.message ?? `HTTP ${res.status}`}`);
  const balance = BigInt(body.balance);
  const balanceSignature = await proofOf(ctx, ch, balance, res.headers);
  ctx.status("Confirm the closing transaction in your wallet…");
  const call = encodeFunctionData({
    abi: microTransferChannelsAbi,
    functionName: "cooperativeClose",
    args: [data.receiver, openBlock, balance, balanceSignature, body.closingSignature],
  });
  const hash = await sendTransaction(wallet, sender, data.contract, call, "closing the channel");
  await waitForTransaction(wallet, hash, 1, "the close", ctx.status);
  forgetChannel(storeKey(ctx));
  const deposit = BigInt(body.channel?.deposit ?? "0");
  return { refund: deposit - balance, paid: balance };
}

/** The sender's signature of `balance`: held here, or the server's copy of it, else signed now
 *  (never for more than this browser signed). */
async function proofOf(
  ctx: Context,
  ch: { chainId: number; contract: Address; receiver: Address; openBlock: number },
  balance: bigint,
  headers: Headers,
): Promise<Hex> {
  const stored = loadChannel(storeKey(ctx));
  if (stored?.openBlock === ch.openBlock) {
    if (balance > BigInt(stored.signed))
      throw new PageError("refused", `The site asks to close at ${ctx.format(balance)}, more than you signed.`);
    if (balance === BigInt(stored.signed) && stored.signature) return stored.signature;
  }
  const held = headers.get(RdnHeaders.balanceSignature);
  if (held && headers.get(RdnHeaders.senderBalance) === balance.toString()) return held as Hex;
  ctx.status("Sign the final balance in your wallet…");
  return signBalanceProof(ctx.wallet, ctx.sender, { ...ch, balance });
}
