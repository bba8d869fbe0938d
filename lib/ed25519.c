/*
 * Ed25519 signature verification (RFC 8032, 5.1.7), so the loader can
 * refuse a payload whose digest its key did not sign.
 *
 * The check is the cofactorless one: [S]B - [k]A, encoded, must be R's 32
 * bytes exactly, with k = SHA-512(R || A || M) mod L. Every signature
 * RFC 8032's signing makes passes it. Comparing encodings rather than
 * points also refuses an R that does not decode: the encoding of a point
 * is canonical (y < p, the sign bit clear when x = 0) and decodes, so
 * bytes that do not decode never equal it.
 *
 * Nothing here is constant time: a verifier handles only public data (the
 * key, the message, the signature), so there is no secret for timing to
 * leak.
 *
 * Points are in extended twisted Edwards coordinates (X : Y : Z : T) with
 * x = X/Z, y = Y/Z, xy = T/Z, on -x^2 + y^2 = 1 + d x^2 y^2 (RFC 8032,
 * 5.1.4); field arithmetic is in curve25519_field.c.
 */
#include <aubade/ed25519.h>
#include <aubade/sha2.h>
#include <aubade/string.h>

#include "curve25519_field.h"

struct point {
    struct fe25519 x, y, z, t;
};

static const struct fe25519 one = {{1, 0, 0, 0, 0}};
/* d = -121665 / 121666, 2d, and a square root of -1: 2^((p - 1) / 4). */
static const struct fe25519 curve_d = {
    {0x34dca135978a3, 0x1a8283b156ebd, 0x5e7a26001c029, 0x739c663a03cbb, 0x52036cee2b6ff}};
static const struct fe25519 curve_2d = {
    {0x69b9426b2f159, 0x35050762add7a, 0x3cf44c0038052, 0x6738cc7407977, 0x2406d9dc56dff}};
static const struct fe25519 sqrt_minus_1 = {
    {0x61b274a0ea0b0, 0x0d5a5fc8f189d, 0x7ef5e9cbd0c60, 0x78595a6804c9e, 0x2b8324804fc1d}};
/* The base point B: y = 4/5, x the even root. */
static const struct fe25519 base_x = {
    {0x62d608f25d51a, 0x412a4b4f6592a, 0x75b7171a4b31d, 0x1ff60527118fe, 0x216936d3cd6e5}};
static const struct fe25519 base_y = {
    {0x6666666666658, 0x4cccccccccccc, 0x1999999999999, 0x3333333333333, 0x6666666666666}};

/* The group order L = 2^252 + 27742317777372353535851937790883648493, in
 * 64-bit words, least significant first. */
static const uint64_t group_order[4] = {
    0x5812631a5cf5d3ed,
    0x14def9dea2f79cd6,
    0,
    0x1000000000000000,
};

/* ------------------------------------------------------------ scalars */

static bool below_order(const uint64_t s[4])
{
    for (int i = 3; i >= 0; i--)
        if (s[i] != group_order[i])
            return s[i] < group_order[i];
    return false;
}

static void subtract_order(uint64_t s[4])
{
    uint64_t borrow = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t difference = s[i] - group_order[i] - borrow;
        borrow = s[i] < group_order[i] || (s[i] == group_order[i] && borrow);
        s[i] = difference;
    }
}

static void scalar_from_bytes(uint64_t s[4], const uint8_t bytes[32])
{
    for (int i = 0; i < 4; i++) {
        s[i] = 0;
        for (int j = 7; j >= 0; j--)
            s[i] = s[i] << 8 | bytes[8 * i + j];
    }
}

/* The 512-bit little-endian hash mod L, one bit at a time from the top:
 * r < L before each step, so 2r + 1 < 2L fits 254 bits and one
 * subtraction brings it back below L. */
