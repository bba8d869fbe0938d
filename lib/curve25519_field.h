/*
 * Arithmetic modulo p = 2^255 - 19, the field of Curve25519 and Ed25519
 * (lib/curve25519_field.c), for lib/ed25519.c.
 *
 * An element is five 51-bit limbs, value = sum of limb[i] * 2^(51 i), so a
 * product of two limbs fits the 128-bit integers GCC and clang have on
 * 64-bit targets (on RISC-V, mul and mulhu, no libgcc call). Limbs are not
 * kept below 2^51 nor the value below p: every function takes and returns
 * limbs below 2^52, and only fe25519_to_bytes() gives the one canonical
 * value. Outputs may alias inputs.
 *
 * Nothing here is constant time: Ed25519 verification works on public data
 * only (see ed25519.c).
 */
#ifndef LIB_CURVE25519_FIELD_H
#define LIB_CURVE25519_FIELD_H

#include <stdbool.h>
#include <stdint.h>

struct fe25519 {
    uint64_t limb[5];
};

/* The 32 bytes little-endian, the top bit ignored: the value may be >= p
 * (fe25519_to_bytes() shows whether it was). */
void fe25519_from_bytes(struct fe25519 *out, const uint8_t bytes[32]);
/* The canonical encoding: the value reduced below p, little-endian. */
void fe25519_to_bytes(uint8_t bytes[32], const struct fe25519 *a);

void fe25519_add(struct fe25519 *out, const struct fe25519 *a, const struct fe25519 *b);
void fe25519_sub(struct fe25519 *out, const struct fe25519 *a, const struct fe25519 *b);
void fe25519_neg(struct fe25519 *out, const struct fe25519 *a);
void fe25519_mul(struct fe25519 *out, const struct fe25519 *a, const struct fe25519 *b);
void fe25519_square(struct fe25519 *out, const struct fe25519 *a);
/* 1/a, as a^(p-2); 0 for 0. */
void fe25519_invert(struct fe25519 *out, const struct fe25519 *a);
/* a^((p-5)/8), the power a square root is made from (RFC 8032, 5.1.3). */
void fe25519_pow_p58(struct fe25519 *out, const struct fe25519 *a);

bool fe25519_equal(const struct fe25519 *a, const struct fe25519 *b);
bool fe25519_is_zero(const struct fe25519 *a);
/* The low bit of the canonical value: Ed25519's sign of x. */
bool fe25519_is_odd(const struct fe25519 *a);

#endif
