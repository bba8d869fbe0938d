/*
 * Sv39 page tables: three levels of 512 entries, 4 KiB pages, 2 MiB mega-
 * and 1 GiB gigapages. Shared by the loader (tables reached by physical
 * address, MMU off) and the kernel (tables reached through the direct map).
 */
#ifndef AUBADE_SV39_H
#define AUBADE_SV39_H

#include <stdint.h>

#define PTE_V (1u << 0)
#define PTE_R (1u << 1)
#define PTE_W (1u << 2)
#define PTE_X (1u << 3)
#define PTE_U (1u << 4)
#define PTE_G (1u << 5)
#define PTE_A (1u << 6)
#define PTE_D (1u << 7)
/* Svpbmt's memory type, bits 62:61: IO is non-cacheable, strongly ordered.
 * Reserved (must be zero) on harts without the extension. */
#define PTE_PBMT_IO (2ul << 61)

#define SV39_PAGE_SIZE 0x1000ul
#define SV39_MEGAPAGE_SIZE 0x200000ul
#define SV39_GIGAPAGE_SIZE 0x40000000ul
#define SV39_ENTRIES 512

struct sv39 {
    uint64_t root; /* physical address of the root table */
    /* A zeroed, page-aligned page for a new table: its physical address, or 0. */
    uint64_t (*alloc_table)(void *context);
    /* Where this code can read and write the table at a physical address. */
    uint64_t *(*table_address)(void *context, uint64_t phys);
    void *context;
};

enum sv39_error {
    SV39_OK = 0,
    SV39_MISALIGNED = -1,     /* virt, phys or size not page-aligned */
    SV39_OUT_OF_RANGE = -2,   /* virt not canonical for Sv39 */
    SV39_ALREADY_MAPPED = -3, /* part of the range is mapped already */
    SV39_NO_MEMORY = -4,      /* alloc_table gave nothing */
    SV39_NOT_MAPPED = -5,     /* part of the range is not mapped */
    SV39_PARTIAL_PAGE = -6,   /* the range covers only part of a bigger page */
};

/* One valid leaf entry: the page it maps and the entry itself. */
struct sv39_leaf {
    uint64_t virt; /* first address of the page, sign-extended */
    uint64_t phys;
    uint64_t size; /* SV39_PAGE_SIZE, SV39_MEGAPAGE_SIZE or SV39_GIGAPAGE_SIZE */
    uint64_t pte;  /* its bits: PTE_R/W/X/U/G/A/D, PBMT */
};

/* Maps [virt, virt + size) to phys with `permissions` (PTE_R/W/X/U/G and
 * PBMT bits), using the largest pages that alignment allows. Sets A and D up
 * front: hardware may fault instead of setting them. */
int sv39_map(const struct sv39 *space, uint64_t virt, uint64_t phys, uint64_t size,
             uint64_t permissions);

/* Removes every leaf in [virt, virt + size); unmapped parts are fine. Bigger
 * pages are not split: a mega- or gigapage only partly inside the range is
 * refused with SV39_PARTIAL_PAGE before anything changes. Tables left empty
 * stay in place. The caller flushes the TLB. */
int sv39_unmap(const struct sv39 *space, uint64_t virt, uint64_t size);

/* Gives every leaf in [virt, virt + size) the permissions PTE_R/W/X/U/G
 * (A, D and PBMT are kept). The whole range must be mapped (SV39_NOT_MAPPED)
 * by pages wholly inside it (SV39_PARTIAL_PAGE); nothing changes otherwise.
 * The caller flushes the TLB. */
int sv39_protect(const struct sv39 *space, uint64_t virt, uint64_t size, uint64_t permissions);

/* The leaf that maps virt: SV39_OK and *leaf. If there is none,
 * SV39_NOT_MAPPED, and leaf->virt and leaf->size give the aligned block
 * around virt where the walk found an empty entry: nothing in it is mapped. */
int sv39_translate(const struct sv39 *space, uint64_t virt, struct sv39_leaf *leaf);

/* Calls visit for every valid leaf, in address order. */
void sv39_walk(const struct sv39 *space,
               void (*visit)(void *context, const struct sv39_leaf *leaf), void *context);

const char *sv39_strerror(int error);

static inline uint64_t sv39_satp(uint64_t root)
{
    return 8ul << 60 | root >> 12; /* MODE = Sv39, ASID 0 */
}

#endif
