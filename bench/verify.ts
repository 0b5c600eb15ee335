// The verification part of the bench: µs per balance proof for our path (verify.ts →
// fast-verify.ts → secp256k1.wasm) and for viem's recoverTypedDataAddress, on distinct
// pre-signed proofs after a warm-up; viem's hashTypedData alone; the cold first call in fresh
// Node processes (bench/cold-verify.ts, median of several); and the machine's native
// libsecp256k1 recovery from the native-recover tool when it is there (NATIVE_RECOVER, else
// ../shared/tools/native-recover beside the repository).
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { hashTypedData, recoverTypedDataAddress } from "viem";
import { balanceProofTypedData } from "../src/protocol/eip712.js";
import { verifyBalanceProof } from "../src/protocol/verify.js";
import { median } from "./stats.js";
import { fixtureProofs } from "./verify-fixtures.js";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export type ColdFigures = { importMs: number; firstMs: number; secondUs: number; runs: number };

export type VerificationResult = {
  /** Our verifyBalanceProof, µs per proof (warm). */
  oursUs: number;
  /** viem recoverTypedDataAddress + compare, µs per proof (warm). */
  viemUs: number;
  /** viem hashTypedData alone, µs per proof (warm). */
  viemHashUs: number;
  /** Native libsecp256k1 recovery, µs, or null with the reason. */
  nativeUs: number | null;
  nativeNote: string;
  coldOurs: ColdFigures;
  coldViem: ColdFigures;
  proofs: { ours: number; viem: number };
};

type Progress = (message: string) => void;

async function timePerOp(n: number, op: (i: number) => Promise<unknown> | unknown): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < n; i++) await op(i);
  return ((performance.now() - t) * 1000) / n;
}

function nativeRecover(): { us: number | null; note: string } {
  const tool = process.env.NATIVE_RECOVER ?? join(REPO_ROOT, "..", "shared", "tools", "native-recover");
  if (!existsSync(tool)) return { us: null, note: `not measured: ${tool} not found (set NATIVE_RECOVER)` };
  try {
    const runs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const out = JSON.parse(execFileSync(tool, { encoding: "utf8", timeout: 60_000 }).trim().split("\n").pop()!) as {
        native_libsecp256k1_recover_us: number;
      };
      runs.push(out.native_libsecp256k1_recover_us);
    }
    return { us: median(runs), note: `native-recover, median of 3 runs (${runs.join(", ")} µs)` };
  } catch (err) {
    return { us: null, note: `not measured: ${(err as Error).message.split("\n")[0]}` };
  }
}

function cold(mode: "fast" | "viem", runs: number): ColdFigures {
  const samples: Array<{ importMs: number; firstMs: number; secondUs: number }> = [];
  for (let i = 0; i < runs; i++) {
    const out = execFileSync(process.execPath, ["--import", "tsx", join(REPO_ROOT, "bench", "cold-verify.ts"), mode], {
      cwd: REPO_ROOT,
      encoding: "utf8",
      timeout: 60_000,
      stdio: ["ignore", "pipe", "pipe"],
    });
    samples.push(JSON.parse(out.trim().split("\n").pop()!) as { importMs: number; firstMs: number; secondUs: number });
  }
  return {
    importMs: median(samples.map((s) => s.importMs)),
    firstMs: median(samples.map((s) => s.firstMs)),
    secondUs: median(samples.map((s) => s.secondUs)),
    runs,
  };
}

export async function benchVerification(progress: Progress): Promise<VerificationResult> {
  progress("verification: signing 3000 fixture proofs");
  const proofs = await fixtureProofs(3000);
  const viemProofs = proofs.slice(0, 300);

  progress("verification: ours (warm-up, then 3000 distinct proofs, best of 3 passes)");
  for (let i = 0; i < 1000; i++) await verifyBalanceProof(proofs[i % proofs.length]!);
  const passes: number[] = [];
  for (let pass = 0; pass < 3; pass++) {
    passes.push(
      await timePerOp(proofs.length, async (i) => {
        if (!(await verifyBalanceProof(proofs[i]!))) throw new Error("a fixture proof did not verify");
      }),
    );
  }
  const oursUs = Math.min(...passes);

  progress("verification: viem recoverTypedDataAddress (300 proofs)");
  const viemVerify = async (p: (typeof proofs)[number]) =>
    (await recoverTypedDataAddress({ ...balanceProofTypedData(p), signature: p.signature })).toLowerCase() ===
    p.sender.toLowerCase();
  for (let i = 0; i < 50; i++) await viemVerify(viemProofs[i]!);
  const viemUs = await timePerOp(viemProofs.length, async (i) => {
    if (!(await viemVerify(viemProofs[i]!))) throw new Error("a fixture proof did not verify with viem");
  });
  for (let i = 0; i < 300; i++) hashTypedData(balanceProofTypedData(viemProofs[i]!));
  const viemHashUs = await timePerOp(viemProofs.length, (i) => hashTypedData(balanceProofTypedData(viemProofs[i]!)));

  progress("verification: native libsecp256k1 (native-recover)");
  const native = nativeRecover();

  progress("verification: cold first call, 5 fresh Node processes each for ours and viem");
  const coldOurs = cold("fast", 5);
  const coldViem = cold("viem", 5);

  return {
    oursUs,
    viemUs,
    viemHashUs,
    nativeUs: native.us,
    nativeNote: native.note,
    coldOurs,
    coldViem,
    proofs: { ours: proofs.length, viem: viemProofs.length },
  };
}
