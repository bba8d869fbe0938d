/*
 * SHA-256 and SHA-512 (FIPS 180-4). The loader checks its payload against a
 * SHA-256 digest; Ed25519 (aubade/ed25519.h) hashes with SHA-512.
 *
 * Each hash is used either in one call, sha256(), or in steps: init, any
 * number of updates with the message's pieces in order, final. A state is
 * plain data: no allocation, nothing to free, and final leaves it spent (init
 * it again to hash another message).
 */
#ifndef AUBADE_SHA2_H
#define AUBADE_SHA2_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32
#define SHA512_DIGEST_SIZE 64
#define SHA256_BLOCK_SIZE 64
#define SHA512_BLOCK_SIZE 128

struct sha256 {
    uint32_t h[8];   /* the chaining value */
    uint64_t total;  /* message bytes taken so far */
    size_t buffered; /* bytes of a partial block waiting in block[] */
    uint8_t block[SHA256_BLOCK_SIZE];
};

struct sha512 {
    uint64_t h[8];
    uint64_t total; /* in bytes: 2^64 of them is more than any boot hashes */
    size_t buffered;
    uint8_t block[SHA512_BLOCK_SIZE];
};

void sha256_init(struct sha256 *state);
void sha256_update(struct sha256 *state, const void *data, size_t size);
void sha256_final(struct sha256 *state, uint8_t digest[SHA256_DIGEST_SIZE]);
void sha256(const void *data, size_t size, uint8_t digest[SHA256_DIGEST_SIZE]);

void sha512_init(struct sha512 *state);
void sha512_update(struct sha512 *state, const void *data, size_t size);
void sha512_final(struct sha512 *state, uint8_t digest[SHA512_DIGEST_SIZE]);
void sha512(const void *data, size_t size, uint8_t digest[SHA512_DIGEST_SIZE]);

#endif
