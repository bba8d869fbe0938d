/*
 * Arithmetic modulo p = 2^255 - 19 in five 51-bit limbs (see
 * curve25519_field.h). Reduction rests on 2^255 = 19 (mod p): what carries
 * out of the top limb comes back into the bottom one times 19.
 */
#include <aubade/string.h>

#include "curve25519_field.h"

#define LIMB_BITS 51
#define LIMB_MASK ((UINT64_C(1) << LIMB_BITS) - 1)

typedef unsigned __int128 u128;

static const struct fe25519 zero;

/* Brings limbs below 2^54 back below 2^52: each limb keeps 51 bits and
 * passes the rest up, the top one's times 19 to the bottom. */
static void carry(struct fe25519 *a)
{
    uint64_t *l = a->limb;
    for (int i = 0; i < 4; i++) {
        l[i + 1] += l[i] >> LIMB_BITS;
        l[i] &= LIMB_MASK;
    }
    l[0] += 19 * (l[4] >> LIMB_BITS);
    l[4] &= LIMB_MASK;
    /* Limb 0 got at most a few hundred on top of its 51 bits: one more
     * step settles it. */
    l[1] += l[0] >> LIMB_BITS;
    l[0] &= LIMB_MASK;
}

void fe25519_from_bytes(struct fe25519 *out, const uint8_t bytes[32])
{
    uint64_t w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = 0;
        for (int j = 7; j >= 0; j--)
            w[i] = w[i] << 8 | bytes[8 * i + j];
    }
    out->limb[0] = w[0] & LIMB_MASK;
    out->limb[1] = (w[0] >> 51 | w[1] << 13) & LIMB_MASK;
    out->limb[2] = (w[1] >> 38 | w[2] << 26) & LIMB_MASK;
    out->limb[3] = (w[2] >> 25 | w[3] << 39) & LIMB_MASK;
    out->limb[4] = (w[3] >> 12) & LIMB_MASK; /* drops bit 255 */
}

void fe25519_to_bytes(uint8_t bytes[32], const struct fe25519 *a)
{
    struct fe25519 t = *a;
    uint64_t *l = t.limb;
    /* 1. Limbs below 2^52, so the value is below 2p. */
    carry(&t);
    /* 2. q = 1 exactly when value >= p, that is when value + 19 reaches
     * 2^255: the carry out of bit 254 of value + 19. */
    uint64_t q = (l[0] + 19) >> LIMB_BITS;
    for (int i = 1; i < 5; i++)
        q = (l[i] + q) >> LIMB_BITS;
    /* 3. value - q p = value + 19 q - q 2^255: add 19 q, carry, and drop
     * bit 255. */
    l[0] += 19 * q;
    for (int i = 0; i < 4; i++) {
        l[i + 1] += l[i] >> LIMB_BITS;
        l[i] &= LIMB_MASK;
    }
    l[4] &= LIMB_MASK;
    /* 4. The 255 bits, little-endian. */
    uint64_t w[4] = {
        l[0] | l[1] << 51,
        l[1] >> 13 | l[2] << 38,
        l[2] >> 26 | l[3] << 25,
        l[3] >> 39 | l[4] << 12,
    };
    for (int i = 0; i < 32; i++)
        bytes[i] = (uint8_t)(w[i / 8] >> (8 * (i % 8)));
}

void fe25519_add(struct fe25519 *out, const struct fe25519 *a, const struct fe25519 *b)
{
    for (int i = 0; i < 5; i++)
        out->limb[i] = a->limb[i] + b->limb[i];
    carry(out);
}

/* 4p in limbs, each above any limb below 2^52 that is taken from it. */
static const struct fe25519 four_p = {{
    4 * (LIMB_MASK - 18),
    4 * LIMB_MASK,
    4 * LIMB_MASK,
    4 * LIMB_MASK,
    4 * LIMB_MASK,
}};

