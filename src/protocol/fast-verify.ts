// The fast path behind verify.ts: recovering who signed one of the protocol's EIP-712 structs
// is the one costly step of a paid request, so it runs without viem, as one call into
// libsecp256k1 in WebAssembly with the domain separators cached. It refuses exactly what viem's
// path refuses (fast-verify.test.ts compares the two on random proofs), with the same reasons.
import type { Address } from "viem";
import { loadSecp256k1Module } from "#secp256k1-wasm";
import { BALANCE_PROOF_TYPE, CLOSE_REQUEST_TYPE, CLOSING_PROOF_TYPE, EIP712_NAME, EIP712_VERSION } from "./eip712.js";
import { ProtocolError } from "./errors.js";

/** The EIP-712 domain type of the protocol's domain (name, version, chainId, verifyingContract). */
export const EIP712_DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)";

/** Which of the protocol's structs: each is (address, uint32 openBlock, amount of `amountBits`). */
export type FastStructKind = "BalanceProof" | "ClosingProof" | "CloseRequest";

const STRUCTS: Record<FastStructKind, { type: string; amountBits: number }> = {
  BalanceProof: { type: BALANCE_PROOF_TYPE, amountBits: 192 },
  ClosingProof: { type: CLOSING_PROOF_TYPE, amountBits: 192 },
  CloseRequest: { type: CLOSE_REQUEST_TYPE, amountBits: 64 },
};

/** One struct to recover the signer of: the domain, the struct's three values, the signature. */
export type FastRecoverParameters = {
  kind: FastStructKind;
  chainId: number | bigint;
  contract: string;
  /** The struct's address field (the receiver, or the sender of a ClosingProof). */
  address: string;
  openBlock: number | bigint;
  /** The struct's amount field (balance, or a CloseRequest's deadline). */
  amount: number | bigint;
  signature: string;
};

// The io buffer of secp256k1-recover.c.
const IO_DOMAIN = 0;
const IO_STRUCT = 32;
const IO_R = 160;
const IO_S = 192;
const IO_RECID = 224;
const IO_ADDRESS = 256;
const IO_HASH_OUT = 480;
const IO_HASH_IN = 512;

type VerifierExports = {
  memory: WebAssembly.Memory;
  io(): number;
  io_size(): number;
  keccak256(len: number): number;
  recover_typed(): number;
};

const HEX = "0123456789abcdef";
const HEX_PAIRS: string[] = Array.from({ length: 256 }, (_, i) => HEX[i >> 4]! + HEX[i & 15]!);
/** Hex digit value by char code, -1 when not a hex digit. */
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX_VALUE[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX_VALUE[65 + i] = 10 + i;
  HEX_VALUE[97 + i] = 10 + i;
}

// The group order n and floor(n / 2), big-endian, for the signature rules.
const N_BYTES = bytesOfHex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
const HALF_N_BYTES = bytesOfHex("7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0");

function bytesOfHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Compares mem[at .. at+32) with a 32-byte big-endian constant: -1, 0 or 1. */
function compare32(mem: Uint8Array, at: number, k: Uint8Array): number {
  for (let i = 0; i < 32; i++) {
    const a = mem[at + i]!;
    const b = k[i]!;
    if (a !== b) return a < b ? -1 : 1;
  }
  return 0;
}

function isZero32(mem: Uint8Array, at: number): boolean {
  for (let i = 0; i < 32; i++) if (mem[at + i] !== 0) return false;
  return true;
}

/** Decodes `len` bytes of hex from `s` at `from` into mem at `at`; false on a non-hex digit. */
function decodeHexInto(s: string, from: number, len: number, mem: Uint8Array, at: number): boolean {
  for (let i = 0; i < len; i++) {
    const hi = s.charCodeAt(from + 2 * i);
    const lo = s.charCodeAt(from + 2 * i + 1);
    const h = hi < 128 ? HEX_VALUE[hi]! : -1;
    const l = lo < 128 ? HEX_VALUE[lo]! : -1;
    if (h < 0 || l < 0) return false;
    mem[at + i] = (h << 4) | l;
  }
  return true;
}

function invalid(reason: string): never {
  throw new ProtocolError("invalid_balance_proof", `Invalid signature: ${reason}.`);
}

/** A refusal of the typed data itself (what viem's validation throws), as a refused proof. */
function unrecoverable(): never {
  throw new ProtocolError("invalid_balance_proof", "Invalid signature: the signer cannot be recovered.");
}

