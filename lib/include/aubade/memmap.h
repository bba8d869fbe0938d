/*
 * The physical memory map: every DRAM bank, cut into regions of one kind
 * each, sorted and non-overlapping. The loader builds it while it claims
 * memory; the kernel takes it over in BootInfo.
 */
#ifndef AUBADE_MEMMAP_H
#define AUBADE_MEMMAP_H

#include <aubade/bootinfo.h>
#include <stdbool.h>

struct memmap {
    uint32_t count;
    struct boot_region regions[BOOTINFO_MAX_REGIONS];
};

/* Adds a DRAM bank as usable memory; false if it overlaps another or the
 * map is full. */
bool memmap_add_bank(struct memmap *map, uint64_t base, uint64_t size);
/* Gives the usable parts of [base, base + size) the kind `kind`; what is
 * already claimed keeps its kind, and what lies outside DRAM is ignored.
 * False if the map is full. */
bool memmap_claim(struct memmap *map, uint64_t base, uint64_t size, enum boot_region_kind kind);
/* Claims `size` bytes aligned to `align` (a power of two) from the lowest
 * usable memory; 0 when nothing fits. */
uint64_t memmap_alloc(struct memmap *map, uint64_t size, uint64_t align,
                      enum boot_region_kind kind);
/* The parts of [base, base + size) of kind `from` become kind `to`; false
 * if the map is full. */
bool memmap_convert(struct memmap *map, uint64_t base, uint64_t size,
                    enum boot_region_kind from, enum boot_region_kind to);
uint64_t memmap_bytes(const struct memmap *map, enum boot_region_kind kind);

/* The word the boot log uses for a kind: "free", "kernel", "dtb", ... */
const char *boot_region_kind_name(enum boot_region_kind kind);

static inline uint64_t align_up(uint64_t value, uint64_t align)
{
    return (value + align - 1) & ~(align - 1);
}

static inline uint64_t align_down(uint64_t value, uint64_t align)
{
    return value & ~(align - 1);
}

#endif
