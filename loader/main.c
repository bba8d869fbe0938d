/*
 * The loader: entered by firmware with the MMU off, a0 = the boot hart's id
 * (any hart may be the boot hart), a1 = the device tree. It maps the kernel
 * ELF it carries into the upper half and jumps to it with a BootInfo.
 */
#include <aubade/console.h>
#include <aubade/fmt.h>
#include <aubade/log.h>
#include <aubade/string.h>

#include "loader.h"

static struct machine machine;
static bool grow_memory_map(struct memmap *map);
/* The memory map starts in the loader's image, small, so that growing (into
 * DRAM it claims from itself) is what every boot does, not a rare path. */
#define MEMORY_MAP_FIRST_CAPACITY 16
static struct boot_region first_regions[MEMORY_MAP_FIRST_CAPACITY];
static struct memmap memory = {
    .regions = first_regions,
    .capacity = MEMORY_MAP_FIRST_CAPACITY,
    .grow = grow_memory_map,
};
static struct payload payload;
static struct elf_image kernel;
static struct elf_image user;
static struct kaslr kaslr;
static struct address_space space;
static struct console console;

uintptr_t mmio_identity(uint64_t phys, uint64_t size)
{
    (void)size;
    return (uintptr_t)phys;
}

/* 1. The device tree first: it names the console and the clock that every
 *    later line of the log needs. Until it is known good, the log goes
 *    through SBI's console. */
static void open_device_tree(uint64_t boot_hart, uint64_t dtb_phys)
{
    machine.boot_hart = boot_hart;
    machine.dtb_phys = dtb_phys;
    /* The header's totalsize bounds every later read; this bounds the header. */
    int error = fdt_open(&machine.dt, (const void *)(uintptr_t)dtb_phys, 64 << 20);
    if (error)
        loader_panic("dtb-invalid", "device tree at 0x%lx: %s", dtb_phys, fdt_strerror(error));
    panic_set_device_tree(&machine.dt);
    console_init(&console, &machine.dt, mmio_identity);
    machine_read_timebase(&machine);
    log_init(&console, machine.timebase_hz);
    log_event("loader", "start", "hart=%lu dtb=0x%lx", boot_hart, dtb_phys);
}

/* The memory map grows into memory it claims from itself, twice as large
 * each time, as BootInfo memory: the last array is the one the kernel
 * takes over. An earlier one in DRAM becomes loader memory, which the
 * kernel reclaims. Growing needs memory: with none left, the change that
 * needed room is refused and the loader stops with reason=out-of-memory,
 * as it should. */
static bool grow_memory_map(struct memmap *map)
{
    struct boot_region *old = map->regions;
    uint64_t old_bytes = align_up(map->capacity * sizeof(*old), SV39_PAGE_SIZE);
    uint32_t capacity = map->capacity * 2;
    uint64_t bytes = align_up(capacity * sizeof(*old), SV39_PAGE_SIZE);
    uint64_t phys = memmap_alloc(map, bytes, SV39_PAGE_SIZE, BOOT_REGION_BOOTINFO);
    if (phys == 0)
        return false;
    memcpy((void *)(uintptr_t)phys, old, map->count * sizeof(*old));
    map->regions = (struct boot_region *)(uintptr_t)phys;
    map->capacity = (uint32_t)(bytes / sizeof(*old));
    if (old != first_regions)
        memmap_convert(map, (uintptr_t)old, old_bytes, BOOT_REGION_BOOTINFO, BOOT_REGION_LOADER);
    return true;
}

/* 2. Physical memory: the DRAM banks, minus everything that is not free. */
static void find_memory(void)
{
    machine_read_memory(&machine);
    for (uint32_t i = 0; i < machine.bank_count; i++) {
        const struct boot_region *bank = &machine.banks[i];
        log_event("loader", "memory", "base=0x%lx size=0x%lx", bank->base, bank->size);
        if (!memmap_add_bank(&memory, bank->base, bank->size))
            loader_panic("dtb-bad-memory", "memory bank 0x%lx+0x%lx overlaps another",
                         bank->base, bank->size);
    }

    machine_read_reserved(&machine);
    for (uint32_t i = 0; i < machine.reserved_count; i++) {
        const struct reserved_range *range = &machine.reserved[i];
        uint64_t end = range->base + range->size;
        if (range->node)
            log_event("loader", "reserved", "range=0x%lx-0x%lx what=%s node=%s", range->base,
                      end, range->what, range->node);
        else
            log_event("loader", "reserved", "range=0x%lx-0x%lx what=%s", range->base, end,
                      range->what);
        /* Frames are whole pages: a page that holds any reserved byte is reserved. */
        uint64_t first_page = align_down(range->base, SV39_PAGE_SIZE);
        if (!memmap_claim(&memory, first_page, align_up(end, SV39_PAGE_SIZE) - first_page,
                          range->kind))
            loader_panic("out-of-memory", "no free page to grow the memory map to %u regions",
                         memory.count + MEMMAP_GROW_SPARE);
    }
}

/* 3. The kernel and the user program we carry, checked again: flash can
 *    corrupt what the build checked. The payload's digest first (and its
 *    signature, if we were built with a key), then the ELFs. The kernel copies the user program out
 *    of our image before it reclaims it (BootInfo's user_elf). */
