/*
 * What the loader reads from the device tree: the clock, the DRAM banks, the
 * ranges it must not touch, the harts the kernel can run on and /chosen.
 * Anything it needs and cannot find is a panic that names the node.
 */
#include <aubade/cpus.h>
#include <aubade/string.h>

#include "loader.h"

static int root(const struct machine *machine)
{
    return fdt_root(&machine->dt);
}

static int subnode(const struct fdt *dt, int parent, const char *name)
{
    return fdt_subnode(dt, parent, name, strlen(name));
}

void machine_read_timebase(struct machine *machine)
{
    if (!cpus_timebase_hz(&machine->dt, &machine->timebase_hz))
        loader_panic("dtb-no-timebase", "no timebase-frequency in /cpus or its cpu nodes");
}

static bool is_device_type(const struct fdt *dt, int node, const char *type)
{
    const char *device_type = fdt_prop_string(dt, node, "device_type");
    return device_type && strcmp(device_type, type) == 0;
}

void machine_read_memory(struct machine *machine)
{
    const struct fdt *dt = &machine->dt;
    for (int node = fdt_first_child(dt, root(machine)); node >= 0;
         node = fdt_next_sibling(dt, node)) {
        if (!is_device_type(dt, node, "memory") || !fdt_is_enabled(dt, node))
            continue;
        struct boot_region bank = {.kind = BOOT_REGION_USABLE};
        for (uint32_t i = 0; fdt_reg(dt, node, i, &bank.base, &bank.size); i++) {
            if (bank.size == 0)
                continue;
            if (machine->bank_count == MAX_MEMORY_BANKS)
                loader_panic("dtb-too-many-banks",
                             "more than %d memory banks (the loader's MAX_MEMORY_BANKS)",
                             MAX_MEMORY_BANKS);
            machine->banks[machine->bank_count++] = bank;
        }
    }
    if (machine->bank_count == 0)
        loader_panic("dtb-no-memory", "no memory node (device_type = \"memory\") with a reg");
}

static void add_reserved(struct machine *machine, struct reserved_range range)
{
    if (range.size == 0)
        return;
    if (machine->reserved_count == MAX_RESERVED_RANGES)
        loader_panic("dtb-too-many-reserved",
                     "more than %d reserved ranges (the loader's MAX_RESERVED_RANGES)",
                     MAX_RESERVED_RANGES);
    machine->reserved[machine->reserved_count++] = range;
}

void machine_read_reserved(struct machine *machine)
{
    const struct fdt *dt = &machine->dt;

    /* 1. /reserved-memory children with a fixed reg. Those with only a
     *    `size` ask an OS to allocate them, which this kernel does not do. */
    int reserved = subnode(dt, root(machine), "reserved-memory");
    for (int node = fdt_first_child(dt, reserved); node >= 0; node = fdt_next_sibling(dt, node)) {
        if (!fdt_is_enabled(dt, node))
            continue;
        struct reserved_range range = {
            .what = "reserved-memory",
            .kind = BOOT_REGION_RESERVED,
            .node = fdt_name(dt, node),
            .no_map = fdt_prop(dt, node, "no-map", NULL) != NULL,
        };
        for (uint32_t i = 0; fdt_reg(dt, node, i, &range.base, &range.size); i++)
            add_reserved(machine, range);
    }

    /* 2. The header's /memreserve/ block. */
    struct reserved_range range = {.what = "memreserve", .kind = BOOT_REGION_RESERVED};
    for (uint32_t i = 0; fdt_memreserve(dt, i, &range.base, &range.size); i++)
        add_reserved(machine, range);

    /* 3. The device tree itself, which the kernel reads after us. */
    add_reserved(machine, (struct reserved_range){
                              .base = machine->dtb_phys,
                              .size = machine->dt.total_size,
                              .what = "dtb",
                              .kind = BOOT_REGION_DTB,
                          });

    /* 4. The loader image, payload included: free once the kernel runs. */
    add_reserved(machine, (struct reserved_range){
                              .base = (uintptr_t)__loader_start,
                              .size = (uintptr_t)__loader_end - (uintptr_t)__loader_start,
                              .what = "loader",
                              .kind = BOOT_REGION_LOADER,
                          });
}

/* The harts the kernel can run on, by lib/cpus.c's verdict. Those it
 * cannot (disabled, monitor cores without an MMU) are left alone, unless
 * one would need what the kernel lacks: then the board is refused by name,
 * rather than run on harts that misbehave. */
void machine_read_harts(struct machine *machine)
{
    const struct fdt *dt = &machine->dt;
    int cpus = subnode(dt, root(machine), "cpus");
    enum cpus_hart_verdict boot_hart_verdict = CPUS_HART_VERDICT_COUNT; /* no such node */
    for (int cpu = fdt_first_child(dt, cpus); cpu >= 0; cpu = fdt_next_sibling(dt, cpu)) {
        enum cpus_hart_verdict verdict = cpus_hart_usable(dt, cpu);
        uint64_t hart_id, size;
        if (!fdt_reg(dt, cpu, 0, &hart_id, &size))
            continue;
        if (hart_id == machine->boot_hart)
            boot_hart_verdict = verdict;
        if (verdict == CPUS_HART_VENDOR_PAGE_ATTRIBUTES)
            loader_panic("vendor-page-attributes",
                         "hart %lu (%s) needs T-Head's page attributes (MAEE) for device "
                         "memory, which this kernel does not set",
                         hart_id, fdt_prop_string(dt, cpu, "compatible"));
        if (verdict != CPUS_HART_USABLE)
            continue;
        if (machine->hart_count == BOOTINFO_MAX_HARTS)
            loader_panic("dtb-too-many-harts", "more than %d usable harts (BOOTINFO_MAX_HARTS)",
                         BOOTINFO_MAX_HARTS);
        machine->harts[machine->hart_count++] = hart_id;
    }
    if (boot_hart_verdict == CPUS_HART_VERDICT_COUNT)
        loader_panic("dtb-boot-hart-missing", "no cpu node under /cpus has reg %lu, the boot hart",
                     machine->boot_hart);
    if (boot_hart_verdict != CPUS_HART_USABLE)
        loader_panic("dtb-boot-hart-missing", "boot hart %lu's cpu node is not usable: %s",
                     machine->boot_hart, cpus_hart_verdict_name(boot_hart_verdict));
}

void machine_read_chosen(struct machine *machine)
{
    const struct fdt *dt = &machine->dt;
    int chosen = subnode(dt, root(machine), "chosen");
    machine->bootargs = fdt_prop_string(dt, chosen, "bootargs");
    machine->rng_seed = fdt_prop(dt, chosen, "rng-seed", &machine->rng_seed_size);
    if (machine->rng_seed == NULL || machine->rng_seed_size == 0)
        machine->rng_seed = NULL, machine->rng_seed_size = 0;
    machine->kaslr_seed = fdt_prop(dt, chosen, "kaslr-seed", &machine->kaslr_seed_size);
    if (machine->kaslr_seed == NULL || machine->kaslr_seed_size == 0)
        machine->kaslr_seed = NULL, machine->kaslr_seed_size = 0;
}