static void reduce_hash(uint64_t r[4], const uint8_t hash[SHA512_DIGEST_SIZE])
{
    memset(r, 0, 4 * sizeof(r[0]));
    for (int bit = 511; bit >= 0; bit--) {
        for (int i = 3; i > 0; i--)
            r[i] = r[i] << 1 | r[i - 1] >> 63;
        r[0] = r[0] << 1 | ((hash[bit / 8] >> (bit % 8)) & 1);
        if (!below_order(r))
            subtract_order(r);
    }
}

static unsigned scalar_bit(const uint64_t s[4], int bit)
{
    return (s[bit / 64] >> (bit % 64)) & 1;
}

/* ------------------------------------------------------------- points */

static void point_add(struct point *out, const struct point *p, const struct point *q)
{
    /* RFC 8032, 5.1.4 (add-2008-hwcd-3). */
    struct fe25519 a, b, c, d, e, f, g, h, t;
    fe25519_sub(&a, &p->y, &p->x);
    fe25519_sub(&t, &q->y, &q->x);
    fe25519_mul(&a, &a, &t);
    fe25519_add(&b, &p->y, &p->x);
    fe25519_add(&t, &q->y, &q->x);
    fe25519_mul(&b, &b, &t);
    fe25519_mul(&c, &p->t, &q->t);
    fe25519_mul(&c, &c, &curve_2d);
    fe25519_mul(&d, &p->z, &q->z);
    fe25519_add(&d, &d, &d);
    fe25519_sub(&e, &b, &a);
    fe25519_sub(&f, &d, &c);
    fe25519_add(&g, &d, &c);
    fe25519_add(&h, &b, &a);
    fe25519_mul(&out->x, &e, &f);
    fe25519_mul(&out->y, &g, &h);
    fe25519_mul(&out->t, &e, &h);
    fe25519_mul(&out->z, &f, &g);
}

static void point_double(struct point *out, const struct point *p)
{
    /* RFC 8032, 5.1.4 (dbl-2008-hwcd). */
    struct fe25519 a, b, c, e, f, g, h;
    fe25519_square(&a, &p->x);
    fe25519_square(&b, &p->y);
    fe25519_square(&c, &p->z);
    fe25519_add(&c, &c, &c);
    fe25519_add(&h, &a, &b);
    fe25519_add(&e, &p->x, &p->y);
    fe25519_square(&e, &e);
    fe25519_sub(&e, &h, &e);
    fe25519_sub(&g, &a, &b);
    fe25519_add(&f, &c, &g);
    fe25519_mul(&out->x, &e, &f);
    fe25519_mul(&out->y, &g, &h);
    fe25519_mul(&out->t, &e, &h);
    fe25519_mul(&out->z, &f, &g);
}

static void point_negate(struct point *out, const struct point *p)
{
    fe25519_neg(&out->x, &p->x);
    out->y = p->y;
    out->z = p->z;
    fe25519_neg(&out->t, &p->t);
}

/* Decodes a point (RFC 8032, 5.1.3), or returns false for bytes that are
 * not the canonical encoding of one. */
