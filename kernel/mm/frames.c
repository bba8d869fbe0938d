/*
 * The physical frame allocator: a buddy allocator over the memory the
 * loader left free.
 *
 * Memory is handed out in blocks of 2^order pages (order 0 is one 4 KiB
 * page, MAX_ORDER one 1 GiB block), each aligned to its own size. A block's
 * buddy is the other half of the block twice its size: address XOR size.
 * There is one free list per order; freeing a block joins it with its buddy
 * while the buddy is free with the same order, and so on upwards.
 *
 * There is no per-page metadata: an array of page descriptors would have to
 * be initialised at boot, and that costs time in proportion to memory. A
 * free block instead carries its own header, in its first bytes, reached
 * through the direct map:
 *
 *   magic  the block's address and order mixed with a per-boot random key
 *   next   the next free block of this order (physical), or NO_BLOCK
 *   prev   the previous one, or NO_BLOCK if this block is the list's head
 *
 * Allocated memory holds whatever its owner wrote, which may look like a
 * header, so "is my buddy free with order k?" believes a header only if
 *
 *   1. the buddy lies wholly in memory this allocator manages (a free
 *      region of the map), so reading it cannot touch anything else;
 *   2. its magic is the one for that address and order;
 *   3. it is really linked into order k's list: it is the head, or its prev
 *      (itself checked as in 1) has it as next.
 *
 * A header is cleared whenever its block leaves a list (allocation, split,
 * join), so only linked blocks ever carry a valid one.
 *
 * Initialisation writes nothing: each free region of the map starts as an
 * untouched range, and a block is cut from one only when no list has a block
 * big enough (the part below the block's alignment goes to the lists). Its
 * cost grows with the number of regions, not pages, and memory nobody has
 * asked for is never touched: on QEMU, whose guest RAM is backed by host huge
 * pages, every first touch of 2 MiB makes the host zero it.
 *
 * The memory map (struct memmap) keeps the kinds the loader handed over, for
 * the `kernel: region` lines: `free` is memory this allocator manages,
 * whether it is handed out at the moment or not.
 */
#include <aubade/csr.h>
#include <aubade/log.h>
#include <aubade/memmap.h>
#include <aubade/string.h>

#include "boot/boot.h"
#include "debug/debug.h"
#include "mm/mm.h"
#include "smp/smp.h"

#define PAGE_SHIFT 12
#define PAGE_SIZE (1ul << PAGE_SHIFT)
#define MAX_ORDER 18 /* 1 GiB blocks */
#define NO_BLOCK UINT64_MAX

struct free_block {
    uint64_t magic;
    uint64_t next;
    uint64_t prev;
};

static struct memmap physical;
static uint64_t free_lists[MAX_ORDER + 1];
/* Free memory no block has been cut from yet, from the low end: one range
 * per free region of the map, in an array sized for them (frames_init). */
static struct boot_range *untouched;
static uint32_t untouched_count;
static uint64_t untouched_bytes;
static uint64_t free_bytes;
/* Counted apart from the free lists, so that the two can be checked against
 * each other: free + allocated is all the memory the allocator manages. */
static uint64_t allocated_bytes;
static uint64_t magic_key;
static struct spinlock frames_lock = SPINLOCK_INIT("frames"); /* every hart allocates */

static uint64_t block_bytes(unsigned order)
{
    return PAGE_SIZE << order;
}

/* The smallest order whose blocks hold `bytes`. */
static unsigned order_for(uint64_t bytes)
{
    unsigned order = 0;
    while (order <= MAX_ORDER && block_bytes(order) < bytes)
        order++;
    return order;
}

static struct free_block *header(uint64_t phys)
{
    return phys_to_virt(phys);
}

static uint64_t magic_of(uint64_t phys, unsigned order)
{
    return magic_key ^ phys ^ order;
}

/* Whether [phys, phys + size) lies in one free region of the map. */
static bool managed(uint64_t phys, uint64_t size)
{
    for (uint32_t i = 0; i < physical.count; i++) {
        const struct boot_region *region = &physical.regions[i];
        if (region->kind == BOOT_REGION_USABLE && phys >= region->base &&
            size <= region->base + region->size - phys)
            return true;
    }
    return false;
}

