/* The harts past Late, and calls from one to another. */
#include "boot/boot.h"
#include "ktest/ktest.h"
#include "smp/smp.h"

static void record_hart(void *argument)
{
    *(uint64_t *)argument = current_hart;
}

KTEST(smp, call_runs_on_the_hart_asked_for)
{
    unsigned called = 0;
    for (uint32_t i = 0; i < boot_info->hart_count; i++) {
        uint64_t hart = boot_info->harts[i].hart_id;
        uint64_t ran_on = UINT64_MAX;
        if (!smp_is_online(hart))
            continue;
        KTEST_EXPECT(t, smp_call(hart, record_hart, &ran_on));
        KTEST_EXPECT_EQ(t, ran_on, hart);
        called++;
    }
    KTEST_EXPECT(t, called >= 1);
}

KTEST(smp, call_to_a_hart_not_online_fails)
{
    for (uint32_t i = 0; i < boot_info->hart_count; i++) {
        uint64_t hart = boot_info->harts[i].hart_id;
        uint64_t ran_on = UINT64_MAX;
        if (!smp_is_online(hart)) {
            KTEST_EXPECT(t, !smp_call(hart, record_hart, &ran_on));
            KTEST_EXPECT_EQ(t, ran_on, UINT64_MAX);
        }
    }
    uint64_t ran_on = UINT64_MAX;
    KTEST_EXPECT(t, !smp_call(UINT64_MAX - 1, record_hart, &ran_on));
}
