#include <aubade/memmap.h>
#include <aubade/string.h>

static uint64_t region_end(const struct boot_region *region)
{
    return region->base + region->size;
}

/* Room for `more` entries. A map that grows does so early, while it still
 * has the entries its own allocation spends. */
static bool make_room(struct memmap *map, uint32_t more)
{
    bool can_grow = map->grow && !map->growing;
    uint32_t spare = can_grow ? MEMMAP_GROW_SPARE : 0;
    if (map->count + more + spare <= map->capacity)
        return true;
    if (can_grow)
        memmap_grow(map);
    return map->count + more <= map->capacity;
}

bool memmap_grow(struct memmap *map)
{
    if (map->grow == NULL || map->growing)
        return false;
    map->growing = true;
    bool grown = map->grow(map);
    map->growing = false;
    return grown;
}

/* Only after make_room(): there is room. */
static void insert_at(struct memmap *map, uint32_t index, struct boot_region region)
{
    memmove(&map->regions[index + 1], &map->regions[index],
            (map->count - index) * sizeof(map->regions[0]));
    map->regions[index] = region;
    map->count++;
}

/* Joins neighbours of the same kind, so the map stays as short as it can. */
static void merge_neighbours(struct memmap *map)
{
    uint32_t kept = 0;
    for (uint32_t i = 0; i < map->count; i++) {
        struct boot_region *last = kept ? &map->regions[kept - 1] : NULL;
        if (last && last->kind == map->regions[i].kind && region_end(last) == map->regions[i].base)
            last->size += map->regions[i].size;
        else
            map->regions[kept++] = map->regions[i];
    }
    map->count = kept;
}

bool memmap_add_bank(struct memmap *map, uint64_t base, uint64_t size)
{
    uint32_t index = 0;
    while (index < map->count && map->regions[index].base < base)
        index++;
    bool overlaps_previous = index > 0 && region_end(&map->regions[index - 1]) > base;
    bool overlaps_next = index < map->count && base + size > map->regions[index].base;
    if (size == 0 || base + size < base || overlaps_previous || overlaps_next ||
        !make_room(map, 1))
        return false;
    insert_at(map, index, (struct boot_region){base, size, BOOT_REGION_USABLE, 0});
    return true;
}

/* The entries a conversion adds: one for each region of kind `from` that it
 * cuts at its start, one for each it cuts at its end (two at most: only the
 * first and the last region touched can be cut). */
static uint32_t entries_added(const struct memmap *map, uint64_t base, uint64_t end,
                              enum boot_region_kind from)
{
    uint32_t added = 0;
    for (uint32_t i = 0; i < map->count; i++) {
        const struct boot_region *region = &map->regions[i];
        if (region->kind != from || end <= region->base || region_end(region) <= base)
            continue;
        added += base > region->base;
        added += end < region_end(region);
    }
    return added;
}

bool memmap_convert(struct memmap *map, uint64_t base, uint64_t size,
                    enum boot_region_kind from, enum boot_region_kind to)
{
    uint64_t end = base + size < base ? UINT64_MAX : base + size;
    /* Room first, so that growing never happens halfway through. */
    if (!make_room(map, entries_added(map, base, end, from)))
        return false;
    for (uint32_t i = 0; i < map->count; i++) {
        struct boot_region *region = &map->regions[i];
        uint64_t start_here = base > region->base ? base : region->base;
        uint64_t end_here = end < region_end(region) ? end : region_end(region);
        if (region->kind != from || start_here >= end_here)
            continue;

        /* Cut the region in up to three: before, converted, after. */
        uint64_t after = region_end(region);
        if (end_here < after)
            insert_at(map, i + 1, (struct boot_region){end_here, after - end_here, from, 0});
        region = &map->regions[i];
        if (start_here > region->base) {
            region->size = start_here - region->base;
            insert_at(map, ++i, (struct boot_region){start_here, end_here - start_here, to, 0});
        } else {
            region->size = end_here - start_here;
            region->kind = to;
        }
    }
    merge_neighbours(map);
    return true;
}

bool memmap_claim(struct memmap *map, uint64_t base, uint64_t size, enum boot_region_kind kind)
{
    return memmap_convert(map, base, size, BOOT_REGION_USABLE, kind);
}

uint64_t memmap_alloc(struct memmap *map, uint64_t size, uint64_t align,
                      enum boot_region_kind kind)
{
    /* Room first: growing allocates too, and would take the very memory
     * found here. */
    if (!make_room(map, MEMMAP_GROW_SPARE))
        return 0;
    for (uint32_t i = 0; i < map->count; i++) {
        const struct boot_region *region = &map->regions[i];
        uint64_t start = align_up(region->base, align);
        if (region->kind == BOOT_REGION_USABLE && start >= region->base &&
            start + size <= region_end(region))
            return memmap_claim(map, start, size, kind) ? start : 0;
    }
    return 0;
}

uint64_t memmap_bytes(const struct memmap *map, enum boot_region_kind kind)
{
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < map->count; i++)
        if (map->regions[i].kind == kind)
            bytes += map->regions[i].size;
    return bytes;
}

const char *boot_region_kind_name(enum boot_region_kind kind)
{
    static const char *const names[BOOT_REGION_KIND_COUNT] = {
        [BOOT_REGION_USABLE] = "free",
        [BOOT_REGION_RESERVED] = "reserved",
        [BOOT_REGION_DTB] = "dtb",
        [BOOT_REGION_LOADER] = "loader",
        [BOOT_REGION_KERNEL] = "kernel",
        [BOOT_REGION_PAGETABLES] = "pagetables",
        [BOOT_REGION_BOOTINFO] = "bootinfo",
        [BOOT_REGION_PERCPU] = "percpu",
        [BOOT_REGION_ALLOCATED] = "allocated",
    };
    return kind < BOOT_REGION_KIND_COUNT ? names[kind] : "unknown";
}