static bool overlaps_untouched(uint64_t phys, uint64_t size)
{
    for (uint32_t i = 0; i < untouched_count; i++)
        if (phys < untouched[i].end && untouched[i].start < phys + size)
            return true;
    return false;
}

/* The three checks of the top comment, in that order; untouched memory is
 * never a block, and is not read to learn so. */
static bool is_free_block(uint64_t phys, unsigned order)
{
    if (!managed(phys, block_bytes(order)) || overlaps_untouched(phys, block_bytes(order)))
        return false;
    const struct free_block *block = header(phys);
    if (block->magic != magic_of(phys, order))
        return false;
    if (block->prev == NO_BLOCK)
        return free_lists[order] == phys;
    if (block->prev % block_bytes(order) != 0 || !managed(block->prev, block_bytes(order)))
        return false;
    return header(block->prev)->next == phys;
}

static void link(uint64_t phys, unsigned order)
{
    struct free_block *block = header(phys);
    block->magic = magic_of(phys, order);
    block->prev = NO_BLOCK;
    block->next = free_lists[order];
    if (block->next != NO_BLOCK)
        header(block->next)->prev = phys;
    free_lists[order] = phys;
    free_bytes += block_bytes(order);
}

static void unlink(uint64_t phys, unsigned order)
{
    struct free_block *block = header(phys);
    if (block->prev == NO_BLOCK)
        free_lists[order] = block->next;
    else
        header(block->prev)->next = block->next;
    if (block->next != NO_BLOCK)
        header(block->next)->prev = block->prev;
    memset(block, 0, sizeof(*block));
    free_bytes -= block_bytes(order);
}

/* A block that is already free, or inside a larger free block, is being
 * freed again: its owner's bug, and joining it would corrupt the lists. */
static bool already_free(uint64_t phys, unsigned order)
{
    for (unsigned larger = order; larger <= MAX_ORDER; larger++)
        if (is_free_block(align_down(phys, block_bytes(larger)), larger))
            return true;
    return false;
}

/* Where freed memory comes from: the memory map says it was not free, or an
 * owner says so, which is checked. The check reads a header at every larger
 * alignment, and each read may be the first touch of its memory: on QEMU
 * that makes the host zero a 2 MiB huge page, so at boot it would cost
 * milliseconds per GiB, for memory the map already vouches for. */
enum provenance {
    FROM_MAP,
    FROM_OWNER,
};

/* Frees one aligned block, joined with its buddies as far as they are free. */
static void free_block(uint64_t phys, unsigned order, enum provenance provenance)
{
    if (provenance == FROM_OWNER && already_free(phys, order))
        kernel_panic("frames-double-free", "block 0x%lx of 0x%lx bytes is already free", phys,
                     block_bytes(order));
    for (; order < MAX_ORDER; order++) {
        uint64_t buddy = phys ^ block_bytes(order);
        if (!is_free_block(buddy, order))
            break;
        unlink(buddy, order);
        phys &= ~block_bytes(order);
    }
    link(phys, order);
}

/* The largest order a block at `phys` may have: its alignment, capped. */
static unsigned alignment_order(uint64_t phys)
{
    unsigned order = 0;
    while (order < MAX_ORDER && phys % block_bytes(order + 1) == 0)
        order++;
    return order;
}

/* Frees [start, end) (page-aligned) as its largest naturally aligned
 * blocks; returns how many there were. */
static uint32_t free_range(uint64_t start, uint64_t end, enum provenance provenance)
{
    uint32_t blocks = 0;
    while (start < end) {
        unsigned order = alignment_order(start);
        while (block_bytes(order) > end - start)
            order--;
        free_block(start, order, provenance);
        start += block_bytes(order);
        blocks++;
    }
    return blocks;
}

/* The page-aligned part of a free region, or an empty range. */
static struct boot_range free_part(const struct boot_region *region)
{
    uint64_t start = align_up(region->base, PAGE_SIZE);
    uint64_t end = align_down(region->base + region->size, PAGE_SIZE);
    if (region->kind != BOOT_REGION_USABLE || start >= end)
        return (struct boot_range){0, 0};
    return (struct boot_range){start, end};
}