void fe25519_sub(struct fe25519 *out, const struct fe25519 *a, const struct fe25519 *b)
{
    for (int i = 0; i < 5; i++)
        out->limb[i] = a->limb[i] + four_p.limb[i] - b->limb[i];
    carry(out);
}

void fe25519_neg(struct fe25519 *out, const struct fe25519 *a)
{
    fe25519_sub(out, &zero, a);
}

/* Carries 128-bit column sums into limbs below 2^52. A column's carry is
 * below 2^64, but the top one comes back times 19, which may not fit: it
 * is added in 128 bits. */
static void carry_wide(struct fe25519 *out, u128 r0, u128 r1, u128 r2, u128 r3, u128 r4)
{
    r1 += (uint64_t)(r0 >> LIMB_BITS);
    r2 += (uint64_t)(r1 >> LIMB_BITS);
    r3 += (uint64_t)(r2 >> LIMB_BITS);
    r4 += (uint64_t)(r3 >> LIMB_BITS);
    r0 = ((uint64_t)r0 & LIMB_MASK) + (u128)19 * (uint64_t)(r4 >> LIMB_BITS);
    uint64_t *l = out->limb;
    l[0] = (uint64_t)r0 & LIMB_MASK;
    l[1] = ((uint64_t)r1 & LIMB_MASK) + (uint64_t)(r0 >> LIMB_BITS);
    l[2] = (uint64_t)r2 & LIMB_MASK;
    l[3] = (uint64_t)r3 & LIMB_MASK;
    l[4] = (uint64_t)r4 & LIMB_MASK;
}

/* Written out rather than looped: GCC keeps the loop's sums in memory, at
 * some three times the instructions. */
void fe25519_mul(struct fe25519 *out, const struct fe25519 *a, const struct fe25519 *b)
{
    /* A product of limbs i and j weighs 2^(51 (i + j)); where i + j >= 5 it
     * wraps to 2^(51 (i + j - 5)) times 19. Limbs below 2^52 (times 19:
     * 2^57) keep each column below 2^112. */
    uint64_t x0 = a->limb[0], x1 = a->limb[1], x2 = a->limb[2], x3 = a->limb[3],
             x4 = a->limb[4];
    uint64_t y0 = b->limb[0], y1 = b->limb[1], y2 = b->limb[2], y3 = b->limb[3],
             y4 = b->limb[4];
    uint64_t y1_19 = 19 * y1, y2_19 = 19 * y2, y3_19 = 19 * y3, y4_19 = 19 * y4;
    u128 r0 = (u128)x0 * y0 + (u128)x1 * y4_19 + (u128)x2 * y3_19 + (u128)x3 * y2_19 +
              (u128)x4 * y1_19;
    u128 r1 = (u128)x0 * y1 + (u128)x1 * y0 + (u128)x2 * y4_19 + (u128)x3 * y3_19 +
              (u128)x4 * y2_19;
    u128 r2 = (u128)x0 * y2 + (u128)x1 * y1 + (u128)x2 * y0 + (u128)x3 * y4_19 +
              (u128)x4 * y3_19;
    u128 r3 = (u128)x0 * y3 + (u128)x1 * y2 + (u128)x2 * y1 + (u128)x3 * y0 +
              (u128)x4 * y4_19;
    u128 r4 = (u128)x0 * y4 + (u128)x1 * y3 + (u128)x2 * y2 + (u128)x3 * y1 + (u128)x4 * y0;
    carry_wide(out, r0, r1, r2, r3, r4);
}

/* The products of fe25519_mul() with a = b: each x_i x_j with i != j comes
 * twice, so 15 products instead of 25. */