class Verifier {
  private readonly exports: VerifierExports;
  private readonly io: number;
  private readonly ioSize: number;
  private mem: Uint8Array;
  private readonly typeHashes: Record<FastStructKind, Uint8Array>;
  private readonly domainTypeHash: Uint8Array;
  private readonly nameHash: Uint8Array;
  private readonly versionHash: Uint8Array;
  private readonly domains = new Map<string, Uint8Array>();
  private readonly addressWords = new Map<string, Uint8Array>();

  constructor(instance: WebAssembly.Instance) {
    this.exports = instance.exports as unknown as VerifierExports;
    this.io = this.exports.io();
    this.ioSize = this.exports.io_size();
    this.mem = new Uint8Array(this.exports.memory.buffer);
    const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
    this.typeHashes = {
      BalanceProof: this.keccak256(ascii(STRUCTS.BalanceProof.type)),
      ClosingProof: this.keccak256(ascii(STRUCTS.ClosingProof.type)),
      CloseRequest: this.keccak256(ascii(STRUCTS.CloseRequest.type)),
    };
    this.domainTypeHash = this.keccak256(ascii(EIP712_DOMAIN_TYPE));
    this.nameHash = this.keccak256(ascii(EIP712_NAME));
    this.versionHash = this.keccak256(ascii(EIP712_VERSION));
  }

  private memory(): Uint8Array {
    // The module never grows its memory; a detached view would only follow a growth.
    if (this.mem.byteLength === 0) this.mem = new Uint8Array(this.exports.memory.buffer);
    return this.mem;
  }

  /** Keccak-256 of `data` (at most io_size - 512 bytes) through the module. */
  keccak256(data: Uint8Array): Uint8Array {
    const mem = this.memory();
    if (data.length > this.ioSize - IO_HASH_IN)
      throw new RangeError("keccak256: input too long for the verifier's buffer");
    mem.set(data, this.io + IO_HASH_IN);
    this.exports.keccak256(data.length);
    return mem.slice(this.io + IO_HASH_OUT, this.io + IO_HASH_OUT + 32);
  }

  /** EIP-55: the mixed-case checksum form of a lowercase `0x` address. */
  checksum(lower: string): Address {
    const mem = this.memory();
    const base = this.io + IO_HASH_IN;
    for (let i = 0; i < 40; i++) mem[base + i] = lower.charCodeAt(i + 2);
    this.exports.keccak256(40);
    const h = this.io + IO_HASH_OUT;
    let out = "0x";
    for (let i = 0; i < 40; i++) {
      const c = lower[i + 2]!;
      const nibble = i % 2 === 0 ? mem[h + (i >> 1)]! >> 4 : mem[h + (i >> 1)]! & 0x0f;
      out += nibble >= 8 ? c.toUpperCase() : c;
    }
    return out as Address;
  }

  /** The 32-byte ABI word of an address, validated as viem's `isAddress` (strict) does; cached. */
  private addressWord(value: string): Uint8Array {
    const cached = this.addressWords.get(value);
    if (cached) return cached;
    if (typeof value !== "string" || value.length !== 42 || value[0] !== "0" || value[1] !== "x") unrecoverable();
    const word = new Uint8Array(32);
    if (!decodeHexInto(value, 2, 20, word, 12)) unrecoverable();
    const lower = value.toLowerCase();
    if (lower !== value && this.checksum(lower) !== value) unrecoverable();
    if (this.addressWords.size >= 256) this.addressWords.clear();
    this.addressWords.set(value, word);
    return word;
  }

  /** The domain separator of a chain and contract; cached per configuration. */
  domainSeparator(chainId: number | bigint, contract: string): Uint8Array {
    const key = `${chainId}:${contract}`;
    const cached = this.domains.get(key);
    if (cached) return cached;
    const data = new Uint8Array(160);
    data.set(this.domainTypeHash, 0);
    data.set(this.nameHash, 32);
    data.set(this.versionHash, 64);
    writeUint(data, 96, toBigInt(chainId), 256);
    data.set(this.addressWord(contract), 128);
    const separator = this.keccak256(data);
    if (this.domains.size >= 64) this.domains.clear();
    this.domains.set(key, separator);
    return separator;
  }

