/*
 * SHA-256 (FIPS 180-4, 6.2): the digest the loader checks its payload
 * against. The blocking and padding are shared with SHA-512
 * (sha2_blocks.c); this file is the 32-bit compression function.
 */
#include <aubade/sha2.h>

#include "sha2_blocks.h"

/* The first 32 bits of the fractional parts of the cube roots of the first
 * 64 primes (FIPS 180-4, 4.2.2). */
static const uint32_t round_constants[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* The same of the square roots of the first 8 primes (5.3.3). */
static const uint32_t initial_hash[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

/* x:x, x twice over in 64 bits: x rotated right by n is this shifted
 * right by n, low half, one instruction on RV64 where a 32-bit rotation
 * takes three without Zbb (the hash's time is mostly rotations). */
static uint64_t doubled(uint32_t x)
{
    return (uint64_t)x << 32 | x;
}

static uint32_t load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* One round (FIPS 180-4, 6.2.2 step 3) over the working variables a..h,
 * written so that none of them moves: of the eight, only d and h change
 * (d += T1, h = T1 + T2), and the next round takes the same variables one
 * place along. Eight rounds in a row bring every name back to its place. */
static inline void sha_round(uint32_t a, uint32_t b, uint32_t c, uint32_t *d, uint32_t e, uint32_t f,
                             uint32_t g, uint32_t *h, uint32_t constant_plus_word)
{
    uint64_t ee = doubled(e), aa = doubled(a);
    uint32_t sum1 = (uint32_t)(ee >> 6 ^ ee >> 11 ^ ee >> 25);
    uint32_t choose = g ^ (e & (f ^ g));         /* (e & f) ^ (~e & g) */
    uint32_t majority = (a & b) | (c & (a | b)); /* (a & b) ^ (a & c) ^ (b & c) */
    uint32_t sum0 = (uint32_t)(aa >> 2 ^ aa >> 13 ^ aa >> 22);
    uint32_t t1 = *h + sum1 + choose + constant_plus_word;
    *d += t1;
    *h = t1 + sum0 + majority;
}

static void compress(void *chaining, const uint8_t *block)
{
    uint32_t *chain = chaining;
    /* 1. The message schedule: the block's 16 words, then 48 more, each
     * mixed from four before it; once all are made, each gets its round's
     * constant added, the sum being all a round takes of either. */
    uint32_t w[64];
    for (int t = 0; t < 16; t++)
        w[t] = load_be32(block + 4 * t);
    for (int t = 16; t < 64; t++) {
        uint64_t x15 = doubled(w[t - 15]), x2 = doubled(w[t - 2]);
        uint32_t s0 = (uint32_t)(x15 >> 7 ^ x15 >> 18) ^ w[t - 15] >> 3;
        uint32_t s1 = (uint32_t)(x2 >> 17 ^ x2 >> 19) ^ w[t - 2] >> 10;
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    for (int t = 0; t < 64; t++)
        w[t] += round_constants[t];
    /* 2. 64 rounds, eight at a time, each eight with the names in place. */
    uint32_t a = chain[0], b = chain[1], c = chain[2], d = chain[3];
    uint32_t e = chain[4], f = chain[5], g = chain[6], h = chain[7];
    for (int t = 0; t < 64; t += 8) {
        sha_round(a, b, c, &d, e, f, g, &h, w[t]);
        sha_round(h, a, b, &c, d, e, f, &g, w[t + 1]);
        sha_round(g, h, a, &b, c, d, e, &f, w[t + 2]);
        sha_round(f, g, h, &a, b, c, d, &e, w[t + 3]);
        sha_round(e, f, g, &h, a, b, c, &d, w[t + 4]);
        sha_round(d, e, f, &g, h, a, b, &c, w[t + 5]);
        sha_round(c, d, e, &f, g, h, a, &b, w[t + 6]);
        sha_round(b, c, d, &e, f, g, h, &a, w[t + 7]);
    }
    /* 3. Added into the chaining value. */
    chain[0] += a;
    chain[1] += b;
    chain[2] += c;
    chain[3] += d;
    chain[4] += e;
    chain[5] += f;
    chain[6] += g;
    chain[7] += h;
}

static struct sha2_blocks blocks_of(struct sha256 *state)
{
    return (struct sha2_blocks){
        .chaining = state->h,
        .compress = compress,
        .block = state->block,
        .block_size = SHA256_BLOCK_SIZE,
        .buffered = &state->buffered,
        .total = &state->total,
    };
}

void sha256_init(struct sha256 *state)
{
    for (int i = 0; i < 8; i++)
        state->h[i] = initial_hash[i];
    state->total = 0;
    state->buffered = 0;
}

void sha256_update(struct sha256 *state, const void *data, size_t size)
{
    struct sha2_blocks blocks = blocks_of(state);
    sha2_blocks_update(&blocks, data, size);
}

void sha256_final(struct sha256 *state, uint8_t digest[SHA256_DIGEST_SIZE])
{
    struct sha2_blocks blocks = blocks_of(state);
    sha2_blocks_finish(&blocks);
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
        digest[i] = (uint8_t)(state->h[i / 4] >> (24 - 8 * (i % 4)));
}

void sha256(const void *data, size_t size, uint8_t digest[SHA256_DIGEST_SIZE])
{
    struct sha256 state;
    sha256_init(&state);
    sha256_update(&state, data, size);
    sha256_final(&state, digest);
}
