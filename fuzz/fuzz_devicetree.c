/*
 * Fuzz target: the device-tree parser (lib/fdt.c) and what the loader reads
 * with it (loader/devicetree.c, lib/cpus.c, lib/memmap.c), built for the
 * host by tools/fuzz.
 *
 * The input is the blob firmware hands over in a1. Each run does two things:
 *
 *  1. The loader's own steps, in loader/main.c's order and with its calls
 *     (open_device_tree, find_memory, set_up_harts, fill_boot_info), less
 *     what needs the board: the console, the log, the page tables. They stop
 *     at the first panic, as the loader does; harness.c checks its reason.
 *     What they accept must hold up to how main.c and the kernel use it.
 *  2. Whenever the header was accepted, a walk over the whole tree through
 *     the fdt API, node by node, with the lookups the loader and the kernel
 *     make: fdt_open()'s promise is that every later call stays inside the
 *     blob, whatever the tree holds.
 *
 * The header's totalsize bounds every read after fdt_open(), and may be less
 * than the input. So once the header is accepted, the blob is copied into a
 * heap buffer of exactly totalsize bytes: AddressSanitizer then catches a
 * read past totalsize, not only one past the end of the input.
 *
 * Seeds (made by tools/fuzz): QEMU's virt and sifive_u device trees.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <aubade/fmt.h>
#include <aubade/irqchip.h>

#include "harness.h"
#include "loader.h"

/* The header field for the boot hart's id (boot_cpuid_phys), which QEMU
 * fills with 0.
 * The loader gets the id in a0 instead; taking it from here lets the
 * fuzzer choose it along with the tree. */
#define FDT_BOOT_CPUID_OFFSET 28

struct boot {
    const uint8_t *input;
    size_t input_size;
    uint8_t *blob; /* the copy of totalsize bytes, once the header is accepted */
    struct machine machine;
    struct memmap memory;
};

/* Is [start, start + len) inside the blob? Every pointer the parser returns
 * must be: its callers read from it without further checks. */
static bool inside_blob(const struct fdt *dt, const void *start, size_t len)
{
    uintptr_t blob = (uintptr_t)dt->blob;
    uintptr_t at = (uintptr_t)start;
    return at >= blob && at - blob <= dt->total_size && len <= dt->total_size - (at - blob);
}

static void require_bytes(const struct fdt *dt, const void *start, size_t len, const char *what)
{
    if (!inside_blob(dt, start, len))
        fuzz_fail("%s: %zu bytes at %p outside the blob at %p+0x%x", what, len, start,
                  (const void *)dt->blob, dt->total_size);
}

/* A string the parser returned: it must end with its NUL inside the blob. */
static void require_string(const struct fdt *dt, const char *string, const char *what)
{
    require_bytes(dt, string, 1, what);
    size_t room = dt->total_size - (size_t)((const uint8_t *)string - dt->blob);
    if (strnlen(string, room) == room)
        fuzz_fail("%s: no NUL before the end of the blob", what);
}

/* open_device_tree(): the header, then the timebase the log needs. */
static void open_device_tree(struct boot *boot)
{
    struct machine *machine = &boot->machine;
    int error = fdt_open(&machine->dt, boot->input, boot->input_size);
    if (error)
        loader_panic("dtb-invalid", "device tree at %p: %s", (const void *)boot->input,
                     fdt_strerror(error));

    uint32_t total_size = machine->dt.total_size;
    boot->blob = malloc(total_size);
    memcpy(boot->blob, boot->input, total_size);
    if (fdt_open(&machine->dt, boot->blob, total_size) != 0)
        fuzz_fail("the header was accepted, but not once copied to its own totalsize");
    machine->dtb_phys = (uintptr_t)boot->blob;
    machine->boot_hart = fdt_be32(boot->blob + FDT_BOOT_CPUID_OFFSET);

    machine_read_timebase(machine);
}

/* The memory map grows on the host heap: the loader's grows into the DRAM
 * it maps, which the host has not got. The change that needs room gets it
 * either way. */
