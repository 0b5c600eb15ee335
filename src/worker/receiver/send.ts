// Sending what one intent asks: skipped when a transaction in flight or done already covers it
// (txs.ts `coveredBy`), not sent when the node's gas estimate says it would revert or the
// receiver cannot pay for the gas (an alert), else signed, broadcast and recorded.
import type { Hex } from "viem";
import { channelId } from "../../protocol/channel-key.js";
import { closingProofTypedData } from "../../protocol/eip712.js";
import { rpcErrorText } from "../chain.js";
import { broadcast, lacksGas, revertReason, type ReceiverContext } from "./broadcast.js";
import { projectTx } from "./projection.js";
import {
  coveredBy,
  gasWithMargin,
  intentCalldata,
  viewOf,
  type Fees,
  type IntentOutcome,
  type SubmitOptions,
  type TxIntent,
  type TxRecord,
} from "./txs.js";

export async function sendIntent(ctx: ReceiverContext, intent: TxIntent, opts: SubmitOptions): Promise<IntentOutcome> {
  const { config, client, store } = ctx;
  const channel = channelId(intent.sender, intent.openBlock);
  const covered = coveredBy(store.liveForChannel(channel), intent);
  if (covered) return { intent, result: "covered", tx: viewOf(covered) };
  try {
    const data = intentCalldata(intent, config.receiverAddress, await closingSignature(ctx, intent));
    let gas: bigint;
    try {
      gas = gasWithMargin(await client.estimateGas({ account: config.receiverAddress, to: config.contract, data }));
    } catch (err) {
      return { intent, result: "refused", reason: revertReason(err) };
    }
    const fees = opts.fees ?? (await client.estimateFeesPerGas());
    const lacking = await lacksGas(ctx, gas * fees.maxFeePerGas);
    if (lacking) return { intent, result: "refused", reason: lacking, alert: true };
    const now = Date.now();
    const { hash, nonce } = await broadcast(ctx, { data, gas, ...fees });
    const record = newRecord(intent, { hash, nonce, gas, fees, data }, now);
    store.insert(channel, record);
    store.clearAlert();
    await projectTx(ctx.d1, record, []);
    return { intent, result: "sent", tx: viewOf(record) };
  } catch (err) {
    return { intent, result: "refused", reason: rpcErrorText(err) };
  }
}

/** The receiver's ClosingProof signature a dispute or a close carries. */
async function closingSignature({ config }: ReceiverContext, intent: TxIntent): Promise<Hex | undefined> {
  if (intent.kind !== "dispute" && intent.kind !== "close") return undefined;
  return config.receiver.signTypedData(
    closingProofTypedData({
      chainId: config.chainId,
      contract: config.contract,
      sender: intent.sender,
      openBlock: intent.openBlock,
      balance: intent.balance,
    }),
  );
}

function newRecord(
  intent: TxIntent,
  sent: { hash: Hex; nonce: number; gas: bigint; fees: Fees; data: Hex },
  now: number,
): TxRecord {
  return {
    id: 0,
    kind: intent.kind,
    sender: intent.sender,
    openBlock: intent.openBlock,
    amount: intent.balance,
    nonce: sent.nonce,
    status: "pending",
    hashes: [sent.hash],
    minedHash: null,
    attempts: 1,
    gas: sent.gas,
    maxFeePerGas: sent.fees.maxFeePerGas,
    maxPriorityFeePerGas: sent.fees.maxPriorityFeePerGas,
    data: sent.data,
    error: null,
    sentAt: now,
    createdAt: now,
    updatedAt: now,
  };
}