  /** The lowercase address that signed the struct; throws `invalid_balance_proof`. */
  recoverLower(p: FastRecoverParameters): string {
    const struct = STRUCTS[p.kind];
    const mem = this.memory();
    const io = this.io;
    const sig = p.signature;

    // The signature rules, in normalizeSignature's order and words.
    if (typeof sig !== "string" || sig.length !== 132 || sig.charCodeAt(0) !== 48 || sig.charCodeAt(1) !== 120) {
      invalid("expected 0x followed by 130 hex digits");
    }
    if (
      !decodeHexInto(sig, 2, 32, mem, io + IO_R) ||
      !decodeHexInto(sig, 66, 32, mem, io + IO_S) ||
      !decodeHexInto(sig, 130, 1, mem, io + IO_RECID)
    ) {
      invalid("expected 0x followed by 130 hex digits");
    }
    if (isZero32(mem, io + IO_R) || compare32(mem, io + IO_R, N_BYTES) >= 0) invalid("r is out of range");
    if (isZero32(mem, io + IO_S) || compare32(mem, io + IO_S, N_BYTES) >= 0) invalid("s is out of range");
    if (compare32(mem, io + IO_S, HALF_N_BYTES) > 0) invalid("s is in the upper half of the curve order (high s)");
    const v = mem[io + IO_RECID]!;
    if (v === 0 || v === 27) mem[io + IO_RECID] = 0;
    else if (v === 1 || v === 28) mem[io + IO_RECID] = 1;
    else invalid("v must be 27 or 28 (or 0 or 1)");

    // The typed data, validated as viem does before hashing.
    const domain = this.domainSeparator(p.chainId, p.contract);
    const address = this.addressWord(p.address);
    const openBlock = toBigInt(p.openBlock);
    const amount = toBigInt(p.amount);
    mem.set(domain, io + IO_DOMAIN);
    mem.set(this.typeHashes[p.kind], io + IO_STRUCT);
    mem.set(address, io + IO_STRUCT + 32);
    writeUint(mem, io + IO_STRUCT + 64, openBlock, 32);
    writeUint(mem, io + IO_STRUCT + 96, amount, struct.amountBits);

    if (this.exports.recover_typed() !== 1) unrecoverable();
    let out = "0x";
    for (let i = 0; i < 20; i++) out += HEX_PAIRS[mem[io + IO_ADDRESS + i]!]!;
    return out;
  }
}

/** An integer argument as viem accepts one (a bigint or an integral number); else a refusal. */
function toBigInt(v: number | bigint): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
  return unrecoverable();
}

/** Writes an unsigned integer of `bits` as a 32-byte big-endian word; out of range is a refusal. */
function writeUint(mem: Uint8Array, at: number, value: bigint, bits: number): void {
  if (value < 0n || value >= 1n << BigInt(bits)) unrecoverable();
  if (value <= 0xffffffffn) {
    mem.fill(0, at, at + 28);
    const n = Number(value);
    mem[at + 28] = n >>> 24;
    mem[at + 29] = (n >>> 16) & 0xff;
    mem[at + 30] = (n >>> 8) & 0xff;
    mem[at + 31] = n & 0xff;
    return;
  }
  let x = value;
  for (let i = 31; i >= 0; i--) {
    mem[at + i] = Number(x & 0xffn);
    x >>= 8n;
  }
}

let verifier: Verifier | undefined;
let loading: Promise<Verifier> | undefined;

/** The verifier, instantiated on first use (a load failure is retried on the next call). */
export function getVerifier(): Verifier | Promise<Verifier> {
  if (verifier) return verifier;
  loading ??= loadSecp256k1Module()
    .then((module) => new WebAssembly.Instance(module, {}))
    .then((instance) => (verifier = new Verifier(instance)))
    .catch((err: unknown) => {
      loading = undefined;
      throw new Error(
        `edge402: cannot load the secp256k1 verifier: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    });
  return loading;
}

/** The lowercase address that signed the struct; `invalid_balance_proof` when there is none. */
export async function fastRecoverLower(p: FastRecoverParameters): Promise<string> {
  const v = verifier ?? (await getVerifier());
  return v.recoverLower(p);
}

/** The checksummed address that signed the struct; `invalid_balance_proof` when there is none. */
export async function fastRecover(p: FastRecoverParameters): Promise<Address> {
  const v = verifier ?? (await getVerifier());
  return v.checksum(v.recoverLower(p));
}

/** Keccak-256 through the verifier module (for tests and the bench). */
export async function fastKeccak256(data: Uint8Array): Promise<Uint8Array> {
  const v = verifier ?? (await getVerifier());
  return v.keccak256(data);
}
