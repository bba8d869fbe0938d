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

static uint32_t rotr(uint32_t x, unsigned n)
{
    return x >> n | x << (32 - n);
}

static uint32_t load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void compress(void *chaining, const uint8_t *block)
{
    uint32_t *chain = chaining;
    /* 1. The message schedule: the block's 16 words, then 48 more, each
     * mixed from four before it. */
    uint32_t w[64];
    for (int t = 0; t < 16; t++)
        w[t] = load_be32(block + 4 * t);
    for (int t = 16; t < 64; t++) {
        uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ w[t - 15] >> 3;
        uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ w[t - 2] >> 10;
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    /* 2. 64 rounds over the working variables a..h (FIPS 180-4's
     * names), each shifting them along by one: scalars, so that the
     * compiler keeps them in registers. */
    uint32_t a = chain[0], b = chain[1], c = chain[2], d = chain[3];
    uint32_t e = chain[4], f = chain[5], g = chain[6], h = chain[7];
    for (int t = 0; t < 64; t++) {
        uint32_t sum1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
        uint32_t choose = (e & f) ^ (~e & g);
        uint32_t t1 = h + sum1 + choose + round_constants[t] + w[t];
        uint32_t sum0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
        uint32_t majority = (a & b) ^ (a & c) ^ (b & c);
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + sum0 + majority;
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
