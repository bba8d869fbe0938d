/*
 * The payload (payload.S): a small header, then the kernel ELF, the first
 * user program's and the kernel's relocation table, each page-aligned. tools/aubade/payload.py writes it
 * and documents the format; a header that does not hold is a panic, since
 * nothing in the payload can be trusted then.
 *
 * Nothing is read before the digest holds: the SHA-256 of every byte but the
 * digest and signature fields, which sit at fixed offsets for that reason.
 * A loader built with a key (`scons key=PATH`, build/BOARD/loader/payload_key.c)
 * then requires the signature, Ed25519 over the digest, by that key.
 */
#include <aubade/log.h>
#include <aubade/sha2.h>
#include <aubade/string.h>

#include "loader.h"

#define PAYLOAD_VERSION 2

enum payload_entry { PAYLOAD_KERNEL, PAYLOAD_USER, PAYLOAD_RELOCATIONS, PAYLOAD_ENTRIES };

struct payload_header {
    char magic[8]; /* "AUBPAYLD" */
    uint32_t version;
    uint32_t count; /* PAYLOAD_ENTRIES */
    uint8_t digest[SHA256_DIGEST_SIZE];
    uint8_t signature[64]; /* all zeros: unsigned */
    struct {
        uint64_t offset; /* from the payload's first byte */
        uint64_t size;
    } entries[PAYLOAD_ENTRIES];
};

_Static_assert(__builtin_offsetof(struct payload_header, digest) == 16, "payload.py's layout");
_Static_assert(__builtin_offsetof(struct payload_header, signature) == 48, "payload.py's layout");
_Static_assert(__builtin_offsetof(struct payload_header, entries) == 112, "payload.py's layout");

/* The key the build gave, and Ed25519's verdict by it over the digest
 * (payloadkey.py writes them: Ed25519 is linked in only with a key). */
extern const bool payload_key_present;
extern const uint8_t payload_public_key[32];
bool payload_signature_holds(const uint8_t signature[64], const uint8_t digest[32]);

/* A key's name: the first 8 bytes of the SHA-256 of its 32 raw bytes, as 16
 * hex digits (payloadkey.fingerprint says the same). */
#define FINGERPRINT_BYTES 8
#define HEX_PREFIX_BYTES 8

static void hex(char *text, const uint8_t *bytes, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        text[2 * i] = "0123456789abcdef"[bytes[i] >> 4];
        text[2 * i + 1] = "0123456789abcdef"[bytes[i] & 0xf];
    }
    text[2 * count] = '\0';
}

static void key_fingerprint(char text[2 * FINGERPRINT_BYTES + 1])
{
    uint8_t digest[SHA256_DIGEST_SIZE];
    sha256(payload_public_key, sizeof(payload_public_key), digest);
    hex(text, digest, FINGERPRINT_BYTES);
}

static uint64_t microseconds(uint64_t ticks, uint64_t timebase_hz)
{
    return timebase_hz ? ticks * 1000000 / timebase_hz : 0;
}

/* Every byte but the digest and the signature: a flip anywhere else, the
 * magic, the padding or either ELF, is a mismatch. Nothing but the size
 * (from the linker) is trusted yet. */
static void check_digest(const struct payload_header *header, uint64_t size,
                         uint64_t timebase_hz)
{
    uint64_t start = read_time();
    const uint8_t *bytes = payload_start;
    size_t hashed_from = __builtin_offsetof(struct payload_header, entries);
    struct sha256 context;
    sha256_init(&context);
    sha256_update(&context, bytes, __builtin_offsetof(struct payload_header, digest));
    sha256_update(&context, bytes + hashed_from, size - hashed_from);
    uint8_t computed[SHA256_DIGEST_SIZE];
    sha256_final(&context, computed);
    uint64_t took = read_time() - start;

    char computed_text[2 * HEX_PREFIX_BYTES + 1];
    hex(computed_text, computed, HEX_PREFIX_BYTES);
    if (memcmp(computed, header->digest, SHA256_DIGEST_SIZE) != 0) {
        char expected_text[2 * HEX_PREFIX_BYTES + 1];
        hex(expected_text, header->digest, HEX_PREFIX_BYTES);
        loader_panic("payload-digest",
                     "the header says sha256 %s..., the 0x%lx bytes hash to %s...: "
                     "the payload was changed after the build",
                     expected_text, size, computed_text);
    }
    log_event("loader", "payload", "bytes=0x%lx sha256=%s us=%lu", size, computed_text,
              microseconds(took, timebase_hz));
}

