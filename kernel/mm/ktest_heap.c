/*
 * The kernel heap: every size class and large objects, aligned, zeroed on
 * request, reused after free, and intact under many rounds on every hart.
 */
#include <aubade/string.h>

#include "boot/boot.h"
#include "ktest/ktest.h"
#include "mm/mm.h"
#include "smp/smp.h"

/* Fills an object with bytes derived from its address and a seed... */
static void fill(uint8_t *object, size_t size, uint64_t seed)
{
    for (size_t i = 0; i < size; i++)
        object[i] = (uint8_t)(((uintptr_t)object + i) * 31 + seed);
}

/* ...so that another object's bytes, or a stale copy, never pass. */
static bool intact(const uint8_t *object, size_t size, uint64_t seed)
{
    for (size_t i = 0; i < size; i++)
        if (object[i] != (uint8_t)(((uintptr_t)object + i) * 31 + seed))
            return false;
    return true;
}

static bool aligned16(const void *pointer)
{
    return (uintptr_t)pointer % 16 == 0;
}

/* Each class's size, one byte less and one more: every class and its
 * edges, written all over and read back. */
KTEST(heap, every_size_class)
{
    for (size_t size = 16; size <= 2048; size *= 2) {
        size_t sizes[] = {size - 1, size, size + 1};
        for (unsigned i = 0; i < 3; i++) {
            uint8_t *object = kmalloc(sizes[i]);
            KTEST_ASSERT(t, object != NULL);
            KTEST_EXPECT(t, aligned16(object));
            fill(object, sizes[i], size);
            KTEST_EXPECT(t, intact(object, sizes[i], size));
            kfree(object);
        }
    }
}

/* Large objects come from the frame allocator and go back to it whole. */
KTEST(heap, large_sizes)
{
    const size_t sizes[] = {4096, 10000, 65536, 1u << 20, (3u << 20) + 5};
    for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        uint64_t before = frames_free_bytes();
        uint8_t *object = kmalloc(sizes[i]);
        KTEST_ASSERT(t, object != NULL);
        KTEST_EXPECT(t, aligned16(object));
        fill(object, sizes[i], i);
        KTEST_EXPECT(t, intact(object, sizes[i], i));
        kfree(object);
        KTEST_EXPECT_EQ(t, frames_free_bytes(), before);
    }
}

KTEST(heap, zero_size_and_null)
{
    void *object = kmalloc(0);
    KTEST_EXPECT(t, object != NULL);
    kfree(object);
    kfree(NULL);
}

KTEST(heap, impossible_size)
{
    KTEST_EXPECT(t, kmalloc(SIZE_MAX) == NULL);
    KTEST_EXPECT(t, kmalloc(1ul << 34) == NULL); /* more than the largest frame block */
}

/* Live objects never overlap: each keeps its own pattern while the others
 * are written. */
KTEST(heap, distinct_objects)
{
    uint8_t *objects[100];
    for (unsigned i = 0; i < 100; i++) {
        objects[i] = kmalloc(48);
        KTEST_ASSERT(t, objects[i] != NULL);
        fill(objects[i], 48, i);
    }
    bool all_intact = true;
    for (unsigned i = 0; i < 100; i++) {
        all_intact &= intact(objects[i], 48, i);
        kfree(objects[i]);
    }
    KTEST_EXPECT(t, all_intact);
}

/* The slot just freed is a dirty one: kzalloc must still hand it out clean. */
KTEST(heap, kzalloc_zeroes)
{
    const size_t sizes[] = {24, 200, 2000, 5000};
    for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        uint8_t *dirty = kmalloc(sizes[i]);
        KTEST_ASSERT(t, dirty != NULL);
        memset(dirty, 0xa5, sizes[i]);
        kfree(dirty);
        uint8_t *clean = kzalloc(sizes[i]);
        KTEST_ASSERT(t, clean != NULL);
        bool zero = true;
        for (size_t j = 0; j < sizes[i]; j++)
            zero &= clean[j] == 0;
        KTEST_EXPECT(t, zero);
        kfree(clean);
    }
}

/* A class reuses the slot freed last, so the heap does not grow. */
KTEST(heap, reuse_after_free)
{
    void *first = kmalloc(64);
    KTEST_ASSERT(t, first != NULL);
    kfree(first);
    void *second = kmalloc(64);
    KTEST_EXPECT(t, second == first);
    kfree(second);
}

#define STRESS_SLOTS 64

struct stress {
    unsigned rounds;
    bool ok;
};

/* Random sizes over the classes and a little beyond, a slot at a time
 * allocated or freed; every object is checked before it is freed. */
static void stress(void *argument)
{
    struct stress *run = argument;
    uint8_t *objects[STRESS_SLOTS] = {0};
    size_t sizes[STRESS_SLOTS] = {0};
    run->ok = true;
    for (unsigned round = 0; round < run->rounds; round++) {
        uint64_t random = random_u64();
        unsigned slot = random % STRESS_SLOTS;
        if (objects[slot] != NULL) {
            run->ok &= intact(objects[slot], sizes[slot], slot);
            kfree(objects[slot]);
            objects[slot] = NULL;
            continue;
        }
        sizes[slot] = (random >> 8) % 3000;
        objects[slot] = kmalloc(sizes[slot]);
        run->ok &= objects[slot] != NULL && aligned16(objects[slot]);
        if (objects[slot] != NULL)
            fill(objects[slot], sizes[slot], slot);
    }
    for (unsigned slot = 0; slot < STRESS_SLOTS; slot++) {
        if (objects[slot] != NULL) {
            run->ok &= intact(objects[slot], sizes[slot], slot);
            kfree(objects[slot]);
        }
    }
}

KTEST(heap, many_rounds)
{
    uint64_t before = frames_free_bytes();
    struct stress run = {.rounds = 20000};
    stress(&run);
    KTEST_EXPECT(t, run.ok);
    /* Large objects went back; only slabs, which stay, may be missing. */
    KTEST_EXPECT(t, before - frames_free_bytes() <= 32 * 16384);
}

/*
 * The same stress on every online hart at once: the others through
 * smp_call_everywhere, this one meanwhile, so the harts contend for the class
 * locks and reuse each other's freed objects.
 */
KTEST(heap, every_hart_at_once)
{
    static struct stress runs[BOOTINFO_MAX_HARTS];
    bool ran[BOOTINFO_MAX_HARTS];
    for (uint32_t i = 0; i < boot_info->hart_count; i++)
        runs[i] = (struct stress){.rounds = ktest_rounds_per_hart(5000), .ok = false};
    unsigned harts = smp_call_everywhere(stress, runs, sizeof(runs[0]), ran);
    for (uint32_t i = 0; i < boot_info->hart_count; i++)
        if (ran[i] && !KTEST_EXPECT(t, runs[i].ok))
            ktest_note(t, "hart %lu found a corrupted object", boot_info->harts[i].hart_id);
    ktest_note(t, "ran on %u harts", harts);
}
