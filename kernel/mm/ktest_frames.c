/*
 * The frame allocator: contiguous, aligned blocks; every byte given back
 * comes back; running out is a plain 0.
 */
#include <aubade/memmap.h>
#include <aubade/string.h>

#include "boot/boot.h"
#include "ktest/ktest.h"
#include "mm/mm.h"
#include "smp/smp.h"

#define PAGE 0x1000ul
#define MIB (1ul << 20)

KTEST(frames, single_page)
{
    uint64_t before = frames_free_bytes();
    uint64_t page = frames_alloc(PAGE, PAGE);
    KTEST_ASSERT(t, page != 0);
    KTEST_EXPECT_EQ(t, page % PAGE, 0);
    KTEST_EXPECT_EQ(t, frames_free_bytes(), before - PAGE);
    memset(phys_to_virt(page), 0x5a, PAGE);
    frames_free(page, PAGE);
    KTEST_EXPECT_EQ(t, frames_free_bytes(), before);
}

/* Every page of a multi-page block is ours: fill it, then read it back. */
KTEST(frames, contiguous_pages)
{
    uint64_t size = 16 * PAGE;
    uint64_t block = frames_alloc(size, PAGE);
    KTEST_ASSERT(t, block != 0);
    uint64_t *words = phys_to_virt(block);
    for (uint64_t i = 0; i < size / 8; i++)
        words[i] = block + i;
    bool intact = true;
    for (uint64_t i = 0; i < size / 8; i++)
        intact &= words[i] == block + i;
    KTEST_EXPECT(t, intact);
    frames_free(block, size);
}

KTEST(frames, alignment)
{
    uint64_t before = frames_free_bytes();
    for (uint64_t align = PAGE; align <= 2 * MIB; align *= 2) {
        uint64_t block = frames_alloc(PAGE, align);
        KTEST_ASSERT(t, block != 0);
        if (!KTEST_EXPECT_EQ(t, block % align, 0))
            ktest_note(t, "align=0x%lx block=0x%lx", align, block);
        /* Only the page asked for is taken; the rest of the block is back. */
        KTEST_EXPECT_EQ(t, frames_free_bytes(), before - PAGE);
        frames_free(block, PAGE);
    }
    KTEST_EXPECT_EQ(t, frames_free_bytes(), before);
}

/* Sizes that are not a power of two take exactly their pages. */
KTEST(frames, odd_sizes)
{
    uint64_t before = frames_free_bytes();
    const uint64_t pages[] = {3, 5, 7, 13, 100};
    uint64_t blocks[sizeof(pages) / sizeof(pages[0])];
    uint64_t taken = 0;
    for (unsigned i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
        blocks[i] = frames_alloc(pages[i] * PAGE, PAGE);
        KTEST_ASSERT(t, blocks[i] != 0);
        taken += pages[i] * PAGE;
        KTEST_EXPECT_EQ(t, frames_free_bytes(), before - taken);
        memset(phys_to_virt(blocks[i]), (int)i, pages[i] * PAGE);
    }
    for (unsigned i = 0; i < sizeof(pages) / sizeof(pages[0]); i++)
        frames_free(blocks[i], pages[i] * PAGE);
    KTEST_EXPECT_EQ(t, frames_free_bytes(), before);
}

/* Pages freed in an order unlike their allocation's all come back, and
 * a large block can be had again. */
KTEST(frames, free_coalesces)
{
    uint64_t before = frames_free_bytes();
    uint64_t pages[64];
    for (unsigned i = 0; i < 64; i++) {
        pages[i] = frames_alloc(PAGE, PAGE);
        KTEST_ASSERT(t, pages[i] != 0);
    }
    for (unsigned i = 0; i < 64; i++)
        frames_free(pages[(i * 37) % 64], PAGE); /* 37 is prime to 64: each once */
    KTEST_EXPECT_EQ(t, frames_free_bytes(), before);
    uint64_t block = frames_alloc(2 * MIB, 2 * MIB);
    KTEST_EXPECT(t, block != 0);
    frames_free(block, 2 * MIB);
}

KTEST(frames, large_allocation)
{
    uint64_t size = 64 * MIB;
    /* Blocks are naturally aligned: in 128 MiB the firmware and the device
     * tree leave no aligned 64 MiB free. */
    if (frames_total_bytes() < 3 * size) {
        ktest_skip(t, "less than 192 MiB of memory");
        return;
    }
    uint64_t block = frames_alloc(size, PAGE);
    KTEST_ASSERT(t, block != 0);
    /* The first and last word of every MiB. */
    for (uint64_t offset = 0; offset < size; offset += MIB) {
        *(uint64_t *)phys_to_virt(block + offset) = offset;
        *(uint64_t *)phys_to_virt(block + offset + MIB - 8) = ~offset;
    }
    bool intact = true;
    for (uint64_t offset = 0; offset < size; offset += MIB)
        intact &= *(uint64_t *)phys_to_virt(block + offset) == offset &&
                  *(uint64_t *)phys_to_virt(block + offset + MIB - 8) == ~offset;
    KTEST_EXPECT(t, intact);
    frames_free(block, size);
}