void frames_init(void)
{
    const struct boot_info *info = boot_info;
    /* BootInfo's map, in place: its memory is the kernel's for good, and
     * the kernel only ever changes the kind of whole regions, which needs
     * no room. */
    physical = (struct memmap){
        .regions = boot_info_regions(info),
        .count = info->region_count,
        .capacity = info->region_count,
    };
    for (unsigned order = 0; order <= MAX_ORDER; order++)
        free_lists[order] = NO_BLOCK;
    magic_key = random_u64();

    /* 1. The untouched list needs an entry per free region, however many
     *    the loader left: its pages come from the start of the first free
     *    region with room for them, allocated for good. */
    uint32_t ranges = 0;
    for (uint32_t i = 0; i < physical.count; i++)
        ranges += free_part(&physical.regions[i]).end != 0;
    uint64_t list_bytes = align_up(ranges * sizeof(*untouched), PAGE_SIZE);
    uint32_t host = 0;
    for (; host < physical.count; host++) {
        struct boot_range range = free_part(&physical.regions[host]);
        if (range.end - range.start > list_bytes)
            break;
    }
    if (host == physical.count)
        kernel_panic("out-of-memory", "no free 0x%lx bytes for the list of %u free ranges",
                     list_bytes, ranges);
    untouched = phys_to_virt(free_part(&physical.regions[host]).start);
    allocated_bytes += list_bytes;

    /* 2. Every free region is untouched memory, less that list. */
    for (uint32_t i = 0; i < physical.count; i++) {
        struct boot_range range = free_part(&physical.regions[i]);
        if (range.end == 0)
            continue;
        if (i == host)
            range.start += list_bytes;
        untouched[untouched_count++] = range;
        untouched_bytes += range.end - range.start;
        log_debug("mm", "add", "range=0x%lx-0x%lx", range.start, range.end);
    }
}

static const struct boot_region *first_of_kind(enum boot_region_kind kind)
{
    for (uint32_t i = 0; i < physical.count; i++)
        if (physical.regions[i].kind == kind)
            return &physical.regions[i];
    return NULL;
}

struct reclaimed {
    uint64_t bytes;
    uint32_t ranges;
};

/* Memory of `kind` becomes free and joins the buddy lists. */
static void reclaim(enum boot_region_kind kind, struct reclaimed *reclaimed)
{
    const struct boot_region *region;
    while ((region = first_of_kind(kind)) != NULL) {
        uint64_t base = region->base, size = region->size;
        /* A whole region changes kind: nothing to cut, so the map cannot
         * overflow (it may merge with its neighbours, hence the search
         * from the start each time). */
        memmap_convert(&physical, base, size, kind, BOOT_REGION_USABLE);
        uint32_t blocks = free_range(base, base + size, FROM_MAP);
        log_debug("mm", "reclaim", "range=0x%lx-0x%lx kind=%s blocks=%u", base, base + size,
                  boot_region_kind_name(kind), blocks);
        reclaimed->bytes += size;
        reclaimed->ranges++;
    }
}

static void log_regions(void);

void frames_reclaim_loader(void)
{
    struct reclaimed reclaimed = {0, 0};
    uint64_t were_enabled = spin_lock_irqsave(&frames_lock);
    reclaim(BOOT_REGION_LOADER, &reclaimed);
    reclaim(BOOT_REGION_PAGETABLES, &reclaimed);
    spin_unlock_irqrestore(&frames_lock, were_enabled);
    log_event("kernel", "reclaim", "bytes=0x%lx ranges=%u", reclaimed.bytes, reclaimed.ranges);
    log_event("kernel", "frames", "free=0x%lx allocated=0x%lx total=0x%lx", frames_free_bytes(),
              frames_allocated_bytes(), frames_total_bytes());
    log_regions();
}

/* Cuts a block of `order` from the lowest untouched memory where one fits;
 * what lies below its alignment goes to the lists. NO_BLOCK if none fits. */