void fe25519_square(struct fe25519 *out, const struct fe25519 *a)
{
    uint64_t x0 = a->limb[0], x1 = a->limb[1], x2 = a->limb[2], x3 = a->limb[3],
             x4 = a->limb[4];
    uint64_t x0_2 = 2 * x0, x1_2 = 2 * x1;
    uint64_t x3_19 = 19 * x3, x4_19 = 19 * x4;
    uint64_t x3_38 = 2 * x3_19, x4_38 = 2 * x4_19;
    u128 r0 = (u128)x0 * x0 + (u128)x1 * x4_38 + (u128)x2 * x3_38;
    u128 r1 = (u128)x0_2 * x1 + (u128)x2 * x4_38 + (u128)x3 * x3_19;
    u128 r2 = (u128)x0_2 * x2 + (u128)x1 * x1 + (u128)x3 * x4_38;
    u128 r3 = (u128)x0_2 * x3 + (u128)x1_2 * x2 + (u128)x4 * x4_19;
    u128 r4 = (u128)x0_2 * x4 + (u128)x1_2 * x3 + (u128)x2 * x2;
    carry_wide(out, r0, r1, r2, r3, r4);
}

/* a squared n times: a^(2^n). */
static void square_times(struct fe25519 *out, const struct fe25519 *a, int n)
{
    *out = *a;
    while (n--)
        fe25519_square(out, out);
}

/* a^(2^250 - 1), which both powers below start from, and a^11 on the way.
 * Each step's exponent is in its name: z_k_0 = a^(2^k - 1). */
static void pow_2_250_1(struct fe25519 *z_250_0, struct fe25519 *z11, const struct fe25519 *a)
{
    struct fe25519 z2, z9, t, z_5_0, z_10_0, z_20_0, z_50_0, z_100_0;
    fe25519_square(&z2, a);
    square_times(&t, &z2, 2);
    fe25519_mul(&z9, &t, a);
    fe25519_mul(z11, &z9, &z2);
    fe25519_square(&t, z11);
    fe25519_mul(&z_5_0, &t, &z9); /* 22 + 9 = 31 */
    square_times(&t, &z_5_0, 5);
    fe25519_mul(&z_10_0, &t, &z_5_0);
    square_times(&t, &z_10_0, 10);
    fe25519_mul(&z_20_0, &t, &z_10_0);
    square_times(&t, &z_20_0, 20);
    fe25519_mul(&t, &t, &z_20_0); /* z_40_0 */
    square_times(&t, &t, 10);
    fe25519_mul(&z_50_0, &t, &z_10_0);
    square_times(&t, &z_50_0, 50);
    fe25519_mul(&z_100_0, &t, &z_50_0);
    square_times(&t, &z_100_0, 100);
    fe25519_mul(&t, &t, &z_100_0); /* z_200_0 */
    square_times(&t, &t, 50);
    fe25519_mul(z_250_0, &t, &z_50_0);
}

void fe25519_invert(struct fe25519 *out, const struct fe25519 *a)
{
    /* p - 2 = 2^255 - 21 = (2^250 - 1) 2^5 + 11. */
    struct fe25519 z_250_0, z11;
    pow_2_250_1(&z_250_0, &z11, a);
    square_times(&z_250_0, &z_250_0, 5);
    fe25519_mul(out, &z_250_0, &z11);
}

void fe25519_pow_p58(struct fe25519 *out, const struct fe25519 *a)
{
    /* (p - 5) / 8 = 2^252 - 3 = (2^250 - 1) 2^2 + 1. */
    struct fe25519 z_250_0, z11;
    pow_2_250_1(&z_250_0, &z11, a);
    square_times(&z_250_0, &z_250_0, 2);
    fe25519_mul(out, &z_250_0, a);
}

bool fe25519_equal(const struct fe25519 *a, const struct fe25519 *b)
{
    uint8_t x[32], y[32];
    fe25519_to_bytes(x, a);
    fe25519_to_bytes(y, b);
    return memcmp(x, y, sizeof(x)) == 0;
}

bool fe25519_is_zero(const struct fe25519 *a)
{
    return fe25519_equal(a, &zero);
}

bool fe25519_is_odd(const struct fe25519 *a)
{
    uint8_t bytes[32];
    fe25519_to_bytes(bytes, a);
    return bytes[0] & 1;
}
