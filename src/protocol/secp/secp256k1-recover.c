/*
 * edge402's WebAssembly verifier: EIP-712 digests and secp256k1 public-key recovery in one
 * module, built from the unmodified libsecp256k1 release (bitcoin-core/secp256k1 v0.5.0,
 * recovery module) by build-wasm.ts. It owns only the glue: a Keccak-256, the EIP-712
 * digest of a struct of fixed 32-byte words, recovery through libsecp256k1's static context
 * (no allocation, precomputed tables compiled in), and the signer's address. The JavaScript
 * side (fast-verify.ts) writes inputs into the `io` buffer and reads results from it.
 *
 * io layout (byte offsets):
 *   0   domain separator (32)
 *   32  struct: type hash ‖ word1 ‖ word2 ‖ word3 (4 x 32)
 *   160 r (32)   192 s (32)   224 recovery id, 0 or 1 (1)
 *   256 recovered address (20)
 *   512 free input for keccak256 (up to IO_SIZE - 512 bytes), 480 its output (32)
 */
#include <stddef.h>
#include <stdint.h>

#define ENABLE_MODULE_RECOVERY 1
#define USE_EXTERNAL_DEFAULT_CALLBACKS 1
#include "src/secp256k1.c"
#include "src/precomputed_ecmult.c"
#include "src/precomputed_ecmult_gen.c"

#define EXPORT(name) __attribute__((export_name(#name)))

/* libsecp256k1's default callbacks (never reached: every argument is checked before the call). */
void secp256k1_default_illegal_callback_fn(const char *str, void *data) { (void)str; (void)data; __builtin_trap(); }
void secp256k1_default_error_callback_fn(const char *str, void *data) { (void)str; (void)data; __builtin_trap(); }

/* The freestanding C library the compiler may call into. */
void *memcpy(void *restrict dst, const void *restrict src, size_t n) {
  unsigned char *d = dst;
  const unsigned char *s = src;
  while (n--) *d++ = *s++;
  return dst;
}
void *memmove(void *dst, const void *src, size_t n) {
  unsigned char *d = dst;
  const unsigned char *s = src;
  if (d < s) {
    while (n--) *d++ = *s++;
  } else {
    while (n--) d[n] = s[n];
  }
  return dst;
}
void *memset(void *dst, int c, size_t n) {
  unsigned char *d = dst;
  while (n--) *d++ = (unsigned char)c;
  return dst;
}
int memcmp(const void *a, const void *b, size_t n) {
  const unsigned char *x = a, *y = b;
  for (; n; n--, x++, y++) if (*x != *y) return *x - *y;
  return 0;
}
void abort(void) { __builtin_trap(); }
/* Only the allocating context functions refer to these; this module never calls them. */
void *malloc(size_t n) { (void)n; return NULL; }
void free(void *p) { (void)p; }

/* ---- Keccak-256 (the original Keccak padding, as Ethereum uses it) ---- */

static const uint64_t keccak_rc[24] = {
  0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
  0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
  0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
  0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
  0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
  0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};
static const unsigned char keccak_rotc[24] = { 1, 3, 6, 10, 15, 21, 28, 36, 45, 55, 2, 14, 27, 41, 56, 8, 25, 43, 62, 18, 39, 61, 20, 44 };
static const unsigned char keccak_piln[24] = { 10, 7, 11, 17, 18, 3, 5, 16, 8, 21, 24, 4, 15, 23, 19, 13, 12, 2, 20, 14, 22, 9, 6, 1 };

static inline uint64_t rotl64(uint64_t x, unsigned n) { return (x << n) | (x >> (64 - n)); }

static void keccak_f1600(uint64_t st[25]) {
  uint64_t bc[5], t;
  int round, i, j;
  for (round = 0; round < 24; round++) {
    for (i = 0; i < 5; i++) bc[i] = st[i] ^ st[i + 5] ^ st[i + 10] ^ st[i + 15] ^ st[i + 20];
    for (i = 0; i < 5; i++) {
      t = bc[(i + 4) % 5] ^ rotl64(bc[(i + 1) % 5], 1);
      for (j = 0; j < 25; j += 5) st[j + i] ^= t;
    }
    t = st[1];
    for (i = 0; i < 24; i++) {
      j = keccak_piln[i];
      bc[0] = st[j];
      st[j] = rotl64(t, keccak_rotc[i]);
      t = bc[0];
    }
    for (j = 0; j < 25; j += 5) {
      for (i = 0; i < 5; i++) bc[i] = st[j + i];
      for (i = 0; i < 5; i++) st[j + i] ^= (~bc[(i + 1) % 5]) & bc[(i + 2) % 5];
    }
    st[0] ^= keccak_rc[round];
  }
}