static bool all_zero(const uint8_t *bytes, size_t size)
{
    uint8_t any = 0;
    for (size_t i = 0; i < size; i++)
        any |= bytes[i];
    return any == 0;
}

/* With a key built in, only a payload whose digest that key signed. */
static void check_signature(const struct payload_header *header, uint64_t timebase_hz)
{
    if (!payload_key_present)
        return;
    char fingerprint[2 * FINGERPRINT_BYTES + 1];
    key_fingerprint(fingerprint);
    if (all_zero(header->signature, sizeof(header->signature)))
        loader_panic("payload-signature",
                     "payload is unsigned; this loader requires a signature by key %s",
                     fingerprint);
    uint64_t start = read_time();
    bool good = payload_signature_holds(header->signature, header->digest);
    uint64_t took = read_time() - start;
    if (!good)
        loader_panic("payload-signature",
                     "the payload's signature is not by key %s, which this loader requires",
                     fingerprint);
    log_event("loader", "verified", "key=%s us=%lu", fingerprint,
              microseconds(took, timebase_hz));
}

static const uint8_t *entry(const struct payload_header *header, uint64_t size,
                            enum payload_entry which, const char *name, uint64_t *entry_size)
{
    uint64_t offset = header->entries[which].offset;
    *entry_size = header->entries[which].size;
    if (offset % SV39_PAGE_SIZE)
        loader_panic("payload-misaligned", "the %s at 0x%lx is not page-aligned", name,
                     offset);
    if (offset > size || *entry_size > size - offset)
        loader_panic("payload-range", "the %s at 0x%lx+0x%lx lies outside the 0x%lx bytes",
                     name, offset, *entry_size, size);
    return payload_start + offset;
}

void payload_open(struct payload *payload, uint64_t timebase_hz)
{
    const struct payload_header *header = (const struct payload_header *)payload_start;
    uint64_t size = (uint64_t)(payload_end - payload_start);
    if (size < sizeof(*header))
        loader_panic("payload-truncated", "%lu bytes are fewer than the payload header", size);
    check_digest(header, size, timebase_hz);
    if (memcmp(header->magic, "AUBPAYLD", sizeof(header->magic)) != 0)
        loader_panic("payload-magic", "the payload does not start with AUBPAYLD");
    if (header->version != PAYLOAD_VERSION || header->count != PAYLOAD_ENTRIES)
        loader_panic("payload-version", "payload version %u with %u entries, expected %d with %d",
                     header->version, header->count, PAYLOAD_VERSION, PAYLOAD_ENTRIES);
    check_signature(header, timebase_hz);
    payload->kernel = entry(header, size, PAYLOAD_KERNEL, "kernel ELF", &payload->kernel_size);
    payload->user = entry(header, size, PAYLOAD_USER, "user ELF", &payload->user_size);
    uint64_t table_size;
    payload->relocations = (const uint32_t *)(uintptr_t)entry(
        header, size, PAYLOAD_RELOCATIONS, "relocation table", &table_size);
    if (table_size % sizeof(uint32_t))
        loader_panic("payload-range", "the relocation table's 0x%lx bytes are not whole entries",
                     table_size);
    payload->relocation_count = table_size / sizeof(uint32_t);
}
