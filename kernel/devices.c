/*
 * Device registers, reached through a window of the kernel's half where
 * virtual = DEVICE_WINDOW + physical. The window is filled with 1 GiB
 * gigapages written straight into the root table: mapping a device then
 * needs no page-table memory, so the console works before the frame
 * allocator does. Sv39 without Svpbmt takes memory attributes from the
 * platform (PMAs), so device regions stay uncached as they must.
 */
#include <aubade/sv39.h>

#include "kernel.h"

#define DEVICE_WINDOW 0xfffffff000000000ul
#define DEVICE_WINDOW_SIZE (62 * SV39_GIGAPAGE_SIZE) /* up to the kernel image's gigapages */

static uint64_t mapped_gigapages; /* bit n: physical gigapage n is in the window */

static uint64_t *table_address(void *context, uint64_t phys)
{
    (void)context;
    return phys_to_virt(phys);
}

uintptr_t device_map(uint64_t phys, uint64_t size)
{
    if (phys >= DEVICE_WINDOW_SIZE || size > DEVICE_WINDOW_SIZE - phys)
        return 0;
    struct sv39 space = {.root = boot_info->page_table_root, .table_address = table_address};
    uint64_t first = phys / SV39_GIGAPAGE_SIZE;
    uint64_t last = (phys + (size ? size - 1 : 0)) / SV39_GIGAPAGE_SIZE;
    for (uint64_t gigapage = first; gigapage <= last; gigapage++) {
        if (mapped_gigapages & (1ul << gigapage))
            continue;
        uint64_t base = gigapage * SV39_GIGAPAGE_SIZE;
        if (sv39_map(&space, DEVICE_WINDOW + base, base, SV39_GIGAPAGE_SIZE,
                     PTE_R | PTE_W | PTE_G) != SV39_OK)
            return 0;
        mapped_gigapages |= 1ul << gigapage;
    }
    asm volatile("sfence.vma" ::: "memory");
    return DEVICE_WINDOW + phys;
}

void unmap_lower_half(void)
{
    uint64_t *root = phys_to_virt(boot_info->page_table_root);
    for (unsigned i = 0; i < SV39_ENTRIES / 2; i++)
        root[i] = 0;
    asm volatile("sfence.vma" ::: "memory");
}