static uint64_t cut_untouched(unsigned order)
{
    for (uint32_t i = 0; i < untouched_count; i++) {
        struct boot_range *range = &untouched[i];
        uint64_t block = align_up(range->start, block_bytes(order));
        if (block >= range->end || block_bytes(order) > range->end - block)
            continue;
        uint64_t below = range->start;
        untouched_bytes -= block + block_bytes(order) - below;
        range->start = block + block_bytes(order);
        free_range(below, block, FROM_MAP);
        return block;
    }
    return NO_BLOCK;
}

/* Takes a free block of at least `order`, splits it down to `order` and
 * gives the upper halves back; else cuts one from untouched memory;
 * NO_BLOCK if neither has one. */
static uint64_t take_block(unsigned order)
{
    unsigned found = order;
    while (found <= MAX_ORDER && free_lists[found] == NO_BLOCK)
        found++;
    if (found > MAX_ORDER)
        return cut_untouched(order);
    uint64_t phys = free_lists[found];
    unlink(phys, found);
    while (found > order) {
        found--;
        link(phys + block_bytes(found), found);
    }
    return phys;
}

uint64_t frames_alloc(uint64_t size, uint64_t align)
{
    /* 1. A block as large as the request and as its alignment. */
    size = align_up(size, PAGE_SIZE);
    unsigned size_order = order_for(size);
    unsigned align_order = order_for(align);
    unsigned order = size_order > align_order ? size_order : align_order;
    if (size == 0 || order > MAX_ORDER)
        return 0;

    uint64_t were_enabled = spin_lock_irqsave(&frames_lock);
    uint64_t phys = take_block(order);
    /* 2. Whatever of it the request does not need goes back. */
    if (phys != NO_BLOCK) {
        free_range(phys + size, phys + block_bytes(order), FROM_MAP); /* just taken */
        allocated_bytes += size;
    }
    spin_unlock_irqrestore(&frames_lock, were_enabled);

    if (phys == NO_BLOCK) {
        log_debug("mm", "exhausted", "size=0x%lx align=0x%lx", size, align);
        return 0;
    }
    return phys;
}

void frames_free(uint64_t phys, uint64_t size)
{
    size = align_up(size, PAGE_SIZE);
    uint64_t were_enabled = spin_lock_irqsave(&frames_lock);
    if (phys % PAGE_SIZE != 0 || size == 0 || !managed(phys, size) ||
        overlaps_untouched(phys, size))
        kernel_panic("frames-bad-free", "0x%lx bytes at 0x%lx are not allocatable memory", size,
                     phys);
    free_range(phys, phys + size, FROM_OWNER);
    allocated_bytes -= size;
    spin_unlock_irqrestore(&frames_lock, were_enabled);
}

bool frames_owns(uint64_t phys, uint64_t size)
{
    uint64_t were_enabled = spin_lock_irqsave(&frames_lock);
    bool owned = managed(phys, size);
    spin_unlock_irqrestore(&frames_lock, were_enabled);
    return owned;
}

uint64_t frames_free_bytes(void)
{
    uint64_t were_enabled = spin_lock_irqsave(&frames_lock);
    uint64_t bytes = free_bytes + untouched_bytes;
    spin_unlock_irqrestore(&frames_lock, were_enabled);
    return bytes;
}

uint64_t frames_allocated_bytes(void)
{
    uint64_t were_enabled = spin_lock_irqsave(&frames_lock);
    uint64_t bytes = allocated_bytes;
    spin_unlock_irqrestore(&frames_lock, were_enabled);
    return bytes;
}

uint64_t frames_total_bytes(void)
{
    uint64_t total = 0;
    for (uint32_t i = 0; i < physical.count; i++)
        if (physical.regions[i].kind != BOOT_REGION_RESERVED)
            total += physical.regions[i].size;
    return total;
}

static void log_regions(void)
{
    for (uint32_t i = 0; i < physical.count; i++) {
        const struct boot_region *region = &physical.regions[i];
        log_event("kernel", "region", "range=0x%lx-0x%lx kind=%s", region->base,
                  region->base + region->size, boot_region_kind_name(region->kind));
    }
}
