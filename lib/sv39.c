#include <aubade/sv39.h>
#include <stdbool.h>

#define PTE_LEAF (PTE_R | PTE_W | PTE_X)
#define PTE_PERMISSIONS (PTE_R | PTE_W | PTE_X | PTE_U | PTE_G)
#define PTE_PPN_SHIFT 10
#define PTE_PPN_MASK (((1ul << 44) - 1) << PTE_PPN_SHIFT) /* bits 53:10 */

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
    return (pte & PTE_PPN_MASK) >> PTE_PPN_SHIFT << 12;
}

static bool is_leaf(uint64_t pte)
{
    return (pte & PTE_V) && (pte & PTE_LEAF);
}

/* Sv39 addresses sign-extend bit 38 into bits 63..39. */
static bool canonical(uint64_t virt)
{
    uint64_t top = virt >> 38;
    return top == 0 || top == (UINT64_MAX >> 38);
}

/* A range that stays in one half: no non-canonical address inside it. */
static bool range_in_one_half(uint64_t virt, uint64_t size)
{
    uint64_t last = virt + size - 1;
    return canonical(virt) && canonical(last) && last >= virt && virt >> 38 == last >> 38;
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
                    uint64_t permissions)
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
             uint64_t permissions)
{
    if ((virt | phys | size) & (SV39_PAGE_SIZE - 1))
        return SV39_MISALIGNED;
    if (size && !range_in_one_half(virt, size))
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

/* The entry where the hardware's walk for virt ends: a leaf, an invalid
 * entry, or whatever level 0 holds. *level is the level it is on. */
static uint64_t *final_entry(const struct sv39 *space, uint64_t virt, int *level)
{
    uint64_t *table = space->table_address(space->context, space->root);
    for (int walk = 2;; walk--) {
        uint64_t *entry = &table[table_index(virt, walk)];
        if (walk == 0 || !(*entry & PTE_V) || (*entry & PTE_LEAF)) {
            *level = walk;
            return entry;
        }
        table = space->table_address(space->context, pte_address(*entry));
    }
}

int sv39_translate(const struct sv39 *space, uint64_t virt, struct sv39_leaf *leaf)
{
    if (!canonical(virt))
        return SV39_OUT_OF_RANGE;
    int level;
    uint64_t pte = *final_entry(space, virt, &level);
    uint64_t size = page_size(level);
    *leaf = (struct sv39_leaf){virt & ~(size - 1), 0, size, 0};
    if (!is_leaf(pte))
        return SV39_NOT_MAPPED;
    leaf->phys = pte_address(pte);
    leaf->pte = pte & ~PTE_PPN_MASK;
    return SV39_OK;
}

/*
 * Unmapping and protecting change every leaf of a range in two passes, so
 * that a refused range is left as it was:
 *   1. check: each leaf lies wholly inside the range, and holes are allowed
 *      or there are none;
 *   2. change: each leaf's entry becomes change(entry, permissions).
 * Offsets from virt step over each leaf or hole in turn; unsigned arithmetic
 * keeps them right when a hole's block starts below virt.
 */
static int check_range(const struct sv39 *space, uint64_t virt, uint64_t size, bool holes_allowed)
{
    for (uint64_t done = 0; done < size;) {
        struct sv39_leaf leaf;
        int status = sv39_translate(space, virt + done, &leaf);
        if (status == SV39_NOT_MAPPED && !holes_allowed)
            return SV39_NOT_MAPPED;
        if (status == SV39_OK && (leaf.virt < virt || leaf.virt - virt + leaf.size > size))
            return SV39_PARTIAL_PAGE;
        done = leaf.virt - virt + leaf.size;
    }
    return SV39_OK;
}

static int change_range(const struct sv39 *space, uint64_t virt, uint64_t size, bool holes_allowed,
                        uint64_t (*change)(uint64_t pte, uint64_t permissions),
                        uint64_t permissions)
{
    if ((virt | size) & (SV39_PAGE_SIZE - 1))
        return SV39_MISALIGNED;
    if (size == 0)
        return SV39_OK;
    if (!range_in_one_half(virt, size))
        return SV39_OUT_OF_RANGE;
    int error = check_range(space, virt, size, holes_allowed);
    if (error)
        return error;
    for (uint64_t done = 0; done < size;) {
        int level;
        uint64_t *entry = final_entry(space, virt + done, &level);
        if (is_leaf(*entry))
            *entry = change(*entry, permissions);
        uint64_t block = page_size(level);
        done = ((virt + done) & ~(block - 1)) - virt + block;
    }
    return SV39_OK;
}

static uint64_t cleared(uint64_t pte, uint64_t permissions)
{
    (void)pte;
    (void)permissions;
    return 0;
}

static uint64_t with_permissions(uint64_t pte, uint64_t permissions)
{
    return (pte & ~(uint64_t)PTE_PERMISSIONS) | (permissions & PTE_PERMISSIONS);
}

int sv39_unmap(const struct sv39 *space, uint64_t virt, uint64_t size)
{
    return change_range(space, virt, size, true, cleared, 0);
}

int sv39_protect(const struct sv39 *space, uint64_t virt, uint64_t size, uint64_t permissions)
{
    return change_range(space, virt, size, false, with_permissions, permissions);
}

/* Sv39 addresses sign-extend bit 38. */
static uint64_t sign_extended(uint64_t virt)
{
    return virt & (1ul << 38) ? virt | ~((1ul << 39) - 1) : virt;
}

static void walk_table(const struct sv39 *space, uint64_t table_phys, int level, uint64_t base,
                       void (*visit)(void *context, const struct sv39_leaf *leaf), void *context)
{
    const uint64_t *table = space->table_address(space->context, table_phys);
    for (unsigned i = 0; i < SV39_ENTRIES; i++) {
        uint64_t pte = table[i];
        uint64_t virt = base | (uint64_t)i << (12 + 9 * level);
        if (is_leaf(pte)) {
            struct sv39_leaf leaf = {sign_extended(virt), pte_address(pte), page_size(level),
                                     pte & ~PTE_PPN_MASK};
            visit(context, &leaf);
        } else if ((pte & PTE_V) && level > 0) {
            walk_table(space, pte_address(pte), level - 1, virt, visit, context);
        }
    }
}

void sv39_walk(const struct sv39 *space,
               void (*visit)(void *context, const struct sv39_leaf *leaf), void *context)
{
    walk_table(space, space->root, 2, 0, visit, context);
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
    case SV39_NOT_MAPPED:
        return "not-mapped";
    case SV39_PARTIAL_PAGE:
        return "part-of-a-bigger-page";
    default:
        return "ok";
    }
}
