/*
 * Fuzz target: Ed25519 verification (lib/ed25519.c and the SHA-512 and
 * field arithmetic under it), built for the host by tools/fuzz.
 *
 * The loader will verify a signature over its payload's digest; a bug there
 * either accepts what the key did not sign or reads out of bounds. So the
 * target starts from one valid triple, RFC 8032's TEST 3, and the input
 * says how to spoil it: its bytes are XORed over public key || signature ||
 * message, and any bytes past those 98 are appended to the message. The
 * message goes to ed25519_verify() in a heap buffer of exactly its size,
 * so AddressSanitizer catches a read past its end.
 *
 * The promise checked: ed25519_verify() accepts exactly when the input
 * changes nothing (no byte of it non-zero, none appended). Accepting any
 * other triple would mean a forgery, or a bug; refusing the untouched one
 * is a bug too.
 *
 * Seeds (made by tools/fuzz): the empty input, the 98-byte all-zero one,
 * single bit flips in the key, R, S and the message, and one appended byte.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aubade/ed25519.h>

/* RFC 8032, 7.1, TEST 3. */
static const uint8_t public_key[ED25519_PUBLIC_KEY_SIZE] = {
    0xfc, 0x51, 0xcd, 0x8e, 0x62, 0x18, 0xa1, 0xa3, 0x8d, 0xa4, 0x7e, 0xd0, 0x02, 0x30, 0xf0, 0x58,
    0x08, 0x16, 0xed, 0x13, 0xba, 0x33, 0x03, 0xac, 0x5d, 0xeb, 0x91, 0x15, 0x48, 0x90, 0x80, 0x25,
};
static const uint8_t signature[ED25519_SIGNATURE_SIZE] = {
    0x62, 0x91, 0xd6, 0x57, 0xde, 0xec, 0x24, 0x02, 0x48, 0x27, 0xe6, 0x9c, 0x3a, 0xbe, 0x01, 0xa3,
    0x0c, 0xe5, 0x48, 0xa2, 0x84, 0x74, 0x3a, 0x44, 0x5e, 0x36, 0x80, 0xd7, 0xdb, 0x5a, 0xc3, 0xac,
    0x18, 0xff, 0x9b, 0x53, 0x8d, 0x16, 0xf2, 0x90, 0xae, 0x67, 0xf7, 0x60, 0x98, 0x4d, 0xc6, 0x59,
    0x4a, 0x7c, 0x15, 0xe9, 0x71, 0x6e, 0xd2, 0x8d, 0xc0, 0x27, 0xbe, 0xce, 0xea, 0x1e, 0xc4, 0x0a,
};
static const uint8_t message[] = {0xaf, 0x82};

#define KEY_OFFSET 0
#define SIGNATURE_OFFSET (KEY_OFFSET + sizeof(public_key))
#define MESSAGE_OFFSET (SIGNATURE_OFFSET + sizeof(signature))
#define TRIPLE_SIZE (MESSAGE_OFFSET + sizeof(message))


/* `size` bytes of `original`, XORed with the input's bytes from `offset`
 * on (zeros where the input ends first). */
static void spoil(uint8_t *out, const uint8_t *original, size_t size, const uint8_t *data,
                  size_t data_size, size_t offset)
{
    for (size_t i = 0; i < size; i++)
        out[i] = original[i] ^ (offset + i < data_size ? data[offset + i] : 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* 1. The triple, spoiled as the input says. */
    uint8_t key[sizeof(public_key)], sig[sizeof(signature)];
    spoil(key, public_key, sizeof(key), data, size, KEY_OFFSET);
    spoil(sig, signature, sizeof(sig), data, size, SIGNATURE_OFFSET);
    size_t appended = size > TRIPLE_SIZE ? size - TRIPLE_SIZE : 0;
    size_t message_size = sizeof(message) + appended;
    uint8_t *msg = malloc(message_size);
    if (msg == NULL)
        abort();
    spoil(msg, message, sizeof(message), data, size, MESSAGE_OFFSET);
    if (appended)
        memcpy(msg + sizeof(message), data + TRIPLE_SIZE, appended);

    /* 2. Is it the untouched triple? */
    bool untouched = appended == 0;
    for (size_t i = 0; i < size && untouched; i++)
        untouched = data[i] == 0;

    /* 3. Verified exactly when it is. */
    bool verified = ed25519_verify(sig, msg, message_size, key);
    free(msg);
    if (verified != untouched) {
        fprintf(stderr, "fuzz: %s triple %s\n", untouched ? "untouched" : "spoiled",
                verified ? "verified" : "refused");
        abort();
    }
    /* tools/fuzz runs inputs one by one with this set, to show each verdict. */
    if (getenv("AUBADE_FUZZ_REPORT") != NULL)
        fprintf(stderr, "verdict: %s\n", verified ? "accepted" : "rejected reason=bad-signature");
    return 0;
}
