/* Early per-CPU reset state, as every hart keeps it after boot. */
#include <aubade/csr.h>

#include "boot/boot.h"
#include "ktest/ktest.h"
#include "smp/smp.h"

struct cpu_state {
    uint64_t scounteren;
    uint64_t sstatus;
};

static void read_cpu_state(void *argument)
{
    struct cpu_state *state = argument;
    state->scounteren = csr_read(scounteren);
    state->sstatus = csr_read(sstatus);
}

KTEST(cpu, counters_enabled_for_user_mode_on_every_hart)
{
    for (uint32_t i = 0; i < boot_info->hart_count; i++) {
        uint64_t hart = boot_info->harts[i].hart_id;
        struct cpu_state state = {0, 0};
        if (!smp_call(hart, read_cpu_state, &state))
            continue;
        if (!KTEST_EXPECT_EQ(t, state.scounteren & 7,
                             SCOUNTEREN_CY | SCOUNTEREN_TM | SCOUNTEREN_IR))
            ktest_note(t, "hart %lu", hart);
    }
}

KTEST(cpu, floating_point_off_in_the_kernel_on_every_hart)
{
    for (uint32_t i = 0; i < boot_info->hart_count; i++) {
        uint64_t hart = boot_info->harts[i].hart_id;
        struct cpu_state state = {0, 0};
        if (smp_call(hart, read_cpu_state, &state) &&
            !KTEST_EXPECT_EQ(t, state.sstatus & SSTATUS_FS, 0))
            ktest_note(t, "hart %lu", hart);
    }
}

KTEST(cpu, user_memory_access_off)
{
    KTEST_EXPECT_EQ(t, csr_read(sstatus) & SSTATUS_SUM, 0);
}
