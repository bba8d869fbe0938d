/* The tick: on every hart, at the rate asked for, by the method its ISA allows. */
#include <aubade/cpus.h>
#include <aubade/log.h>
#include <aubade/string.h>

#include "../kernel.h"
#include "../ktest.h"
#include "../timer.h"

struct hart_timer_state {
    uint64_t ticks;
    bool sstc;
};

static void read_timer_state(void *argument)
{
    struct hart_timer_state *state = argument;
    state->ticks = timer_ticks();
    state->sstc = timer_uses_sstc();
}

static uint64_t tick_period(void)
{
    return timebase_hz / timer_tick_hz();
}

/* Sleeps `periods` tick periods by the time CSR, not by the tick under test. */
static void sleep_periods(uint64_t periods)
{
    uint64_t until = read_time() + periods * tick_period();
    while (read_time() < until)
        asm volatile("wfi");
}

KTEST(timer, ticks_advance_on_this_hart)
{
    /* A hart the host kept from running owes ticks, which come at once when
     * it runs again: let them come before counting. */
    sleep_periods(2);
    uint64_t before = timer_ticks();
    sleep_periods(10);
    uint64_t taken = timer_ticks() - before;
    /* Ten are due, give or take the one at either edge; a busy host may
     * deliver the last few late. */
    KTEST_EXPECT(t, taken >= 5 && taken <= 11);
    ktest_note(t, "%lu ticks in 10 periods", taken);
}

KTEST(timer, ticks_advance_on_every_online_hart)
{
    struct hart_timer_state before[BOOTINFO_MAX_HARTS], after[BOOTINFO_MAX_HARTS];
    for (uint32_t i = 0; i < boot_info->hart_count; i++)
        smp_call(boot_info->harts[i].hart_id, read_timer_state, &before[i]);
    sleep_periods(10);
    for (uint32_t i = 0; i < boot_info->hart_count; i++) {
        uint64_t hart = boot_info->harts[i].hart_id;
        if (!smp_call(hart, read_timer_state, &after[i]))
            continue; /* not online */
        if (!KTEST_EXPECT(t, after[i].ticks > before[i].ticks))
            ktest_note(t, "hart %lu stayed at %lu ticks", hart, after[i].ticks);
    }
}

KTEST(timer, a_wait_of_n_ticks_takes_n_periods)
{
    const uint64_t n = 20;
    /* From the edge of a tick, so that a whole first period is counted. */
    uint64_t start = timer_ticks();
    while (timer_ticks() == start)
        asm volatile("wfi");
    uint64_t began = read_time();
    while (timer_ticks() < start + 1 + n)
        asm volatile("wfi");
    uint64_t elapsed = read_time() - began;
    uint64_t expected = n * tick_period();
    /* A tick is taken a little after its deadline, more on a busy host. */
    uint64_t tolerance = expected / 5 + tick_period();
    KTEST_EXPECT(t, elapsed + tolerance >= expected && elapsed <= expected + tolerance);
    ktest_note(t, "%lu ticks at %u Hz took %lu us", n, timer_tick_hz(),
               elapsed * 1000000 / timebase_hz);
}

/* Sstc named in the cpu node's ISA: in riscv,isa-extensions, or as a
 * "_sstc" part of riscv,isa. */
static bool isa_names_sstc(int cpu)
{
    const char *extension;
    for (uint32_t i = 0;
         (extension = fdt_prop_string_at(&device_tree, cpu, "riscv,isa-extensions", i)); i++)
        if (strcmp(extension, "sstc") == 0)
            return true;
    const char *isa = fdt_prop_string(&device_tree, cpu, "riscv,isa");
    for (const char *at = isa ? strchr(isa, '_') : NULL; at; at = strchr(at + 1, '_'))
        if (strncmp(at, "_sstc", 5) == 0 && (at[5] == '\0' || at[5] == '_'))
            return true;
    return false;
}

KTEST(timer, method_matches_the_isa_string)
{
    for (uint32_t i = 0; i < boot_info->hart_count; i++) {
        uint64_t hart = boot_info->harts[i].hart_id;
        struct hart_timer_state state;
        if (!smp_call(hart, read_timer_state, &state))
            continue;
        int cpu = cpus_find_hart(&device_tree, hart);
        KTEST_ASSERT(t, cpu >= 0);
        KTEST_EXPECT_EQ(t, state.sstc, isa_names_sstc(cpu));
        ktest_note(t, "hart %lu: %s", hart, state.sstc ? "sstc" : "sbi");
    }
}
