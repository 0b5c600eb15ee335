// Channels for the bench, opened for real on the stack's anvil: one fresh sender (ether from
// `anvil_setBalance`, tokens from the TestToken faucet, one approval) opens any number of
// channels to the Worker's receiver, one `createChannel` each (each in its own block, so each
// is its own Durable Object), then a block is mined for the confirmations. Balance proofs are
// signed here, before any clock starts, with the sender's viem account.
import { createPublicClient, createWalletClient, http, type Address, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { microTransferChannelsAbi, testTokenAbi } from "../src/protocol/abi.js";
import { balanceProofTypedData } from "../src/protocol/eip712.js";
import { mine, rpc } from "../scripts/anvil.js";
import { rpcChain } from "../src/client/chain.js";

export type StackChain = { rpcUrl: string; chainId: number; contract: Address; token: Address; receiver: Address };
export type BenchChannel = { account: PrivateKeyAccount; sender: Address; openBlock: number; deposit: bigint };

function clients(s: StackChain, account: PrivateKeyAccount) {
  const chain = rpcChain(s.chainId, s.rpcUrl);
  const transport = http(s.rpcUrl);
  return {
    pub: createPublicClient({ chain, transport, pollingInterval: 20 }),
    wallet: createWalletClient({ account, chain, transport }),
  };
}

/** A new account with 1000 ether for gas. */
export async function fundedAccount(rpcUrl: string): Promise<PrivateKeyAccount> {
  const account = privateKeyToAccount(generatePrivateKey());
  await rpc(rpcUrl, "anvil_setBalance", [account.address, "0x3635C9ADC5DEA00000"]);
  return account;
}

/** Opens `count` channels of `deposit` each from one fresh sender; see the module comment. */
export async function openChannels(s: StackChain, count: number, deposit: bigint): Promise<BenchChannel[]> {
  const account = await fundedAccount(s.rpcUrl);
  const { pub, wallet } = clients(s, account);
  const confirm = async (hash: Hex, what: string) => {
    const receipt = await pub.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`${what} reverted (${hash})`);
    return receipt;
  };
  const total = deposit * BigInt(count);
  await confirm(
    await wallet.writeContract({
      address: s.token,
      abi: testTokenAbi,
      functionName: "mint",
      args: [account.address, total],
    }),
    "mint",
  );
  await confirm(
    await wallet.writeContract({
      address: s.token,
      abi: testTokenAbi,
      functionName: "approve",
      args: [s.contract, total],
    }),
    "approve",
  );
  const out: BenchChannel[] = [];
  for (let i = 0; i < count; i++) {
    const receipt = await confirm(
      await wallet.writeContract({
        address: s.contract,
        abi: microTransferChannelsAbi,
        functionName: "createChannel",
        args: [s.receiver, deposit],
      }),
      "createChannel",
    );
    out.push({ account, sender: account.address, openBlock: Number(receipt.blockNumber), deposit });
  }
  await mine(s.rpcUrl, 1);
  return out;
}

/** The sender's signature of a BalanceProof for cumulative `balance` on `ch`. */
export function signProof(s: StackChain, ch: BenchChannel, balance: bigint): Promise<Hex> {
  return ch.account.signTypedData(
    balanceProofTypedData({
      chainId: s.chainId,
      contract: s.contract,
      receiver: s.receiver,
      openBlock: ch.openBlock,
      balance,
    }),
  );
}

/** The payment headers of a proof (PROTOCOL.md section 3). */
export function proofHeaders(ch: BenchChannel, balance: bigint, signature: Hex): Record<string, string> {
  return {
    "RDN-Sender-Address": ch.sender,
    "RDN-Open-Block": String(ch.openBlock),
    "RDN-Balance": balance.toString(),
    "RDN-Balance-Signature": signature,
  };
}
