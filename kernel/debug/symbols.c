/*
 * The kernel's own symbol table, for naming addresses in panic reports.
 *
 * tools/aubade/ksyms.py writes it at build time from a first link of the
 * kernel, as assembly for section .ksyms, which the linker script puts last,
 * in a segment of its own, so that the table cannot move anything it
 * describes (the build checks that it did not):
 *
 *   ksyms_count     how many entries
 *   ksyms_entries   struct ksym[ksyms_count], sorted by offset, disjoint
 *   ksyms_names     the names, NUL-terminated, at the entries' offsets
 *
 * Entries count from the kernel's first byte, __kernel_start, which is
 * where the loader put it this boot (KASLR): the table holds no address the
 * loader would have to move, and names runtime addresses as they are.
 */
#include <aubade/fmt.h>

#include "debug/debug.h"

struct ksym {
    uint64_t offset; /* from __kernel_start */
    uint32_t size;
    uint32_t name; /* offset in ksyms_names */
};

extern const uint64_t ksyms_count;
extern const struct ksym ksyms_entries[];
extern const char ksyms_names[];
extern const char __kernel_start[];

const char *symbol_name(uintptr_t address, uintptr_t *offset)
{
    /* Below the kernel, this wraps to past its end: no entry holds it. */
    uint64_t in_kernel = address - (uintptr_t)__kernel_start;
    /* The last entry that starts at or below the address. */
    uint64_t low = 0, high = ksyms_count;
    while (low < high) {
        uint64_t middle = low + (high - low) / 2;
        if (ksyms_entries[middle].offset <= in_kernel)
            low = middle + 1;
        else
            high = middle;
    }
    if (low == 0)
        return NULL;
    const struct ksym *entry = &ksyms_entries[low - 1];
    if (in_kernel - entry->offset >= entry->size)
        return NULL;
    *offset = in_kernel - entry->offset;
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
