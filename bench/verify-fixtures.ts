// Signed balance proofs for the verification benchmarks: `count` proofs from a few fixed test
// keys over one local deployment's domain, made before any clock starts. Deterministic (fixed
// keys, balances 1..count), so every run measures the same work.
import type { Address, Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { balanceProofTypedData } from "../src/protocol/eip712.js";

export const FIXTURE_DOMAIN = {
  chainId: 31337,
  contract: "0x5FbDB2315678afecb367f032d93F642f64180aa3" as Address,
  receiver: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" as Address,
};

const KEYS: Hex[] = [
  "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
  "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
  "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
  "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
];

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
