// Putting one of the receiver's transactions on the wire: the next free nonce (the node's, or
// past our own pending ones when the node lags), EIP-1559 signing with RECEIVER_PRIVATE_KEY, and
// the gas check that raises an alert instead of sending what the receiver cannot pay for.
import { BaseError, decodeErrorResult, keccak256, type Hex, type PublicClient, type TransactionReceipt } from "viem";
import { microTransferChannelsAbi } from "../../protocol/abi.js";
import { rpcErrorText } from "../chain.js";
import type { Config } from "../config.js";
import type { TxStore } from "./store.js";
import { isNonceError, type Fees } from "./txs.js";

/** What the receiver's steps work with: the deployment, its node, the object's storage, and
 *  the D1 binding its projection writes to. */
export type ReceiverContext = { config: Config; client: PublicClient; store: TxStore; d1: D1Database };

/** Signs and broadcasts at the next free nonce (or at `fixedNonce`, for a replacement),
 *  refreshing the nonce when the node says it is taken. */
export async function broadcast(
  ctx: ReceiverContext,
  tx: { data: Hex; gas: bigint } & Fees,
  fixedNonce?: number,
): Promise<{ hash: Hex; nonce: number }> {
  const { config, client } = ctx;
  let nonce = fixedNonce ?? (await nextNonce(ctx));
  for (let attempt = 0; ; attempt++) {
    const serializedTransaction = await config.receiver.signTransaction({
      type: "eip1559",
      chainId: config.chainId,
      to: config.contract,
      nonce,
      ...tx,
    });
    try {
      return { hash: await client.sendRawTransaction({ serializedTransaction }), nonce };
    } catch (err) {
      const message = rpcErrorText(err);
      if (/already known|known transaction/i.test(message)) return { hash: keccak256(serializedTransaction), nonce };
      if (fixedNonce !== undefined || attempt >= 3 || !isNonceError(message)) throw err;
      nonce = Math.max(nonce + 1, await nextNonce(ctx));
    }
  }
}

/** The node's pending nonce, or past our own pending transactions if the node lags behind. */
async function nextNonce({ config, client, store }: ReceiverContext): Promise<number> {
  const fromChain = await client.getTransactionCount({ address: config.receiverAddress, blockTag: "pending" });
  const ours = store.maxPendingNonce();
  return Math.max(fromChain, ours === null ? 0 : ours + 1);
}

/** An alert text (raised) when the receiver cannot pay `cost` wei of gas, else null. */
export async function lacksGas({ config, client, store }: ReceiverContext, cost: bigint): Promise<string | null> {
  const balance = await client.getBalance({ address: config.receiverAddress });
  if (balance >= cost) return null;
  return store.raiseAlert(
    `receiver ${config.receiverAddress} lacks gas: has ${balance} wei, needs ${cost} wei; fund it to keep disputes and withdrawals going`,
  );
}

/** A transaction's receipt, or null while the node has none. */
export function receiptOrNull(client: PublicClient, hash: Hex): Promise<TransactionReceipt | null> {
  return client
    .getTransactionReceipt({ hash })
    .catch((err: unknown) =>
      err instanceof BaseError && err.name === "TransactionReceiptNotFoundError" ? null : Promise.reject(err),
    );
}

/** The short reason a call would revert: the contract's custom error name when it has one. */
export function revertReason(err: unknown): string {
  if (err instanceof BaseError) {
    const withData = err.walk(
      (e) => typeof (e as { data?: unknown }).data === "string" && /^0x[0-9a-f]{8}/i.test((e as { data: string }).data),
    );
    const data = (withData as { data?: Hex } | null)?.data;
    if (data) {
      try {
        return `reverts: ${decodeErrorResult({ abi: microTransferChannelsAbi, data }).errorName}`;
      } catch {
        // not one of the contract's errors
      }
    }
  }
  return rpcErrorText(err);
}