KTEST(frames, impossible_requests)
{
    uint64_t before = frames_free_bytes();
    KTEST_EXPECT_EQ(t, frames_alloc(0, PAGE), 0);
    KTEST_EXPECT_EQ(t, frames_alloc(PAGE, 1ul << 31), 0); /* beyond the largest block */
    KTEST_EXPECT_EQ(t, frames_alloc(UINT64_MAX, PAGE), 0);
    KTEST_EXPECT_EQ(t, frames_free_bytes(), before);
}

/* A block held by the exhaustion test: the list runs through the blocks. */
struct held {
    uint64_t next;
    uint64_t size;
};

static struct held *held(uint64_t phys)
{
    return phys_to_virt(phys);
}

/* Takes every free byte, largest blocks first; returns the list's head. */
static uint64_t take_everything(void)
{
    uint64_t head = 0;
    for (uint64_t size = 64 * MIB; size >= PAGE; size /= 2) {
        uint64_t block;
        while ((block = frames_alloc(size, size)) != 0) {
            *held(block) = (struct held){head, size};
            head = block;
        }
    }
    return head;
}

/*
 * 1. Take everything: free bytes 0, and one more page is a plain 0.
 * 2. Give back one 2 MiB block page by page: a 2 MiB allocation can only
 *    succeed now if those pages joined up again.
 * 3. Give everything back: the count is what it was.
 */
KTEST(frames, exhaustion)
{
    uint64_t before = frames_free_bytes();
    uint64_t head = take_everything();
    KTEST_EXPECT_EQ(t, frames_free_bytes(), 0);
    KTEST_EXPECT_EQ(t, frames_alloc(PAGE, PAGE), 0);

    uint64_t big = head;
    while (big != 0 && held(big)->size < 2 * MIB)
        big = held(big)->next;
    if (KTEST_EXPECT(t, big != 0)) {
        struct held saved = *held(big);
        for (uint64_t page = big; page < big + 2 * MIB; page += PAGE)
            frames_free(page, PAGE);
        KTEST_EXPECT_EQ(t, frames_alloc(2 * MIB, 2 * MIB), big);
        *held(big) = saved;
    }

    while (head != 0) {
        struct held block = *held(head);
        frames_free(head, block.size);
        head = block.next;
    }
    KTEST_EXPECT_EQ(t, frames_free_bytes(), before);
}

#define CHURN_SLOTS 16

struct churn {
    uint64_t tag;
    unsigned rounds;
    bool ok;
};

/* Blocks of 1 to 16 pages taken and given back at random; each is stamped
 * with its owner's tag in every page and checked before it goes back, so a
 * frame handed to two harts at once shows. */
static void churn(void *argument)
{
    struct churn *run = argument;
    uint64_t blocks[CHURN_SLOTS] = {0}, sizes[CHURN_SLOTS] = {0};
    run->ok = true;
    for (unsigned round = 0; round < run->rounds; round++) {
        uint64_t random = random_u64();
        unsigned slot = random % CHURN_SLOTS;
        if (blocks[slot] == 0) {
            sizes[slot] = PAGE * (1 + (random >> 8) % 16);
            blocks[slot] = frames_alloc(sizes[slot], PAGE);
            for (uint64_t page = 0; blocks[slot] && page < sizes[slot]; page += PAGE)
                *(volatile uint64_t *)phys_to_virt(blocks[slot] + page) = run->tag + slot;
            run->ok &= blocks[slot] != 0;
            continue;
        }
        for (uint64_t page = 0; page < sizes[slot]; page += PAGE)
            run->ok &= *(volatile uint64_t *)phys_to_virt(blocks[slot] + page) == run->tag + slot;
        frames_free(blocks[slot], sizes[slot]);
        blocks[slot] = 0;
    }
    for (unsigned slot = 0; slot < CHURN_SLOTS; slot++)
        if (blocks[slot])
            frames_free(blocks[slot], sizes[slot]);
}

KTEST(frames, every_hart_at_once)
{
    static struct churn runs[BOOTINFO_MAX_HARTS];
    bool ran[BOOTINFO_MAX_HARTS];
    uint64_t before = frames_free_bytes();
    for (uint32_t i = 0; i < boot_info->hart_count; i++)
        runs[i] = (struct churn){.tag = (uint64_t)(i + 1) << 32,
                                 .rounds = ktest_rounds_per_hart(2000),
                                 .ok = false};
    smp_call_everywhere(churn, runs, sizeof(runs[0]), ran);
    for (uint32_t i = 0; i < boot_info->hart_count; i++)
        if (ran[i] && !KTEST_EXPECT(t, runs[i].ok))
            ktest_note(t, "hart %lu saw another's stamp", boot_info->harts[i].hart_id);
    KTEST_EXPECT_EQ(t, frames_free_bytes(), before);
}
