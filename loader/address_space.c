/*
 * The Sv39 address space the kernel starts in:
 *
 *   lower half   the loader, identity-mapped, so that it survives the write
 *                to satp; the kernel removes it
 *   0xffffffc0.. a direct map of DRAM: virtual = physical + DIRECT_MAP_OFFSET
 *   0xffffffe0.. one slot per hart: guard page, stack, TLS block
 *   ELF vaddrs   the kernel's segments, each with exactly its rights
 *
 * Page tables come from the memory map as BOOT_REGION_PAGETABLES, which the
 * kernel keeps: it runs on them.
 */
#include <aubade/log.h>
#include <aubade/string.h>

#include "loader.h"

static uint64_t alloc_table(void *context)
{
    struct address_space *space = context;
    uint64_t table = memmap_alloc(space->memory, SV39_PAGE_SIZE, SV39_PAGE_SIZE,
                                  BOOT_REGION_PAGETABLES);
    if (table)
        memset((void *)(uintptr_t)table, 0, SV39_PAGE_SIZE);
    return table;
}

/* The MMU is off: a table's physical address is where we write it. */
static uint64_t *table_address(void *context, uint64_t phys)
{
    (void)context;
    return (uint64_t *)(uintptr_t)phys;
}

static void map(struct address_space *space, uint64_t virt, uint64_t phys, uint64_t size,
                uint32_t permissions)
{
    struct sv39 sv39 = {space->root, alloc_table, table_address, space};
    int error = sv39_map(&sv39, virt, phys, size, permissions);
    if (error)
        loader_panic("map-failed", "mapping 0x%lx-0x%lx to 0x%lx: %s", virt, virt + size, phys,
                     sv39_strerror(error));
}

static uint32_t pte_permissions(uint32_t elf_flags)
{
    return (elf_flags & PF_R ? PTE_R : 0) | (elf_flags & PF_W ? PTE_W : 0) |
           (elf_flags & PF_X ? PTE_X : 0);
}

void address_space_init(struct address_space *space, struct memmap *memory)
{
    space->memory = memory;
    space->root = alloc_table(space);
    if (space->root == 0)
        loader_panic("out-of-memory", "no page for the root page table");
}

void map_loader_identity(struct address_space *space)
{
    static const struct {
        const char *start, *end;
        uint32_t flags;
    } parts[] = {
        {__loader_start, __loader_text_end, PF_R | PF_X},
        {__loader_text_end, __loader_data_start, PF_R},
        {__loader_data_start, __loader_end, PF_R | PF_W},
    };
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        uint64_t start = (uintptr_t)parts[i].start, end = (uintptr_t)parts[i].end;
        if (start == end)
            continue;
        map(space, start, start, end - start, pte_permissions(parts[i].flags));
        log_event("loader", "identity", "range=0x%lx-0x%lx perm=%s", start, end,
                  elf_permissions(parts[i].flags));
    }
}

void map_kernel(struct address_space *space, const struct elf_image *kernel,
                struct boot_info *info)
{
    /* One physical block for the whole image keeps a single virtual-to-
     * physical offset, which BootInfo can state as two ranges. */
    uint64_t size = kernel->virt_end - kernel->virt_start;
    uint64_t phys = memmap_alloc(space->memory, size, SV39_PAGE_SIZE, BOOT_REGION_KERNEL);
    if (phys == 0)
        loader_panic("out-of-memory", "no 0x%lx bytes of free DRAM for the kernel image", size);
    memset((void *)(uintptr_t)phys, 0, size);

    for (uint32_t i = 0; i < kernel->segment_count; i++) {
        const struct elf_segment *segment = &kernel->segments[i];
        uint64_t segment_phys = phys + (segment->vaddr - kernel->virt_start);
        uint64_t segment_size = align_up(segment->memsz, SV39_PAGE_SIZE);
        memcpy((void *)(uintptr_t)segment_phys, kernel->file + segment->offset, segment->filesz);
        map(space, segment->vaddr, segment_phys, segment_size,
            pte_permissions(segment->flags) | PTE_G);
        log_event("loader", "map", "virt=0x%lx-0x%lx phys=0x%lx perm=%s", segment->vaddr,
                  segment->vaddr + segment_size, segment_phys,
                  elf_permissions(segment->flags));
    }
    /* The code we just wrote is fetched next: order the stores before it. */
    asm volatile("fence.i" ::: "memory");