static bool point_decode(struct point *out, const uint8_t bytes[32])
{
    /* 1. y is the low 255 bits, and must be below p: re-encoded, it gives
     * the same bytes. The top bit is the sign of x. */
    struct fe25519 y;
    uint8_t canonical[32];
    fe25519_from_bytes(&y, bytes);
    fe25519_to_bytes(canonical, &y);
    bool x_odd = bytes[31] >> 7;
    canonical[31] |= (uint8_t)(x_odd << 7);
    if (memcmp(canonical, bytes, sizeof(canonical)) != 0)
        return false;

    /* 2. x^2 = u / v with u = y^2 - 1, v = d y^2 + 1; the candidate root
     * is x = u v^3 (u v^7)^((p - 5) / 8). */
    struct fe25519 y2, u, v, v3, t, x;
    fe25519_square(&y2, &y);
    fe25519_sub(&u, &y2, &one);
    fe25519_mul(&v, &y2, &curve_d);
    fe25519_add(&v, &v, &one);
    fe25519_square(&v3, &v);
    fe25519_mul(&v3, &v3, &v);
    fe25519_square(&t, &v3);
    fe25519_mul(&t, &t, &v);
    fe25519_mul(&t, &t, &u);
    fe25519_pow_p58(&t, &t);
    fe25519_mul(&x, &u, &v3);
    fe25519_mul(&x, &x, &t);

    /* 3. If v x^2 = u, x is a root; if v x^2 = -u, x sqrt(-1) is; else
     * u / v has none and there is no point. */
    struct fe25519 vx2, minus_u;
    fe25519_square(&vx2, &x);
    fe25519_mul(&vx2, &vx2, &v);
    fe25519_neg(&minus_u, &u);
    if (fe25519_equal(&vx2, &minus_u))
        fe25519_mul(&x, &x, &sqrt_minus_1);
    else if (!fe25519_equal(&vx2, &u))
        return false;

    /* 4. The root of the sign asked for: x = 0 has no odd one. */
    if (x_odd && fe25519_is_zero(&x))
        return false;
    if (fe25519_is_odd(&x) != x_odd)
        fe25519_neg(&x, &x);

    out->x = x;
    out->y = y;
    out->z = one;
    fe25519_mul(&out->t, &x, &y);
    return true;
}

static void point_encode(uint8_t bytes[32], const struct point *p)
{
    struct fe25519 z_inverse, x, y;
    fe25519_invert(&z_inverse, &p->z);
    fe25519_mul(&x, &p->x, &z_inverse);
    fe25519_mul(&y, &p->y, &z_inverse);
    fe25519_to_bytes(bytes, &y);
    bytes[31] |= (uint8_t)(fe25519_is_odd(&x) << 7);
}

/* [s]B + [k]Q in one pass over the bits (Straus): each step doubles once
 * and adds B, Q or B + Q, as the two bits ask. Both scalars are below
 * L < 2^253. */
static void double_scalar_mul(struct point *out, const uint64_t s[4], const uint64_t k[4],
                              const struct point *q)
{
    struct point addends[3];
    addends[0] = (struct point){.x = base_x, .y = base_y, .z = one};
    fe25519_mul(&addends[0].t, &base_x, &base_y);
    addends[1] = *q;
    point_add(&addends[2], &addends[0], q);

    struct point r = {.y = one, .z = one}; /* the neutral element (0, 1) */
    for (int bit = 252; bit >= 0; bit--) {
        point_double(&r, &r);
        unsigned which = scalar_bit(s, bit) | scalar_bit(k, bit) << 1;
        if (which)
            point_add(&r, &r, &addends[which - 1]);
    }
    *out = r;
}

/* -------------------------------------------------------- verification */

bool ed25519_verify(const uint8_t signature[64], const uint8_t *message, size_t size,
                    const uint8_t public_key[32])
{
    const uint8_t *r_bytes = signature, *s_bytes = signature + 32;

    /* 1. S must be below L: S + L would verify as well, and RFC 8032 asks
     * for one signature per (key, message, R). */
    uint64_t s[4];
    scalar_from_bytes(s, s_bytes);
    if (!below_order(s))
        return false;

    /* 2. The public key must decode to a point A. */
    struct point a;
    if (!point_decode(&a, public_key))
        return false;

    /* 3. k = SHA-512(R || A || M) mod L. */
    struct sha512 hash;
    uint8_t digest[SHA512_DIGEST_SIZE];
    sha512_init(&hash);
    sha512_update(&hash, r_bytes, 32);
    sha512_update(&hash, public_key, 32);
    sha512_update(&hash, message, size);
    sha512_final(&hash, digest);
    uint64_t k[4];
    reduce_hash(k, digest);

    /* 4. [S]B - [k]A must be R, byte for byte. */
    struct point minus_a, check;
    uint8_t check_bytes[32];
    point_negate(&minus_a, &a);
    double_scalar_mul(&check, s, k, &minus_a);
    point_encode(check_bytes, &check);
    return memcmp(check_bytes, r_bytes, sizeof(check_bytes)) == 0;
}
