// Signed balance proofs for the verification benchmarks: `count` proofs from a few fixed test
// keys over one local deployment's domain, made before any clock starts. Deterministic (fixed
// keys, balances 1..count), so every run measures the same work.
import type { Address, Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { ANVIL_ADDRESSES, ANVIL_CHAIN_ID, ANVIL_KEYS } from "../scripts/anvil.js";
import { balanceProofTypedData } from "../src/protocol/eip712.js";

export const FIXTURE_DOMAIN = {
  chainId: ANVIL_CHAIN_ID,
  contract: "0x5FbDB2315678afecb367f032d93F642f64180aa3" as Address,
  receiver: ANVIL_ADDRESSES[1]!,
};

/** anvil's accounts 3 to 6. */
const KEYS = ANVIL_KEYS.slice(3, 7);

export type FixtureProof = typeof FIXTURE_DOMAIN & {
  sender: Address;
  openBlock: number;
  balance: bigint;
  signature: Hex;
};

export async function fixtureProofs(count: number): Promise<FixtureProof[]> {
  const accounts = KEYS.map((k) => privateKeyToAccount(k));
  const out: FixtureProof[] = [];
  for (let i = 0; i < count; i++) {
    const account = accounts[i % accounts.length]!;
    const p = { ...FIXTURE_DOMAIN, openBlock: 100 + (i % 7), balance: BigInt(i + 1) };
    out.push({ ...p, sender: account.address, signature: await account.signTypedData(balanceProofTypedData(p)) });
  }
  return out;
}
