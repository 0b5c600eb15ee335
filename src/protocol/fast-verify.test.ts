// The fast verification path against the reference: viem's `recoverTypedDataAddress` behind
// `normalizeSignature`, exactly as verify.ts did before fast-verify.ts. Thousands of seeded
// random proofs (valid ones, other signers, flipped bits, high s, other domains and messages,
// every kind of v, malformed signatures and typed data) go through both; each must give the
// same signer, or the same refusal with the same message. The module's Keccak-256 is held
// to viem's (@noble/hashes) on every length around the rate boundary.
import { bytesToHex, getAddress, keccak256, recoverTypedDataAddress, type Address, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import {
  balanceProofTypedData,
  closeRequestTypedData,
  closingProofTypedData,
  type BalanceProofParameters,
  type CloseRequestParameters,
  type ClosingProofParameters,
} from "./eip712.js";
import { isProtocolError, ProtocolError } from "./errors.js";
import { fastKeccak256, fastRecover } from "./fast-verify.js";
import { SECP256K1_N, normalizeSignature } from "./signature.js";
import {
  recoverBalanceProofSigner,
  recoverCloseRequestSigner,
  recoverClosingProofSigner,
  verifyBalanceProof,
  verifyCloseRequest,
  verifyClosingProof,
} from "./verify.js";

/** xorshift128+: a seeded generator, so that a failure can be replayed. */
function prng(seed: number) {
  let a = BigInt(seed) | 1n;
  let b = 0x9e3779b97f4a7c15n;
  const mask = (1n << 64n) - 1n;
  const next = (): bigint => {
    let x = a;
    const y = b;
    a = y;
    x = (x ^ (x << 23n)) & mask;
    b = x ^ y ^ (x >> 17n) ^ (y >> 26n);
    return (b + y) & mask;
  };
  const bits = (n: number): bigint => {
    let v = 0n;
    for (let i = 0; i < n; i += 64) v = (v << 64n) | next();
    return v & ((1n << BigInt(n)) - 1n);
  };
  return {
    bits,
    int: (n: number) => Number(next() % BigInt(n)),
    pick: <T>(xs: readonly T[]): T => xs[Number(next() % BigInt(xs.length))]!,
    bytes: (n: number) => Uint8Array.from({ length: n }, () => Number(next() & 0xffn)),
  };
}

type Outcome = { signer: Address } | { refused: string };

async function outcome(run: () => Promise<Address>): Promise<Outcome> {
  try {
    return { signer: await run() };
  } catch (e) {
    if (isProtocolError(e) && e.code === "invalid_balance_proof") return { refused: e.message };
    throw e;
  }
}

/** The reference: verify.ts as it was, viem all the way. */
async function reference(typedData: () => object, signature: string): Promise<Address> {
  const normalized = normalizeSignature(signature);
  try {
    return await recoverTypedDataAddress({ ...typedData(), signature: normalized } as Parameters<
      typeof recoverTypedDataAddress
    >[0]);
  } catch {
    throw new ProtocolError("invalid_balance_proof", "Invalid signature: the signer cannot be recovered.");
  }
}

const hex32 = (v: bigint) => v.toString(16).padStart(64, "0");
const CONTRACTS: Address[] = [
  "0x5FbDB2315678afecb367f032d93F642f64180aa3",
  "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
  "0x0000000000000000000000000000000000000000",
  "0xffffffffffffffffffffffffffffffffffffffff",
];
const CHAIN_IDS = [31337, 1, 8453, 0, 2 ** 53 - 1];

function randomAddress(r: ReturnType<typeof prng>): Address {
  const lower = `0x${hex32(r.bits(160)).slice(24)}` as Address;
  return r.int(2) === 0 ? lower : getAddress(lower);
}

/** A signature mutated in one of many ways (or not at all). */
function mutate(r: ReturnType<typeof prng>, sig: Hex): { label: string; signature: string } {
  const body = sig.slice(2, 130);
  const v = Number.parseInt(sig.slice(130), 16);
  const s = BigInt(`0x${sig.slice(66, 130)}`);
  switch (r.int(14)) {
    case 0:
      return { label: "valid", signature: sig };
    case 1:
      return { label: "v as 0/1", signature: `0x${body}0${v - 27}` };
    case 2:
      return {
        label: "other v",
        signature: `0x${body}${r.pick(["02", "03", "1a", "1d", "1e", "25", "26", "7f", "80", "ff"])}`,
      };
    case 3: {
      const bit = r.int(520);
      const bytes = Buffer.from(sig.slice(2), "hex");
      bytes[bit >> 3]! ^= 1 << (bit & 7);
      return { label: "flipped bit", signature: `0x${bytes.toString("hex")}` };
    }
    case 4:
      return { label: "high s", signature: `0x${sig.slice(2, 66)}${hex32(SECP256K1_N - s)}${v === 27 ? "1c" : "1b"}` };
    case 5:
      return { label: "uppercase", signature: `0x${sig.slice(2).toUpperCase()}` };
    case 6:
      return { label: "r = 0", signature: `0x${hex32(0n)}${sig.slice(66)}` };
    case 7:
      return { label: "s = 0", signature: `0x${sig.slice(2, 66)}${hex32(0n)}${sig.slice(130)}` };
    case 8:
      return { label: "r >= n", signature: `0x${hex32(SECP256K1_N + r.bits(32))}${sig.slice(66)}` };
    case 9:
      return { label: "s >= n", signature: `0x${sig.slice(2, 66)}${hex32(SECP256K1_N + r.bits(32))}${sig.slice(130)}` };
    case 10:
      return { label: "random r", signature: `0x${hex32(r.bits(255) + 1n)}${sig.slice(66)}` };
    case 11:
      return {
        label: "malformed",
        signature: r.pick([
          sig.slice(0, 130),
          `${sig}00`,
          `0X${sig.slice(2)}`,
          `${sig.slice(0, 40)}g${sig.slice(41)}`,
          `${sig.slice(0, 60)} ${sig.slice(61)}`,
          "",
          `1x${sig.slice(2)}`,
        ]),
      };
    case 12:
      return {
        label: "s = n/2 boundary",
        signature: `0x${sig.slice(2, 66)}${hex32(SECP256K1_N >> 1n)}${sig.slice(130)}`,
      };
    default:
      return {
        label: "s = n/2 + 1",
        signature: `0x${sig.slice(2, 66)}${hex32((SECP256K1_N >> 1n) + 1n)}${sig.slice(130)}`,
      };
  }
}

describe("fast verification against viem", () => {
  it("gives the same signer or the same refusal on thousands of random balance proofs", async () => {
    const r = prng(402);
    const counts: Record<string, number> = {};
    let cases = 0;
    for (let i = 0; i < 150; i++) {
      const account = privateKeyToAccount(`0x${hex32(r.bits(250) + 1n)}`);
      const proof: BalanceProofParameters = {
        chainId: r.pick(CHAIN_IDS),
        contract: r.pick(CONTRACTS),
        receiver: randomAddress(r),
        openBlock: r.pick([0, 1, 2 ** 32 - 1, r.int(2 ** 32)]),
        balance: r.pick([0n, 1n, (1n << 192n) - 1n, r.bits(1 + r.int(192))]),
      };
      const signature = await account.signTypedData(balanceProofTypedData(proof));
      for (let j = 0; j < 20; j++) {
        const { label, signature: sig } = mutate(r, signature);
        // Most cases over the signed message; some over another domain, message or bad input.
        const variant = r.int(10);
        const p: BalanceProofParameters = { ...proof };
        let what = label;
        if (variant === 1) {
          p.chainId = proof.chainId + 1;
          what += ", other chain";
        } else if (variant === 2) {
          p.contract = r.pick(CONTRACTS.filter((c) => c !== proof.contract));
          what += ", other contract";
        } else if (variant === 3) {
          p.balance = proof.balance ^ 1n;
          what += ", other balance";
        } else if (variant === 4) {
          p.openBlock = proof.openBlock ^ 1;
          p.receiver = randomAddress(r);
          what += ", other message";
        } else if (variant === 5) {
          const bad = r.int(6);
          if (bad === 0) p.openBlock = -1;
          else if (bad === 1) p.openBlock = 2 ** 32;
          else if (bad === 2) p.balance = 1n << 192n;
          else if (bad === 3) p.balance = -1n;
          else if (bad === 4) p.openBlock = 1.5;
          else {
            // A mixed-case address whose checksum is wrong.
            const good = getAddress(p.receiver);
            const k = good.slice(2).search(/[a-fA-F]/);
            p.receiver = (
              k < 0
                ? good
                : `0x${good.slice(2, 2 + k)}${good[2 + k] === good[2 + k]!.toLowerCase() ? good[2 + k]!.toUpperCase() : good[2 + k]!.toLowerCase()}${good.slice(3 + k)}`
            ) as Address;
            if (p.receiver.toLowerCase() === p.receiver) p.receiver = "0x70997970c51812dc3a010c7d01b50e0d17dc79C8";
          }
          what += ", invalid typed data";
        }
        const fast = await outcome(() => recoverBalanceProofSigner({ ...p, signature: sig as Hex }));
        const ref = await outcome(() => reference(() => balanceProofTypedData(p), sig));
        expect(fast, `case ${cases} (${what}): ${sig}`).toEqual(ref);
        const expected = "signer" in ref ? ref.signer : account.address;
        const sender =
          r.int(4) === 0 ? randomAddress(r) : r.int(2) === 0 ? expected : (expected.toLowerCase() as Address);
        const verified = await verifyBalanceProof({ ...p, signature: sig as Hex, sender });
        expect(verified, `verify, case ${cases} (${what})`).toBe(
          "signer" in ref && ref.signer.toLowerCase() === sender.toLowerCase(),
        );
        counts[what.split(",")[0]!] = (counts[what.split(",")[0]!] ?? 0) + 1;
        counts["valid signer"] =
          (counts["valid signer"] ?? 0) + ("signer" in ref && ref.signer === account.address ? 1 : 0);
        cases++;
      }
    }
    expect(cases).toBe(3000);
    // The mix really covers both outcomes and every mutation.
    expect(counts["valid signer"]).toBeGreaterThan(300);
    for (const label of [
      "valid",
      "v as 0/1",
      "other v",
      "flipped bit",
      "high s",
      "uppercase",
      "random r",
      "malformed",
    ]) {
      expect(counts[label], label).toBeGreaterThan(50);
    }
  }, 120_000);

  it("agrees on closing proofs and close requests", async () => {
    const r = prng(7);
    for (let i = 0; i < 40; i++) {
      const account = privateKeyToAccount(`0x${hex32(r.bits(250) + 1n)}`);
      const closing: ClosingProofParameters = {
        chainId: r.pick(CHAIN_IDS),
        contract: r.pick(CONTRACTS),
        sender: randomAddress(r),
        openBlock: r.int(2 ** 32),
        balance: r.bits(1 + r.int(192)),
      };
      const request: CloseRequestParameters = {
        chainId: r.pick(CHAIN_IDS),
        contract: r.pick(CONTRACTS),
        receiver: randomAddress(r),
        openBlock: r.int(2 ** 32),
        deadline: r.pick([0n, (1n << 64n) - 1n, r.bits(40), 1n << 64n]),
      };
      const closingSig = await account.signTypedData(closingProofTypedData(closing));
      const requestSig =
        request.deadline < 1n << 64n ? await account.signTypedData(closeRequestTypedData(request)) : closingSig;
      for (let j = 0; j < 10; j++) {
        const a = mutate(r, closingSig).signature;
        const fastA = await outcome(() => recoverClosingProofSigner({ ...closing, signature: a as Hex }));
        expect(fastA).toEqual(await outcome(() => reference(() => closingProofTypedData(closing), a)));
        expect(await verifyClosingProof({ ...closing, signature: a as Hex, receiver: account.address })).toBe(
          "signer" in fastA && fastA.signer === account.address,
        );
        const b = mutate(r, requestSig).signature;
        const fastB = await outcome(() => recoverCloseRequestSigner({ ...request, signature: b as Hex }));
        expect(fastB).toEqual(await outcome(() => reference(() => closeRequestTypedData(request), b)));
        expect(await verifyCloseRequest({ ...request, signature: b as Hex, sender: account.address })).toBe(
          "signer" in fastB && fastB.signer === account.address,
        );
      }
    }
  }, 60_000);

  it("refuses with normalizeSignature's words, and recovers the same checksummed address", async () => {
    const r = prng(11);
    for (let i = 0; i < 300; i++) {
      const sig = `0x${bytesToHex(r.bytes(65)).slice(2)}`;
      let expected: string;
      try {
        normalizeSignature(sig);
        expected = "ok";
      } catch (e) {
        expected = (e as Error).message;
      }
      const got = await outcome(() =>
        fastRecover({
          kind: "BalanceProof",
          chainId: 1,
          contract: CONTRACTS[0]!,
          address: CONTRACTS[1]!,
          openBlock: 1,
          amount: 1n,
          signature: sig,
        }),
      );
      if (expected !== "ok") expect(got).toEqual({ refused: expected });
      else if ("signer" in got) expect(got.signer).toBe(getAddress(got.signer));
    }
  });
});

describe("the module's Keccak-256", () => {
  it("matches viem's keccak256 on every length from 0 to 600 bytes", async () => {
    const r = prng(5);
    for (let len = 0; len <= 600; len++) {
      const data = r.bytes(len);
      expect(bytesToHex(await fastKeccak256(data)), `length ${len}`).toBe(keccak256(data));
    }
  });
});
