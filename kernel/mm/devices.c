/*
 * Device registers, reached through a window of the kernel's half
 * (DEVICE_WINDOW, DEVICE_WINDOW_SIZE) from which virtual ranges are handed
 * out as drivers ask, for any physical address a page-table entry can hold
 * (56 bits): a TH1520's UART at 0xffe7014000 as well as virt's at
 * 0x10000000. A range handed out stays valid on every page table the kernel
 * runs on, and is never given back: drivers keep their registers.
 *
 * device_map, in steps:
 *  1. Registers inside a range handed out before get an address in it, so
 *     that two drivers (the console's output and its input) share one.
 *  2. Otherwise the next free part of the window is taken, placed so that
 *     its virtual and physical addresses agree modulo the biggest page the
 *     range can hold (2 MiB, 1 GiB): then vm_map_device can use big pages.
 *  3. It is mapped, and remembered for step 1.
 *
 * The console comes up in Early, before the frame allocator, when there is
 * no memory for page tables. Until vm_init a new range therefore takes
 * whole gigabytes of the window, mapped by gigapage leaves written straight
 * into the loader's root table onto the physical gigabytes around the
 * registers: that needs no table below the root. vm_init then maps just the
 * pages of those ranges into the kernel's own tables, at the same addresses
 * (devices_map_early), and the rest of their gigabytes stays unused.
 */
#include <aubade/log.h>
#include <aubade/memmap.h>

#include "boot/boot.h"
#include "mm/mm.h"
#include "smp/smp.h"

/* What a page-table entry's 44-bit physical page number reaches. */
#define PHYSICAL_LIMIT (1ul << 56)
/* Distinct ranges, not calls: registers asked for again take no entry. */
#define DEVICE_MAPPINGS_MAX 256

struct device_mapping {
    uint64_t phys; /* page-aligned, like size */
    uint64_t size;
    uintptr_t virt;
};

static struct device_mapping mappings[DEVICE_MAPPINGS_MAX];
static uint32_t mapping_count;
/* The window's first address that nothing has been placed at or after. */
static uintptr_t window_next = DEVICE_WINDOW;
static struct spinlock window_lock = SPINLOCK_INIT("device-window");

static uint64_t *table_address(void *context, uint64_t phys)
{
    (void)context;
    return phys_to_virt(phys);
}

/* Step 1: the mapping that holds [start, end), or NULL. */
static const struct device_mapping *find_mapping(uint64_t start, uint64_t end)
{
    for (uint32_t i = 0; i < mapping_count; i++)
        if (mappings[i].phys <= start && end <= mappings[i].phys + mappings[i].size)
            return &mappings[i];
    return NULL;
}

/* Step 2: the first address at or after window_next that agrees with phys
 * modulo `align` and has room for `size` bytes before the window ends; 0
 * if there is none. */
static uintptr_t place(uint64_t phys, uint64_t size, uint64_t align)
{
    const uintptr_t window_end = DEVICE_WINDOW + DEVICE_WINDOW_SIZE;
    uint64_t offset = phys & (align - 1);
    uintptr_t virt = align_up(window_next - offset, align) + offset;
    return virt < window_end && size <= window_end - virt ? virt : 0;
}

static uint64_t biggest_page_within(uint64_t size)
{
    if (size >= SV39_GIGAPAGE_SIZE)
        return SV39_GIGAPAGE_SIZE;
    return size >= SV39_MEGAPAGE_SIZE ? SV39_MEGAPAGE_SIZE : SV39_PAGE_SIZE;
}

/* Before vm_init: the physical gigabytes around [phys, phys + size) at the
 * window's gigabytes around virt, in the loader's root table. */
static int map_gigapages(uintptr_t virt, uint64_t phys, uint64_t size)
{
    struct sv39 loader_tables = {.root = boot_info->page_table_root,
                                 .table_address = table_address};
    uint64_t base = align_down(phys, SV39_GIGAPAGE_SIZE);
    int error = sv39_map(&loader_tables, align_down(virt, SV39_GIGAPAGE_SIZE), base,
                         align_up(phys + size, SV39_GIGAPAGE_SIZE) - base,
                         PTE_R | PTE_W | PTE_G);
    asm volatile("sfence.vma" ::: "memory");
    return error;
}

/* Steps 2 and 3 for a page-aligned range; its address, or 0 and *reason. */
static uintptr_t map_new(uint64_t phys, uint64_t size, const char **reason)
{
    if (mapping_count == DEVICE_MAPPINGS_MAX) {
        *reason = "too-many-device-mappings";
        return 0;
    }
    bool early = !vm_ready();
    uintptr_t virt = place(phys, size, early ? SV39_GIGAPAGE_SIZE : biggest_page_within(size));
    if (virt == 0) {
        *reason = "device-window-full";
        return 0;
    }
    int error = early ? map_gigapages(virt, phys, size) : vm_map_device(virt, phys, size);
    if (error) {
        *reason = vm_strerror(error);
        return 0;
    }
    mappings[mapping_count++] = (struct device_mapping){phys, size, virt};
    /* Early, the rest of the last gigabyte maps other physical memory. */
    window_next = early ? align_up(virt + size, SV39_GIGAPAGE_SIZE) : virt + size;
    return virt;
}

uintptr_t device_map(uint64_t phys, uint64_t size)
{
    if (size == 0)
        size = 1;
    if (phys >= PHYSICAL_LIMIT || size > PHYSICAL_LIMIT - phys) {
        log_trace(LOG_ERROR, "devices", "unmapped",
                  "phys=0x%lx size=0x%lx reason=beyond-physical-addresses limit=0x%lx", phys,
                  size, PHYSICAL_LIMIT);
        return 0;
    }
    uint64_t start = align_down(phys, SV39_PAGE_SIZE);
    uint64_t end = align_up(phys + size, SV39_PAGE_SIZE);
    const char *reason = NULL;
    uint64_t were_enabled = spin_lock_irqsave(&window_lock);
    const struct device_mapping *found = find_mapping(start, end);
    uintptr_t virt = found ? found->virt + (start - found->phys) : map_new(start, end - start, &reason);
    uintptr_t used = window_next - DEVICE_WINDOW;
    spin_unlock_irqrestore(&window_lock, were_enabled);
    if (virt == 0) {
        log_trace(LOG_ERROR, "devices", "unmapped",
                  "phys=0x%lx size=0x%lx reason=%s window=0x%lx-0x%lx used=0x%lx", phys, size,
                  reason, DEVICE_WINDOW, DEVICE_WINDOW + DEVICE_WINDOW_SIZE, used);
        return 0;
    }
    return virt + (phys - start);
}

int devices_map_early(void)
{
    /* Every range handed out so far was handed out before vm_init. */
    for (uint32_t i = 0; i < mapping_count; i++) {
        const struct device_mapping *mapping = &mappings[i];
        int error = vm_map_device(mapping->virt, mapping->phys, mapping->size);
        if (error)
            return error;
    }
    return 0;
}
