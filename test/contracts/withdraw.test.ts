// Contract tests for the receiver's withdraw (PROTOCOL.md section 1): it pays
// `balance - withdrawn` against the sender's BalanceProof, keeps the channel open, emits the new
// cumulative total, and refuses stale or excessive balances, bad signatures, the wrong caller
// and channels that are closing.
import { describe, expect, it } from "vitest";
import { parseEventLogs, type Hex } from "viem";
import {
  MINTED,
  OTHER,
  RECEIVER,
  addr,
  channelInfo,
  expectRevert,
  microTransferChannelsAbi,
  openChannel,
  send,
  signBalance,
  tokenBalance,
  useChain,
  useSnapshots,
} from "./fixture.js";

const env = useChain();
useSnapshots(env);

const S = 4;

function withdrawCall(openBlock: number, balance: bigint, sig: Hex) {
  return {
    address: env.channels,
    abi: microTransferChannelsAbi,
    functionName: "withdraw",
    args: [openBlock, balance, sig],
  } as const;
}

const tryWithdraw = (caller: number, openBlock: number, balance: bigint, sig: Hex) =>
  env.wallets[caller]!.writeContract(withdrawCall(openBlock, balance, sig));

describe("withdraw", () => {
  it("pays the receiver, emits the total withdrawn and keeps the channel open", async () => {
    const { openBlock } = await openChannel(env, S, 1_000n);
    const receiverBefore = await tokenBalance(env, addr(env, RECEIVER));

    const sig1 = await signBalance(env, S, addr(env, RECEIVER), openBlock, 300n);
    const r1 = await send(env, RECEIVER, withdrawCall(openBlock, 300n, sig1));
    const [e1] = parseEventLogs({ abi: microTransferChannelsAbi, logs: r1.logs, eventName: "ChannelWithdraw" });
    expect(e1?.args).toEqual({ sender: addr(env, S), receiver: addr(env, RECEIVER), openBlock, withdrawn: 300n });
    expect(await tokenBalance(env, addr(env, RECEIVER))).toBe(receiverBefore + 300n);
    expect(await channelInfo(env, S, openBlock)).toMatchObject({ deposit: 1_000n, withdrawn: 300n, settleBlock: 0 });

    // The second withdrawal pays only the difference; the event carries the new total.
    const sig2 = await signBalance(env, S, addr(env, RECEIVER), openBlock, 750n);
    const r2 = await send(env, RECEIVER, withdrawCall(openBlock, 750n, sig2));
    const [e2] = parseEventLogs({ abi: microTransferChannelsAbi, logs: r2.logs, eventName: "ChannelWithdraw" });
    expect(e2?.args.withdrawn).toBe(750n);
    expect(await tokenBalance(env, addr(env, RECEIVER))).toBe(receiverBefore + 750n);
    expect(await tokenBalance(env, env.channels)).toBe(250n);
    expect(await channelInfo(env, S, openBlock)).toMatchObject({ deposit: 1_000n, withdrawn: 750n });
    expect(await tokenBalance(env, addr(env, S))).toBe(MINTED - 1_000n);

    // Withdrawing the whole deposit is allowed; the channel still exists.
    const sig3 = await signBalance(env, S, addr(env, RECEIVER), openBlock, 1_000n);
    await send(env, RECEIVER, withdrawCall(openBlock, 1_000n, sig3));
    expect(await channelInfo(env, S, openBlock)).toMatchObject({ deposit: 1_000n, withdrawn: 1_000n });
    expect(await tokenBalance(env, env.channels)).toBe(0n);
  });

  it("refuses a balance not above what was withdrawn (InvalidBalance)", async () => {
    const { openBlock } = await openChannel(env, S, 1_000n);
    const sig = await signBalance(env, S, addr(env, RECEIVER), openBlock, 400n);
    await send(env, RECEIVER, withdrawCall(openBlock, 400n, sig));
    await expectRevert(() => tryWithdraw(RECEIVER, openBlock, 400n, sig), "InvalidBalance");
    const lower = await signBalance(env, S, addr(env, RECEIVER), openBlock, 100n);
    await expectRevert(() => tryWithdraw(RECEIVER, openBlock, 100n, lower), "InvalidBalance");
    const zero = await signBalance(env, S, addr(env, RECEIVER), openBlock, 0n);
    await expectRevert(() => tryWithdraw(RECEIVER, openBlock, 0n, zero), "InvalidBalance");
  });

  it("refuses a balance above the deposit (InvalidBalance)", async () => {
    const { openBlock } = await openChannel(env, S, 1_000n);
    const sig = await signBalance(env, S, addr(env, RECEIVER), openBlock, 1_001n);
    await expectRevert(() => tryWithdraw(RECEIVER, openBlock, 1_001n, sig), "InvalidBalance");
  });

  it("refuses bad signatures", async () => {
    const { openBlock } = await openChannel(env, S, 1_000n);
    const sig = await signBalance(env, S, addr(env, RECEIVER), openBlock, 300n);
    // A proof for another balance recovers to some other address: no such channel.
    await expectRevert(() => tryWithdraw(RECEIVER, openBlock, 301n, sig), "ChannelNotFound");
    // Signed by someone who has no channel to the receiver.
    const stranger = await signBalance(env, OTHER, addr(env, RECEIVER), openBlock, 300n);
    await expectRevert(() => tryWithdraw(RECEIVER, openBlock, 300n, stranger), "ChannelNotFound");
    // Malformed: wrong length, bad v, zeroed.
    await expectRevert(
      () => tryWithdraw(RECEIVER, openBlock, 300n, sig.slice(0, 130) as Hex),
      "InvalidBalanceSignature",
    );
    await expectRevert(
      () => tryWithdraw(RECEIVER, openBlock, 300n, `${sig.slice(0, 130)}1d` as Hex),
      "InvalidBalanceSignature",
    );
    await expectRevert(() => tryWithdraw(RECEIVER, openBlock, 300n, `0x${"00".repeat(65)}`), "InvalidBalanceSignature");
  });

  it("pays only the receiver named in the proof: another caller finds no channel", async () => {
    const { openBlock } = await openChannel(env, S, 1_000n);
    const sig = await signBalance(env, S, addr(env, RECEIVER), openBlock, 300n);
    await expectRevert(() => tryWithdraw(OTHER, openBlock, 300n, sig), "ChannelNotFound");
    await expectRevert(() => tryWithdraw(S, openBlock, 300n, sig), "ChannelNotFound");
    expect((await channelInfo(env, S, openBlock)).withdrawn).toBe(0n);
  });

  it("is refused while a close is pending (ChannelClosing)", async () => {
    const { openBlock } = await openChannel(env, S, 1_000n);
    await send(env, S, {
      address: env.channels,
      abi: microTransferChannelsAbi,
      functionName: "uncooperativeClose",
      args: [addr(env, RECEIVER), openBlock, 100n],
    });
    const sig = await signBalance(env, S, addr(env, RECEIVER), openBlock, 500n);
    await expectRevert(() => tryWithdraw(RECEIVER, openBlock, 500n, sig), "ChannelClosing");
  });
});
