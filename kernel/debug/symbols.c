/*
 * The kernel's own symbol table, for naming addresses in panic reports.
 *
 * tools/aubade/ksyms.py writes it at build time from a first link of the
 * kernel, as assembly for section .ksyms, which the linker script puts last,
 * in a segment of its own, so that the table cannot move anything it
 * describes (the build checks that it did not):
 *
 *   ksyms_count     how many entries
 *   ksyms_entries   struct ksym[ksyms_count], sorted by address, disjoint
 *   ksyms_names     the names, NUL-terminated, at the entries' offsets
 */
#include <aubade/fmt.h>

#include "debug/debug.h"

struct ksym {
    uint64_t address;
    uint32_t size;
    uint32_t name; /* offset in ksyms_names */
};

extern const uint64_t ksyms_count;
extern const struct ksym ksyms_entries[];
extern const char ksyms_names[];

const char *symbol_name(uintptr_t address, uintptr_t *offset)
{
    /* The last entry that starts at or below the address. */
    uint64_t low = 0, high = ksyms_count;
    while (low < high) {
        uint64_t middle = low + (high - low) / 2;
        if (ksyms_entries[middle].address <= address)
            low = middle + 1;
        else
            high = middle;
    }
    if (low == 0)
        return NULL;
    const struct ksym *entry = &ksyms_entries[low - 1];
    if (address - entry->address >= entry->size)
        return NULL;
    *offset = address - entry->address;
    return ksyms_names + entry->name;
}

void symbol_describe(char *text, size_t size, uintptr_t address)
{
    uintptr_t offset;
    const char *name = symbol_name(address, &offset);
    if (name)
        fmt_snprintf(text, size, "%s+0x%lx", name, offset);
    else
        fmt_snprintf(text, size, "0x%lx", address);
}
