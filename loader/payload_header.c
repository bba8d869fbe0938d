/*
 * The payload (payload.S): a small header, then the kernel ELF, the first
 * user program's and the kernel's relocation table, each page-aligned. tools/aubade/payload.py writes it
 * and documents the format; a header that does not hold is a panic, since
 * nothing in the payload can be trusted then.
 */
#include <aubade/string.h>

#include "loader.h"

#define PAYLOAD_VERSION 1

enum payload_entry { PAYLOAD_KERNEL, PAYLOAD_USER, PAYLOAD_RELOCATIONS, PAYLOAD_ENTRIES };

struct payload_header {
    char magic[8]; /* "AUBPAYLD" */
    uint32_t version;
    uint32_t count; /* PAYLOAD_ENTRIES */
    struct {
        uint64_t offset; /* from the payload's first byte */
        uint64_t size;
    } entries[PAYLOAD_ENTRIES];
};

static const uint8_t *entry(const struct payload_header *header, uint64_t size,
                            enum payload_entry which, const char *name, uint64_t *entry_size)
{
    uint64_t offset = header->entries[which].offset;
    *entry_size = header->entries[which].size;
    if (offset % SV39_PAGE_SIZE)
        loader_panic("payload-misaligned", "the %s at 0x%lx is not page-aligned", name, offset);
    if (offset > size || *entry_size > size - offset)
        loader_panic("payload-range", "the %s at 0x%lx+0x%lx lies outside the 0x%lx bytes",
                     name, offset, *entry_size, size);
    return payload_start + offset;
}

void payload_open(struct payload *payload)
{
    const struct payload_header *header = (const struct payload_header *)payload_start;
    uint64_t size = (uint64_t)(payload_end - payload_start);
    if (size < sizeof(*header))
        loader_panic("payload-truncated", "%lu bytes are fewer than the payload header", size);
    if (memcmp(header->magic, "AUBPAYLD", sizeof(header->magic)) != 0)
        loader_panic("payload-magic", "the payload does not start with AUBPAYLD");
    if (header->version != PAYLOAD_VERSION || header->count != PAYLOAD_ENTRIES)
        loader_panic("payload-version", "payload version %u with %u entries, expected %d with %d",
                     header->version, header->count, PAYLOAD_VERSION, PAYLOAD_ENTRIES);
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