static bool grow_on_heap(struct memmap *map)
{
    uint32_t capacity = map->capacity ? map->capacity * 2 : 16;
    struct boot_region *regions = realloc(map->regions, capacity * sizeof(*regions));
    if (regions == NULL)
        fuzz_fail("no host memory for %u memory regions", capacity);
    map->regions = regions;
    map->capacity = capacity;
    return true;
}

/* The memory map's promise (lib/include/aubade/memmap.h): regions sorted,
 * non-empty and apart, and exactly the banks' bytes, whatever was claimed. */
static void check_memory_map(const struct boot *boot)
{
    const struct memmap *memory = &boot->memory;
    uint64_t bank_bytes = 0, region_bytes = 0;
    for (uint32_t i = 0; i < boot->machine.bank_count; i++)
        bank_bytes += boot->machine.banks[i].size;
    if (memory->count > memory->capacity)
        fuzz_fail("memory map of %u regions in room for %u", memory->count, memory->capacity);
    for (uint32_t i = 0; i < memory->count; i++) {
        const struct boot_region *region = &memory->regions[i];
        if (region->size == 0 || region->base + region->size < region->base)
            fuzz_fail("memory region %u: 0x%lx+0x%lx is empty or wraps", i, region->base,
                      region->size);
        if (i > 0 && region->base < memory->regions[i - 1].base + memory->regions[i - 1].size)
            fuzz_fail("memory region %u at 0x%lx overlaps or precedes the one before", i,
                      region->base);
        region_bytes += region->size;
    }
    if (region_bytes != bank_bytes)
        fuzz_fail("memory map holds 0x%lx bytes, the banks 0x%lx", region_bytes, bank_bytes);
}

/* find_memory(): the banks, then every reserved range claimed in whole pages. */
static void find_memory(struct boot *boot)
{
    struct machine *machine = &boot->machine;
    machine_read_memory(machine);
    if (machine->bank_count == 0 || machine->bank_count > MAX_MEMORY_BANKS)
        fuzz_fail("accepted %u memory banks", machine->bank_count);
    for (uint32_t i = 0; i < machine->bank_count; i++) {
        const struct boot_region *bank = &machine->banks[i];
        if (!memmap_add_bank(&boot->memory, bank->base, bank->size))
            loader_panic("dtb-bad-memory", "memory bank 0x%lx+0x%lx overlaps another",
                         bank->base, bank->size);
    }

    machine_read_reserved(machine);
    if (machine->reserved_count > MAX_RESERVED_RANGES)
        fuzz_fail("accepted %u reserved ranges", machine->reserved_count);
    for (uint32_t i = 0; i < machine->reserved_count; i++) {
        const struct reserved_range *range = &machine->reserved[i];
        /* main.c logs the /reserved-memory child's name with %s. */
        if (range->node)
            require_string(&machine->dt, range->node, "reserved range's node name");
        uint64_t end = range->base + range->size;
        uint64_t first_page = align_down(range->base, SV39_PAGE_SIZE);
        if (!memmap_claim(&boot->memory, first_page,
                          align_up(end, SV39_PAGE_SIZE) - first_page, range->kind))
            fuzz_fail("a claim was refused by a map that can grow");
    }
    check_memory_map(boot);
}

/* set_up_harts(): the usable harts, listed in the log as main.c does. */
static void set_up_harts(struct boot *boot)
{
    struct machine *machine = &boot->machine;
    machine_read_harts(machine);
    if (machine->hart_count == 0 || machine->hart_count > BOOTINFO_MAX_HARTS)
        fuzz_fail("accepted %u harts", machine->hart_count);
    static char ids[BOOTINFO_MAX_HARTS * 21];
    if (fmt_id_list(ids, sizeof(ids), machine->harts, machine->hart_count) >= sizeof(ids))
        fuzz_fail("hart ids overflow main.c's %zu-byte list", sizeof(ids));
}

/* fill_boot_info(): /chosen's command line and RNG seed, copied as main.c
 * copies them into BootInfo. */
