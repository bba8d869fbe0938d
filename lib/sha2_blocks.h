/*
 * What SHA-256 and SHA-512 do alike, apart from their compression functions
 * (lib/sha2_blocks.c): cut the message into blocks, keeping a partial one
 * between updates, and pad the last one. The two differ there only in the
 * block size (64 or 128 bytes) and, with it, the size of the length field
 * (8 or 16 bytes), so one copy serves both.
 */
#ifndef LIB_SHA2_BLOCKS_H
#define LIB_SHA2_BLOCKS_H

#include <stddef.h>
#include <stdint.h>

/* A hash's compression function: folds one block into its chaining value. */
typedef void sha2_compress(void *chaining, const uint8_t *block);

/* A hash state's blocking part, pointing into its struct sha256/sha512. */
struct sha2_blocks {
    void *chaining;
    sha2_compress *compress;
    uint8_t *block; /* block_size bytes, the first *buffered of them waiting */
    size_t block_size;
    size_t *buffered;
    uint64_t *total;
};

/* Feeds `size` bytes of message to the compression function, whole blocks
 * at a time, and keeps the rest in the partial block. */
void sha2_blocks_update(const struct sha2_blocks *blocks, const void *data, size_t size);

/* Pads the message (FIPS 180-4, 5.1) and compresses its last block or two. */
void sha2_blocks_finish(const struct sha2_blocks *blocks);

#endif
