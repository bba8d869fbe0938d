#include <aubade/sv39.h>
#include <stdbool.h>

#define PTE_LEAF (PTE_R | PTE_W | PTE_X)
#define PTE_PPN_SHIFT 10

static uint64_t page_size(int level)
{
    return SV39_PAGE_SIZE << (9 * level);
}

static unsigned table_index(uint64_t virt, int level)
{
    return (virt >> (12 + 9 * level)) & (SV39_ENTRIES - 1);
}

static uint64_t pte_address(uint64_t pte)
{
    return (pte >> PTE_PPN_SHIFT) << 12;
}

/* Sv39 addresses sign-extend bit 38 into bits 63..39. */
static bool canonical(uint64_t virt)
{
    uint64_t top = virt >> 38;
    return top == 0 || top == (UINT64_MAX >> 38);
}

/* The biggest page that fits at this point of the range. */
static int leaf_level(uint64_t virt, uint64_t phys, uint64_t remaining)
{
    for (int level = 2; level > 0; level--)
        if (((virt | phys) & (page_size(level) - 1)) == 0 && remaining >= page_size(level))
            return level;
    return 0;
}

static int map_page(const struct sv39 *space, uint64_t virt, uint64_t phys, int level,
                    uint32_t permissions)
{
    uint64_t *table = space->table_address(space->context, space->root);
    for (int walk = 2; walk > level; walk--) {
        uint64_t *entry = &table[table_index(virt, walk)];
        if (!(*entry & PTE_V)) {
            uint64_t next = space->alloc_table ? space->alloc_table(space->context) : 0;
            if (next == 0)
                return SV39_NO_MEMORY;
            *entry = next >> 12 << PTE_PPN_SHIFT | PTE_V;
        } else if (*entry & PTE_LEAF) {
            return SV39_ALREADY_MAPPED;
        }
        table = space->table_address(space->context, pte_address(*entry));
    }
    uint64_t *entry = &table[table_index(virt, level)];
    if (*entry & PTE_V)
        return SV39_ALREADY_MAPPED;
    *entry = phys >> 12 << PTE_PPN_SHIFT | permissions | PTE_A | PTE_D | PTE_V;
    return SV39_OK;
}

int sv39_map(const struct sv39 *space, uint64_t virt, uint64_t phys, uint64_t size,
             uint32_t permissions)
{
    if ((virt | phys | size) & (SV39_PAGE_SIZE - 1))
        return SV39_MISALIGNED;
    if (!canonical(virt) || (size && !canonical(virt + size - 1)))
        return SV39_OUT_OF_RANGE;
    while (size) {
        int level = leaf_level(virt, phys, size);
        int error = map_page(space, virt, phys, level, permissions);
        if (error)
            return error;
        virt += page_size(level);
        phys += page_size(level);
        size -= page_size(level);
    }
    return SV39_OK;
}

const char *sv39_strerror(int error)
{
    switch (error) {
    case SV39_MISALIGNED:
        return "misaligned";
    case SV39_OUT_OF_RANGE:
        return "address-out-of-range";
    case SV39_ALREADY_MAPPED:
        return "already-mapped";
    case SV39_NO_MEMORY:
        return "out-of-memory";
    default:
        return "ok";
    }
}
