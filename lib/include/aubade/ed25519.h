/*
 * Ed25519 signature verification (RFC 8032), for the loader to check a
 * signed payload. Verification only: nothing in Aubade signs.
 */
#ifndef AUBADE_ED25519_H
#define AUBADE_ED25519_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ED25519_SIGNATURE_SIZE 64
#define ED25519_PUBLIC_KEY_SIZE 32

/* Whether `signature` (R || S) is public_key's signature of the `size`
 * bytes at `message`. False for a key or an R that is not a canonical
 * point encoding, and for S >= L. */
bool ed25519_verify(const uint8_t signature[64], const uint8_t *message, size_t size,
                    const uint8_t public_key[32]);

#endif
