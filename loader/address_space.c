/*
 * The Sv39 address space the kernel starts in:
 *
 *   lower half   the loader, identity-mapped, so that it survives the write
 *                to satp; the kernel removes it
 *   0xffffffc0.. a direct map of DRAM: virtual = physical + DIRECT_MAP_OFFSET
 *   0xffffffe0.. one slot per hart: guard page, stack, TLS block, from a
 *                random page of a 32 GiB window (kaslr.c)
 *   ELF vaddrs   the kernel's segments, each with exactly its rights, moved
 *                up by a random slide (kaslr.c)
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

/* Adds the slide to each u64 the relocation table names, in the kernel's
 * copy at `phys`. The table is the build's (tools/aubade/kreloc.py), and
 * checked against the ELF here all the same: an entry outside the bytes
 * copied from the file would write over memory the kernel has not got. */
static void relocate(const struct elf_image *kernel, const struct payload *payload, uint64_t phys,
                     uint64_t slide)
{
    for (uint64_t i = 0; i < payload->relocation_count; i++) {
        uint64_t virt = kernel->virt_start + payload->relocations[i];
        bool in_file = false;
        for (uint32_t s = 0; s < kernel->segment_count && !in_file; s++) {
            const struct elf_segment *segment = &kernel->segments[s];
            in_file = virt >= segment->vaddr && virt - segment->vaddr <= segment->filesz &&
                      segment->filesz - (virt - segment->vaddr) >= sizeof(uint64_t);
        }
        if (!in_file)
            loader_panic("kernel-relocation",
                         "relocation %lu at 0x%lx is not in the bytes of a kernel segment", i, virt);
        uint64_t *slot = (uint64_t *)(uintptr_t)(phys + (virt - kernel->virt_start));
        uint64_t address;
        memcpy(&address, slot, sizeof(address)); /* data may pack a pointer unaligned */
        address += slide;
        memcpy(slot, &address, sizeof(address));
    }
}

void map_kernel(struct address_space *space, const struct elf_image *kernel,
                const struct payload *payload, uint64_t slide, struct boot_info *info)
{
    /* One physical block for the whole image keeps a single virtual-to-
     * physical offset, which BootInfo can state as two ranges. */
    uint64_t size = kernel->virt_end - kernel->virt_start;
    uint64_t phys = memmap_alloc(space->memory, size, SV39_PAGE_SIZE, BOOT_REGION_KERNEL);
    if (phys == 0)
        loader_panic("out-of-memory", "no 0x%lx bytes of free DRAM for the kernel image", size);
    memset((void *)(uintptr_t)phys, 0, size);

    /* 1. The image, as linked; 2. moved by the slide; 3. mapped there. */
    for (uint32_t i = 0; i < kernel->segment_count; i++) {
        const struct elf_segment *segment = &kernel->segments[i];
        memcpy((void *)(uintptr_t)(phys + (segment->vaddr - kernel->virt_start)),
               kernel->file + segment->offset, segment->filesz);
    }
    relocate(kernel, payload, phys, slide);
    for (uint32_t i = 0; i < kernel->segment_count; i++) {
        const struct elf_segment *segment = &kernel->segments[i];
        uint64_t virt = segment->vaddr + slide;
        uint64_t segment_phys = phys + (segment->vaddr - kernel->virt_start);
        uint64_t segment_size = align_up(segment->memsz, SV39_PAGE_SIZE);
        map(space, virt, segment_phys, segment_size, pte_permissions(segment->flags) | PTE_G);
        log_event("loader", "map", "virt=0x%lx-0x%lx phys=0x%lx perm=%s", virt,
                  virt + segment_size, segment_phys, elf_permissions(segment->flags));
    }
    /* The code we just wrote is fetched next: order the stores before it. */
    asm volatile("fence.i" ::: "memory");

    info->kernel_phys = (struct boot_range){phys, phys + size};
    info->kernel_virt = (struct boot_range){kernel->virt_start + slide, kernel->virt_end + slide};
    info->kernel_entry = kernel->entry + slide;
    info->kernel_slide = slide;
    if (kernel->has_tls)
        info->tls_template = (struct boot_tls_template){
            kernel->tls.vaddr + slide, kernel->tls.filesz, kernel->tls.memsz, kernel->tls_align};
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

void map_percpu(struct address_space *space, const struct machine *machine, uint64_t base,
                struct boot_info *info)
{
    /* Size and alignment fit a page-aligned block in the slot: kernel_elf_check()
     * saw to it. The template is the kernel's relocated copy (an address in
     * .tdata has had the slide added), which map_kernel found by its slid
     * address. */
    const struct boot_tls_template *template = &info->tls_template;
    uint64_t tls_size = align_up(template->memsz, SV39_PAGE_SIZE);
    const uint8_t *tls_image = (const uint8_t *)(uintptr_t)(
        info->kernel_phys.start + (template->vaddr - info->kernel_virt.start));

    for (uint32_t i = 0; i < machine->hart_count; i++) {
        /* Slot layout: [guard page, unmapped][stack][TLS block]. */
        uint64_t stack = base + i * PERCPU_SLOT_SIZE + GUARD_PAGE_SIZE;
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
        memcpy(tls_phys, tls_image, template->filesz);

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