    info->kernel_phys = (struct boot_range){phys, phys + size};
    info->kernel_virt = (struct boot_range){kernel->virt_start, kernel->virt_end};
    info->kernel_entry = kernel->entry;
}

void map_direct(struct address_space *space, const struct machine *machine)
{
    /* All of DRAM but the ranges marked no-map: firmware guards those with
     * PMP, and a mapping invites speculative accesses that fault. */
    /* Each bank is one region, each no-map range cuts one in three at most. */
    static struct boot_region regions[MAX_MEMORY_BANKS + 2 * MAX_RESERVED_RANGES];
    struct memmap mappable = {.regions = regions,
                              .capacity = sizeof(regions) / sizeof(regions[0])};
    for (uint32_t i = 0; i < machine->bank_count; i++)
        memmap_add_bank(&mappable, machine->banks[i].base, machine->banks[i].size);
    for (uint32_t i = 0; i < machine->reserved_count; i++)
        if (machine->reserved[i].no_map)
            memmap_claim(&mappable, machine->reserved[i].base, machine->reserved[i].size,
                         BOOT_REGION_RESERVED);

    for (uint32_t i = 0; i < mappable.count; i++) {
        const struct boot_region *region = &mappable.regions[i];
        if (region->kind != BOOT_REGION_USABLE)
            continue;
        uint64_t start = align_up(region->base, SV39_PAGE_SIZE);
        uint64_t end = align_down(region->base + region->size, SV39_PAGE_SIZE);
        if (end > DIRECT_MAP_LIMIT)
            loader_panic("dram-beyond-direct-map", "DRAM up to 0x%lx, the direct map ends at 0x%lx",
                         end, DIRECT_MAP_LIMIT);
        if (start < end)
            map(space, DIRECT_MAP_OFFSET + start, start, end - start, PTE_R | PTE_W | PTE_G);
    }
}

static uint64_t tls_block_size(const struct elf_image *kernel)
{
    return kernel->has_tls ? align_up(kernel->tls.memsz, SV39_PAGE_SIZE) : 0;
}

void map_percpu(struct address_space *space, const struct machine *machine,
                const struct elf_image *kernel, struct boot_info *info)
{
    /* Size and alignment fit a page-aligned block in the slot: kernel_elf_check()
     * saw to it. */
    uint64_t tls_size = tls_block_size(kernel);

    for (uint32_t i = 0; i < machine->hart_count; i++) {
        /* Slot layout: [guard page, unmapped][stack][TLS block]. */
        uint64_t stack = PERCPU_BASE + i * PERCPU_SLOT_SIZE + GUARD_PAGE_SIZE;
        uint64_t tls = stack + KERNEL_STACK_SIZE;
        uint64_t phys = memmap_alloc(space->memory, KERNEL_STACK_SIZE + tls_size,
                                     SV39_PAGE_SIZE, BOOT_REGION_PERCPU);
        if (phys == 0)
            loader_panic("out-of-memory", "no memory for hart %lu's stack and TLS",
                         machine->harts[i]);
        map(space, stack, phys, KERNEL_STACK_SIZE + tls_size, PTE_R | PTE_W | PTE_G);

        /* The TLS block starts as a copy of .tdata followed by zeroed .tbss. */
        uint8_t *tls_phys = (uint8_t *)(uintptr_t)(phys + KERNEL_STACK_SIZE);
        memset(tls_phys, 0, tls_size);
        if (kernel->has_tls)
            memcpy(tls_phys, kernel->file + kernel->tls.offset, kernel->tls.filesz);

        info->harts[i] = (struct boot_percpu){
            .hart_id = machine->harts[i],
            .stack = {stack, stack + KERNEL_STACK_SIZE},
            .tls = tls,
        };
        log_event("loader", "percpu", "hart=%lu stack=0x%lx-0x%lx tls=0x%lx", machine->harts[i],
                  stack, stack + KERNEL_STACK_SIZE, tls);
    }
    info->hart_count = machine->hart_count;
}
