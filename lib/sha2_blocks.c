/*
 * The message blocking and padding SHA-256 and SHA-512 share (see
 * sha2_blocks.h).
 */
#include <aubade/string.h>

#include "sha2_blocks.h"

void sha2_blocks_update(const struct sha2_blocks *blocks, const void *data, size_t size)
{
    if (size == 0)
        return; /* data may be NULL, which even memcpy() of nothing may not take */
    const uint8_t *bytes = data;
    *blocks->total += size;
    /* 1. Top up a partial block, and compress it once it is whole. */
    if (*blocks->buffered > 0) {
        size_t room = blocks->block_size - *blocks->buffered;
        size_t taken = size < room ? size : room;
        memcpy(blocks->block + *blocks->buffered, bytes, taken);
        *blocks->buffered += taken;
        bytes += taken;
        size -= taken;
        if (*blocks->buffered < blocks->block_size)
            return;
        blocks->compress(blocks->chaining, blocks->block);
        *blocks->buffered = 0;
    }
    /* 2. Whole blocks straight from the caller's data, without a copy. */
    for (; size >= blocks->block_size; bytes += blocks->block_size, size -= blocks->block_size)
        blocks->compress(blocks->chaining, bytes);
    /* 3. Keep the rest for the next update or the padding. */
    memcpy(blocks->block, bytes, size);
    *blocks->buffered = size;
}

void sha2_blocks_finish(const struct sha2_blocks *blocks)
{
    /* The length field is an eighth of the block: 64 or 128 bits. */
    size_t length_size = blocks->block_size / 8;
    uint8_t *block = blocks->block;
    size_t used = *blocks->buffered;
    uint64_t total = *blocks->total;

    /* 1. A single 1 bit right after the message. */
    block[used++] = 0x80;
    /* 2. If the length field no longer fits, zeros to the end of this block,
     * and the field goes into one more. */
    if (used > blocks->block_size - length_size) {
        memset(block + used, 0, blocks->block_size - used);
        blocks->compress(blocks->chaining, block);
        used = 0;
    }
    memset(block + used, 0, blocks->block_size - used);
    /* 3. The message length in bits, big-endian, in the last bytes: byte i
     * from the end holds bits 8i..8i+7 of total * 8, which has 67 bits at
     * most (the bytes above them stay zero). */
    for (size_t i = 0; i < 9 && i < length_size; i++) {
        uint64_t bits = i < 8 ? total << 3 >> (8 * i) : total >> 61;
        block[blocks->block_size - 1 - i] = (uint8_t)bits;
    }
    blocks->compress(blocks->chaining, block);
    *blocks->buffered = 0;
}
