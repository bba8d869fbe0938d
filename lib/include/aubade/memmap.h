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
    struct boot_region *regions;
    uint32_t count;
    uint32_t capacity; /* entries `regions` has room for */
    /* Gives `regions` more room (a larger array holding the same entries,
     * and the capacity to match), or returns false. NULL for a map that
     * never grows: the kernel's, whose changes never cut a region. A map
     * may call it in the middle of a change, so it may change the map
     * itself (allocate from it) but has only MEMMAP_GROW_SPARE entries to
     * spend. */
    bool (*grow)(struct memmap *map);
    bool growing; /* inside grow: it may not be called again */
};

/* What a change adds at most: a claim cuts one region in three; memmap_alloc
 * is one claim. A map that grows keeps this many entries spare for the
 * allocation growing makes, and grows before it has fewer. */
#define MEMMAP_GROW_SPARE 2

/* Adds a DRAM bank as usable memory; false if it overlaps another or the
 * map is full and cannot grow. */
bool memmap_add_bank(struct memmap *map, uint64_t base, uint64_t size);
/* Gives the usable parts of [base, base + size) the kind `kind`; what is
 * already claimed keeps its kind, and what lies outside DRAM is ignored.
 * False if the map is full and cannot grow. */
bool memmap_claim(struct memmap *map, uint64_t base, uint64_t size, enum boot_region_kind kind);
/* Claims `size` bytes aligned to `align` (a power of two) from the lowest
 * usable memory; 0 when nothing fits. */
uint64_t memmap_alloc(struct memmap *map, uint64_t size, uint64_t align,
                      enum boot_region_kind kind);
/* The parts of [base, base + size) of kind `from` become kind `to`; false
 * if the map is full and cannot grow. Whole regions changing kind need no
 * room. */
bool memmap_convert(struct memmap *map, uint64_t base, uint64_t size,
                    enum boot_region_kind from, enum boot_region_kind to);
/* Gives the map more room now, through its grow function; false if it has
 * none, is already growing, or cannot. */
bool memmap_grow(struct memmap *map);
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