static void fill_boot_info(struct boot *boot)
{
    struct machine *machine = &boot->machine;
    struct boot_info info = {0};
    machine_read_chosen(machine);
    if (machine->bootargs) {
        require_string(&machine->dt, machine->bootargs, "bootargs");
        memcpy(info.cmdline, machine->bootargs,
               strnlen(machine->bootargs, sizeof(info.cmdline) - 1));
    }
    if (machine->rng_seed)
        require_bytes(&machine->dt, machine->rng_seed, machine->rng_seed_size, "rng-seed");
    info.rng_seed_size = machine->rng_seed_size < BOOTINFO_RNG_SEED_MAX ? machine->rng_seed_size
                                                                        : BOOTINFO_RNG_SEED_MAX;
    /* main.c copies even when /chosen has no rng-seed, as memcpy(dst, NULL,
     * 0): undefined in C11, and UBSan stops on it. Harmless with the loader's
     * own memcpy, so the harness skips the empty copy to fuzz on past it. */
    if (info.rng_seed_size)
        memcpy(info.rng_seed, machine->rng_seed, info.rng_seed_size);
}

static void boot_loader(void *context)
{
    struct boot *boot = context;
    open_device_tree(boot);
    find_memory(boot);
    set_up_harts(boot);
    fill_boot_info(boot);
}

/* The properties the loader and the kernel look up, and those that link
 * nodes together, by the kind of value they read. The fdt API finds
 * properties by name only. */
static const char *const string_properties[] = {
    "compatible",           "status",   "device_type", "riscv,isa", "riscv,isa-base",
    "riscv,isa-extensions", "mmu-type", "stdout-path", "bootargs",
};
static const char *const number_properties[] = {
    "#address-cells", "#size-cells", "timebase-frequency", "clock-frequency", "reg-shift",
};
static const char *const byte_properties[] = {"reg", "no-map", "rng-seed"};

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

/* Compatible strings the console and power-off drivers match on. */
static const char *const compatibles[] = {"ns16550a", "sifive,uart0", "sifive,test0"};

/* Deeper than the parser's own limit (FDT_MAX_DEPTH, 32), so that the walk
 * reaches the nodes the parser must refuse, yet bounded: the harness's stack
 * must not depend on the input. */
#define WALK_MAX_DEPTH 40
/* reg entries looked at per node: each fdt_reg() rescans the tree for the
 * parent, and a long reg would make one input slow without finding more. */
#define WALK_MAX_REG_ENTRIES 64
#define WALK_MAX_PATH 256
/* Interrupts looked at per node: each rescans interrupts-extended. */
#define WALK_MAX_IRQS 4

static void walk_properties(const struct fdt *dt, int node)
{
    for (size_t i = 0; i < COUNT(string_properties); i++) {
        const char *string = fdt_prop_string(dt, node, string_properties[i]);
        if (string)
            require_string(dt, string, string_properties[i]);
    }
    uint64_t number;
    for (size_t i = 0; i < COUNT(number_properties); i++)
        fdt_prop_u64(dt, node, number_properties[i], &number);
    for (size_t i = 0; i < COUNT(byte_properties); i++) {
        uint32_t len;
        const void *value = fdt_prop(dt, node, byte_properties[i], &len);
        if (value)
            require_bytes(dt, value, len, byte_properties[i]);
    }
    for (size_t i = 0; i < COUNT(compatibles); i++)
        fdt_is_compatible(dt, node, compatibles[i]);
    fdt_is_enabled(dt, node);

    uint64_t base, size;
    for (uint32_t i = 0; i < WALK_MAX_REG_ENTRIES && fdt_reg(dt, node, i, &base, &size); i++)
        continue;

    /* A node that carries a phandle is found by it (or an earlier node that
     * claims the same one). */
    uint32_t len;
    const uint8_t *phandle = fdt_prop(dt, node, "phandle", &len);
    if (phandle && len == 4 && fdt_by_phandle(dt, fdt_be32(phandle)) < 0)
        fuzz_fail("node at %d: its phandle 0x%x finds no node", node, fdt_be32(phandle));
    const uint8_t *reference = fdt_prop(dt, node, "interrupt-parent", &len);
    if (reference && len == 4)
        fdt_by_phandle(dt, fdt_be32(reference));

    /* Every interrupt it has, as the kernel's irq layer reads them: a
     * specifier that fits, from a controller that is a node. */
    struct fdt_irq irq;
    for (uint32_t i = 0; i < WALK_MAX_IRQS && fdt_irq_at(dt, node, i, &irq); i++) {
        if (irq.cell_count > FDT_IRQ_MAX_CELLS || fdt_name(dt, irq.parent) == NULL)
            fuzz_fail("node at %d: interrupt %u has %u cells, parent %d", node, i,
                      irq.cell_count, irq.parent);
        const char *driver = irqchip_driver(dt, irq.parent);
        if (driver && !fdt_is_compatible(dt, irq.parent, driver))
            fuzz_fail("node at %d: irqchip_driver names %s, not one of its compatibles",
                      irq.parent, driver);
    }
}