static void check_payload(void)
{
    payload_open(&payload, machine.timebase_hz);
    kernel_elf_check(&kernel, payload.kernel, payload.kernel_size);
    log_event("loader", "kernel", "entry=0x%lx segments=%u tls=%lu", kernel.entry,
              kernel.segment_count, kernel.has_tls ? kernel.tls.memsz : 0);
    user_elf_check(&user, payload.user, payload.user_size);
    log_event("loader", "user", "entry=0x%lx segments=%u size=0x%lx", user.entry,
              user.segment_count, user.size);
}

/* 4. BootInfo goes in memory of its own, which the kernel keeps. */
static struct boot_info *alloc_boot_info(void)
{
    uint64_t size = align_up(sizeof(struct boot_info), SV39_PAGE_SIZE);
    uint64_t phys = memmap_alloc(&memory, size, SV39_PAGE_SIZE, BOOT_REGION_BOOTINFO);
    if (phys == 0)
        loader_panic("out-of-memory", "no memory for BootInfo");
    struct boot_info *info = (struct boot_info *)(uintptr_t)phys;
    memset(info, 0, size);
    return info;
}

/* 7. The harts the kernel can run on (read in step 1): each gets a guarded
 *    stack and a TLS block in the kernel's half, where KASLR put their area. */
static void set_up_harts(struct boot_info *info)
{
    /* Up to 21 bytes an id: static, not on the loader's stack. */
    static char ids[BOOTINFO_MAX_HARTS * 21];
    fmt_id_list(ids, sizeof(ids), machine.harts, machine.hart_count);
    log_event("loader", "harts", "count=%u ids=%s", machine.hart_count, ids);
    map_percpu(&space, &machine, kaslr.percpu_base, info);
    for (uint32_t i = 0; i < machine.hart_count; i++)
        info->harts[i].pen = pen_of(i);
}

/* 8. Everything else BootInfo says, once no more memory will be claimed. */
static void fill_boot_info(struct boot_info *info)
{
    info->magic = BOOTINFO_MAGIC;
    info->version = BOOTINFO_VERSION;
    info->size = sizeof(*info);
    info->boot_hart = machine.boot_hart;
    info->dtb_phys = machine.dtb_phys;
    info->dtb_size = machine.dt.total_size;
    info->direct_map_offset = DIRECT_MAP_OFFSET;
    info->page_table_root = space.root;
    /* The MMU is off: the bytes' address is their physical address. */
    info->user_elf = (struct boot_range){(uintptr_t)user.file, (uintptr_t)user.file + user.size};

    /* The map, in BootInfo memory, once no more memory will be claimed: a
     * map still in the loader's image (that the kernel reclaims) is grown
     * out of it first. */
    if (memory.regions == first_regions && !memmap_grow(&memory))
        loader_panic("out-of-memory", "no free page for the memory map");
    info->region_count = memory.count;
    info->regions_phys = (uintptr_t)memory.regions;

    if (machine.bootargs) {
        /* Cut to fit, the line would lose its last words unseen (the
         * `poweroff` at its end, say): refused, it is fixed where it is set. */
        size_t length = strlen(machine.bootargs);
        if (length >= sizeof(info->cmdline))
            loader_panic("bad-cmdline",
                         "/chosen/bootargs is %zu bytes: BootInfo holds at most %zu "
                         "(BOOTINFO_CMDLINE_MAX less its NUL)",
                         length, sizeof(info->cmdline) - 1);
        memcpy(info->cmdline, machine.bootargs, length);
    }
    if (machine.rng_seed) {
        info->rng_seed_size = machine.rng_seed_size < BOOTINFO_RNG_SEED_MAX
                                  ? machine.rng_seed_size
                                  : BOOTINFO_RNG_SEED_MAX;
        memcpy(info->rng_seed, machine.rng_seed, info->rng_seed_size);
    }
}

static const struct boot_percpu *boot_hart_percpu(const struct boot_info *info)
{
    for (uint32_t i = 0; i < info->hart_count; i++)
        if (info->harts[i].hart_id == info->boot_hart)
            return &info->harts[i];
    loader_panic("boot-hart-missing", "no per-CPU memory for boot hart %lu", info->boot_hart);
}

noreturn void loader_main(uint64_t boot_hart, uint64_t dtb_phys)
{
    open_device_tree(boot_hart, dtb_phys);
    /* The harts the kernel can run on, as soon as they are known: the
     * others sleep in the loader's pen while it works (park.c). */
    machine_read_harts(&machine);
    park_other_harts(&machine);
    find_memory();
    check_payload();
    struct boot_info *info = alloc_boot_info();

    /* 5. Where this boot puts the kernel and the harts' stacks: the command
     *    line and /chosen's seeds decide. */
    machine_read_chosen(&machine);
    kaslr_choose(&kaslr, &machine, &kernel);

    /* 6. The address space: the loader where it is, the kernel where KASLR
     *    put it, all DRAM in the direct map. */
    address_space_init(&space, &memory);
    map_loader_identity(&space);
    map_kernel(&space, &kernel, &payload, kaslr.slide, info);
    map_direct(&space, &machine);

    set_up_harts(info);

    fill_boot_info(info);

    /* 9. Jump: the kernel sees only virtual addresses from here on. */
    const struct boot_percpu *percpu = boot_hart_percpu(info);
    uint64_t info_virt = (uintptr_t)info + DIRECT_MAP_OFFSET;
    log_event("loader", "handoff", "entry=0x%lx bootinfo=0x%lx", info->kernel_entry, info_virt);
    enter_kernel(sv39_satp(space.root), info->kernel_entry, info_virt, percpu->stack.end,
                 percpu->tls);
}
