/*
 * Device registers, reached through a window of the kernel's half where
 * virtual = DEVICE_WINDOW + physical, so that an address handed out once
 * stays valid on every page table the kernel runs on.
 *
 * The console comes up in Early, before the frame allocator: until vm_init
 * the window is filled with 1 GiB gigapages written straight into the
 * loader's root table, which needs no page-table memory. Each range handed
 * out then is remembered, and vm_init maps just its pages into the kernel's
 * own tables (devices_map_early). From then on device_map maps only the
 * pages asked for, with the biggest pages alignment allows (vm_map_device).
 */
#include <aubade/memmap.h>

#include "kernel.h"

#define DEVICE_WINDOW_SIZE (62 * SV39_GIGAPAGE_SIZE) /* up to the kernel image's gigapages */
#define MAX_EARLY_DEVICES 16

struct device_range {
    uint64_t phys; /* page-aligned */
    uint64_t size;
};

static uint64_t mapped_gigapages; /* bit n: physical gigapage n is in the loader's window */
static struct device_range early_devices[MAX_EARLY_DEVICES];
static uint32_t early_device_count;

static uint64_t *table_address(void *context, uint64_t phys)
{
    (void)context;
    return phys_to_virt(phys);
}

static bool map_gigapages(struct device_range range)
{
    struct sv39 space = {.root = boot_info->page_table_root, .table_address = table_address};
    uint64_t first = range.phys / SV39_GIGAPAGE_SIZE;
    uint64_t last = (range.phys + range.size - 1) / SV39_GIGAPAGE_SIZE;
    for (uint64_t gigapage = first; gigapage <= last; gigapage++) {
        if (mapped_gigapages & (1ul << gigapage))
            continue;
        uint64_t base = gigapage * SV39_GIGAPAGE_SIZE;
        if (sv39_map(&space, DEVICE_WINDOW + base, base, SV39_GIGAPAGE_SIZE,
                     PTE_R | PTE_W | PTE_G) != SV39_OK)
            return false;
        mapped_gigapages |= 1ul << gigapage;
    }
    asm volatile("sfence.vma" ::: "memory");
    return true;
}

/* Before vm_init: a gigapage of the loader's tables, and a note for later. */
static bool map_early(struct device_range range)
{
    for (uint32_t i = 0; i < early_device_count; i++)
        if (early_devices[i].phys == range.phys && early_devices[i].size == range.size)
            return true;
    if (early_device_count == MAX_EARLY_DEVICES || !map_gigapages(range))
        return false;
    early_devices[early_device_count++] = range;
    return true;
}

uintptr_t device_map(uint64_t phys, uint64_t size)
{
    if (phys >= DEVICE_WINDOW_SIZE || size > DEVICE_WINDOW_SIZE - phys)
        return 0;
    uint64_t start = align_down(phys, SV39_PAGE_SIZE);
    uint64_t end = align_up(phys + (size ? size : 1), SV39_PAGE_SIZE);
    struct device_range range = {start, end - start};
    bool mapped = vm_ready() ? vm_map_device(DEVICE_WINDOW + start, start, range.size) == 0
                             : map_early(range);
    return mapped ? DEVICE_WINDOW + phys : 0;
}

int devices_map_early(void)
{
    for (uint32_t i = 0; i < early_device_count; i++) {
        const struct device_range *range = &early_devices[i];
        int error = vm_map_device(DEVICE_WINDOW + range->phys, range->phys, range->size);
        if (error)
            return error;
    }
    return 0;
}