static uint64_t load64_le(const unsigned char *p) {
  uint64_t v = 0;
  int i;
  for (i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

/* out = keccak256(in[0..len)); in and out may overlap. */
static void keccak256(const unsigned char *in, size_t len, unsigned char *out) {
  uint64_t st[25];
  unsigned char last[136];
  size_t i;
  for (i = 0; i < 25; i++) st[i] = 0;
  while (len >= 136) {
    for (i = 0; i < 17; i++) st[i] ^= load64_le(in + 8 * i);
    keccak_f1600(st);
    in += 136;
    len -= 136;
  }
  for (i = 0; i < 136; i++) last[i] = 0;
  for (i = 0; i < len; i++) last[i] = in[i];
  last[len] ^= 0x01;
  last[135] ^= 0x80;
  for (i = 0; i < 17; i++) st[i] ^= load64_le(last + 8 * i);
  keccak_f1600(st);
  for (i = 0; i < 32; i++) out[i] = (unsigned char)(st[i / 8] >> (8 * (i % 8)));
}

/* ---- The io buffer and the exported functions ---- */

#define IO_SIZE 4096
#define IO_DOMAIN 0
#define IO_STRUCT 32
#define IO_R 160
#define IO_S 192
#define IO_RECID 224
#define IO_ADDRESS 256
#define IO_HASH_OUT 480
#define IO_HASH_IN 512

static unsigned char io[IO_SIZE] __attribute__((aligned(16)));

EXPORT(io) unsigned char *io_ptr(void) { return io; }
EXPORT(io_size) uint32_t io_size(void) { return IO_SIZE; }

/* keccak256(io[512 .. 512 + len)) -> io[480 .. 512). Returns 0 when len is too long. */
EXPORT(keccak256) int export_keccak256(uint32_t len) {
  if (len > IO_SIZE - IO_HASH_IN) return 0;
  keccak256(io + IO_HASH_IN, len, io + IO_HASH_OUT);
  return 1;
}

/*
 * Recovers the signer of the EIP-712 struct in io: digest = keccak256(0x1901 ‖ domain ‖
 * keccak256(struct)), then the public key from (r, s, recovery id), then its address
 * keccak256(x ‖ y)[12..32) -> io[256 .. 276). Returns 1, or 0 when no key can be recovered
 * (r or s zero or out of range, r not an x coordinate, the point at infinity). It checks no
 * signature policy (low s, v): the caller does.
 */
EXPORT(recover_typed) int recover_typed(void) {
  unsigned char buf[66];
  unsigned char digest[32];
  unsigned char compact[64];
  unsigned char pub[65];
  size_t publen = sizeof(pub);
  secp256k1_ecdsa_recoverable_signature sig;
  secp256k1_pubkey pubkey;
  int i, recid = io[IO_RECID];

  if (recid != 0 && recid != 1) return 0;
  buf[0] = 0x19;
  buf[1] = 0x01;
  for (i = 0; i < 32; i++) buf[2 + i] = io[IO_DOMAIN + i];
  keccak256(io + IO_STRUCT, 128, buf + 34);
  keccak256(buf, 66, digest);

  for (i = 0; i < 32; i++) compact[i] = io[IO_R + i];
  for (i = 0; i < 32; i++) compact[32 + i] = io[IO_S + i];
  if (!secp256k1_ecdsa_recoverable_signature_parse_compact(secp256k1_context_static, &sig, compact, recid)) return 0;
  if (!secp256k1_ecdsa_recover(secp256k1_context_static, &pubkey, &sig, digest)) return 0;
  if (!secp256k1_ec_pubkey_serialize(secp256k1_context_static, pub, &publen, &pubkey, SECP256K1_EC_UNCOMPRESSED)) return 0;
  keccak256(pub + 1, 64, buf);
  for (i = 0; i < 20; i++) io[IO_ADDRESS + i] = buf[12 + i];
  return 1;
}
