/*
 * SHA-512 (FIPS 180-4, 6.4): the hash inside Ed25519 (lib/ed25519.c). The
 * blocking and padding are shared with SHA-256 (sha2_blocks.c); this file
 * is the 64-bit compression function.
 */
#include <aubade/sha2.h>

#include "sha2_blocks.h"

/* The first 64 bits of the fractional parts of the cube roots of the first
 * 80 primes (FIPS 180-4, 4.2.3). */
static const uint64_t round_constants[80] = {
    0x428a2f98d728ae22, 0x7137449123ef65cd, 0xb5c0fbcfec4d3b2f, 0xe9b5dba58189dbbc,
    0x3956c25bf348b538, 0x59f111f1b605d019, 0x923f82a4af194f9b, 0xab1c5ed5da6d8118,
    0xd807aa98a3030242, 0x12835b0145706fbe, 0x243185be4ee4b28c, 0x550c7dc3d5ffb4e2,
    0x72be5d74f27b896f, 0x80deb1fe3b1696b1, 0x9bdc06a725c71235, 0xc19bf174cf692694,
    0xe49b69c19ef14ad2, 0xefbe4786384f25e3, 0x0fc19dc68b8cd5b5, 0x240ca1cc77ac9c65,
    0x2de92c6f592b0275, 0x4a7484aa6ea6e483, 0x5cb0a9dcbd41fbd4, 0x76f988da831153b5,
    0x983e5152ee66dfab, 0xa831c66d2db43210, 0xb00327c898fb213f, 0xbf597fc7beef0ee4,
    0xc6e00bf33da88fc2, 0xd5a79147930aa725, 0x06ca6351e003826f, 0x142929670a0e6e70,
    0x27b70a8546d22ffc, 0x2e1b21385c26c926, 0x4d2c6dfc5ac42aed, 0x53380d139d95b3df,
    0x650a73548baf63de, 0x766a0abb3c77b2a8, 0x81c2c92e47edaee6, 0x92722c851482353b,
    0xa2bfe8a14cf10364, 0xa81a664bbc423001, 0xc24b8b70d0f89791, 0xc76c51a30654be30,
    0xd192e819d6ef5218, 0xd69906245565a910, 0xf40e35855771202a, 0x106aa07032bbd1b8,
    0x19a4c116b8d2d0c8, 0x1e376c085141ab53, 0x2748774cdf8eeb99, 0x34b0bcb5e19b48a8,
    0x391c0cb3c5c95a63, 0x4ed8aa4ae3418acb, 0x5b9cca4f7763e373, 0x682e6ff3d6b2b8a3,
    0x748f82ee5defb2fc, 0x78a5636f43172f60, 0x84c87814a1f0ab72, 0x8cc702081a6439ec,
    0x90befffa23631e28, 0xa4506cebde82bde9, 0xbef9a3f7b2c67915, 0xc67178f2e372532b,
    0xca273eceea26619c, 0xd186b8c721c0c207, 0xeada7dd6cde0eb1e, 0xf57d4f7fee6ed178,
    0x06f067aa72176fba, 0x0a637dc5a2c898a6, 0x113f9804bef90dae, 0x1b710b35131c471b,
    0x28db77f523047d84, 0x32caab7b40c72493, 0x3c9ebe0a15c9bebc, 0x431d67c49c100d4c,
    0x4cc5d4becb3e42b6, 0x597f299cfc657e2a, 0x5fcb6fab3ad6faec, 0x6c44198c4a475817,
};

/* The same of the square roots of the first 8 primes (5.3.5). */
static const uint64_t initial_hash[8] = {
    0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1,
    0x510e527fade682d1, 0x9b05688c2b3e6c1f, 0x1f83d9abfb41bd6b, 0x5be0cd19137e2179,
};

static uint64_t rotr(uint64_t x, unsigned n)
{
    return x >> n | x << (64 - n);
}

static uint64_t load_be64(const uint8_t *p)
{
    uint64_t x = 0;
    for (int i = 0; i < 8; i++)
        x = x << 8 | p[i];
    return x;
}

static void compress(void *chaining, const uint8_t *block)
{
    uint64_t *chain = chaining;
    /* 1. The message schedule: the block's 16 words, then 64 more. */
    uint64_t w[80];
    for (int t = 0; t < 16; t++)
        w[t] = load_be64(block + 8 * t);
    for (int t = 16; t < 80; t++) {
        uint64_t s0 = rotr(w[t - 15], 1) ^ rotr(w[t - 15], 8) ^ w[t - 15] >> 7;
        uint64_t s1 = rotr(w[t - 2], 19) ^ rotr(w[t - 2], 61) ^ w[t - 2] >> 6;
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    /* 2. 80 rounds over the working variables a..h (FIPS 180-4's
     * names), each shifting them along by one: scalars, so that the
     * compiler keeps them in registers. */
    uint64_t a = chain[0], b = chain[1], c = chain[2], d = chain[3];
    uint64_t e = chain[4], f = chain[5], g = chain[6], h = chain[7];
    for (int t = 0; t < 80; t++) {
        uint64_t sum1 = rotr(e, 14) ^ rotr(e, 18) ^ rotr(e, 41);
        uint64_t choose = (e & f) ^ (~e & g);
        uint64_t t1 = h + sum1 + choose + round_constants[t] + w[t];
        uint64_t sum0 = rotr(a, 28) ^ rotr(a, 34) ^ rotr(a, 39);
        uint64_t majority = (a & b) ^ (a & c) ^ (b & c);
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

static struct sha2_blocks blocks_of(struct sha512 *state)
{
    return (struct sha2_blocks){
        .chaining = state->h,
        .compress = compress,
        .block = state->block,
        .block_size = SHA512_BLOCK_SIZE,
        .buffered = &state->buffered,
        .total = &state->total,
    };
}

void sha512_init(struct sha512 *state)
{
    for (int i = 0; i < 8; i++)
        state->h[i] = initial_hash[i];
    state->total = 0;
    state->buffered = 0;
}

void sha512_update(struct sha512 *state, const void *data, size_t size)
{
    struct sha2_blocks blocks = blocks_of(state);
    sha2_blocks_update(&blocks, data, size);
}

void sha512_final(struct sha512 *state, uint8_t digest[SHA512_DIGEST_SIZE])
{
    struct sha2_blocks blocks = blocks_of(state);
    sha2_blocks_finish(&blocks);
    for (int i = 0; i < SHA512_DIGEST_SIZE; i++)
        digest[i] = (uint8_t)(state->h[i / 8] >> (56 - 8 * (i % 8)));
}

void sha512(const void *data, size_t size, uint8_t digest[SHA512_DIGEST_SIZE])
{
    struct sha512 state;
    sha512_init(&state);
    sha512_update(&state, data, size);
    sha512_final(&state, digest);
}