static void walk_children(const struct fdt *dt, int parent, unsigned depth, char *path,
                          size_t path_len);

/* path holds the parent's absolute path, path_len bytes of it, for
 * fdt_find(); WALK_MAX_PATH once a path no longer fits. */
static void walk_node(const struct fdt *dt, int parent, int node, unsigned depth, char *path,
                      size_t path_len)
{
    const char *name = fdt_name(dt, node);
    if (name == NULL)
        fuzz_fail("node at %d: the API returned it, but it has no name", node);
    require_string(dt, name, "node name");
    /* Looked up by its own name, a node is found: itself or an earlier
     * sibling of the same name. */
    if (fdt_subnode(dt, parent, name, strlen(name)) < 0)
        fuzz_fail("node at %d: \"%s\" is not found by name under its parent", node, name);
    fdt_parent(dt, node);
    walk_properties(dt, node);

    size_t name_len = strlen(name);
    if (path_len + 1 + name_len < WALK_MAX_PATH) {
        path[path_len++] = '/';
        memcpy(path + path_len, name, name_len + 1);
        path_len += name_len;
        int found = fdt_find(dt, path);
        if (found >= 0)
            require_string(dt, fdt_name(dt, found), "fdt_find's node name");
    } else {
        path_len = WALK_MAX_PATH; /* nor will any descendant's path fit */
    }

    if (depth < WALK_MAX_DEPTH)
        walk_children(dt, node, depth + 1, path, path_len);
}

static void walk_children(const struct fdt *dt, int parent, unsigned depth, char *path,
                          size_t path_len)
{
    for (int child = fdt_first_child(dt, parent); child >= 0;
         child = fdt_next_sibling(dt, child))
        walk_node(dt, parent, child, depth, path, path_len);
}

static void walk_tree(const struct fdt *dt)
{
    char path[WALK_MAX_PATH] = "";
    int root = fdt_root(dt);
    if (root < 0)
        fuzz_fail("fdt_open() accepted a tree without a root node");
    walk_properties(dt, root);
    walk_children(dt, root, 1, path, 0);

    /* stdout-path as the console finds it: an absolute path or an alias,
     * with or without UART options after a ':'. */
    int chosen = fdt_find(dt, "/chosen");
    const char *stdout_path = fdt_prop_string(dt, chosen, "stdout-path");
    if (stdout_path) {
        int console = fdt_find(dt, stdout_path);
        if (console >= 0)
            require_string(dt, fdt_name(dt, console), "stdout-path's node name");
    }
    fdt_find(dt, "serial0:115200n8");

    uint64_t base, size;
    for (uint32_t i = 0; fdt_memreserve(dt, i, &base, &size); i++)
        continue;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct boot boot = {.input = data, .input_size = size, .memory = {.grow = grow_on_heap}};
    fuzz_run(boot_loader, &boot);
    if (boot.blob) {
        walk_tree(&boot.machine.dt);
        free(boot.blob);
    }
    free(boot.memory.regions);
    return 0;
}
