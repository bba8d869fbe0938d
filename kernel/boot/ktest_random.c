/* The per-hart random streams. */
#include "boot/boot.h"
#include "ktest/ktest.h"
#include "smp/smp.h"

KTEST(random, draws_differ)
{
    uint64_t first = random_u64();
    unsigned repeats = 0;
    for (int i = 0; i < 64; i++)
        repeats += random_u64() == first;
    KTEST_EXPECT_EQ(t, repeats, 0);
}

/* No libgcc in a freestanding link: count by hand. */
static unsigned count_ones(uint64_t x)
{
    unsigned ones = 0;
    for (; x; x &= x - 1)
        ones++;
    return ones;
}

KTEST(random, bits_are_balanced)
{
    /* 64 draws of 64 bits: about 2048 ones; 1800..2300 is beyond six
     * standard deviations (sd = 32) either way. */
    unsigned ones = 0;
    for (int i = 0; i < 64; i++)
        ones += count_ones(random_u64());
    KTEST_EXPECT(t, ones > 1800 && ones < 2300);
    ktest_note(t, "%u ones in 4096 bits", ones);
}

static void draw(void *argument)
{
    *(uint64_t *)argument = random_u64();
}

KTEST(random, every_hart_has_its_own_stream)
{
    uint64_t draws[BOOTINFO_MAX_HARTS];
    uint32_t count = 0;
    for (uint32_t i = 0; i < boot_info->hart_count; i++)
        if (smp_call(boot_info->harts[i].hart_id, draw, &draws[count]))
            count++;
    if (count < 2) {
        ktest_skip(t, "needs 2 harts");
        return;
    }
    for (uint32_t i = 0; i < count; i++)
        for (uint32_t j = i + 1; j < count; j++)
            KTEST_EXPECT(t, draws[i] != draws[j]);
}
