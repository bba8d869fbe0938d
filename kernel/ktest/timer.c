/* The tick: on every hart, at the rate asked for, by the method its ISA allows. */
#include <aubade/cpus.h>
#include <aubade/log.h>
#include <aubade/string.h>

#include "../kernel.h"
#include "../ktest.h"
#include "../task.h"
#include "../timer.h"

/* One hart's tick as that hart saw it at one instant (read by smp_call, in
 * its interrupt handler: the counter, the clock and the start are the same
 * hart's, read together). */
struct hart_timer_state {
    uint64_t ticks, now, started;
    bool sstc;
};

static void read_timer_state(void *argument)
{
    struct hart_timer_state *state = argument;
    state->ticks = timer_ticks();
    state->now = read_time();
    state->started = timer_started();
    state->sstc = timer_uses_sstc();
}

static uint64_t tick_period(void)
{
    return timebase_hz / timer_tick_hz();
}

/* What the tick guarantees, whatever the host does to the hart's speed: the
 * k-th tick comes at or after the k-th deadline, started + k periods (a hart
 * the host held back takes its owed ticks late, all at once, never early);
 * and ticks keep coming. Each online hart is watched until it has taken
 * TICKS_WATCHED more, or for WATCH_MS at most. */
#define TICKS_WATCHED 10
#define WATCH_MS 5000

KTEST(timer, ticks_come_after_their_deadlines_and_keep_coming)
{
    struct hart_timer_state first[BOOTINFO_MAX_HARTS], last;
    bool online[BOOTINFO_MAX_HARTS];
    for (uint32_t i = 0; i < boot_info->hart_count; i++)
        online[i] = smp_call(boot_info->harts[i].hart_id, read_timer_state, &first[i]);
    uint64_t give_up = read_time() + timebase_hz * WATCH_MS / 1000;
    for (uint32_t i = 0; i < boot_info->hart_count; i++) {
        uint64_t hart = boot_info->harts[i].hart_id;
        if (!online[i])
            continue;
        bool advanced = false, early = false;
        do {
            sched_sleep_us(1000000 / timer_tick_hz());
            KTEST_ASSERT(t, smp_call(hart, read_timer_state, &last));
            early |= last.ticks > (last.now - last.started) / tick_period();
            advanced = last.ticks >= first[i].ticks + TICKS_WATCHED;
        } while (!advanced && !early && read_time() < give_up);
        if (!KTEST_EXPECT(t, !early))
            ktest_note(t, "hart %lu: %lu ticks %lu periods after its start", hart, last.ticks,
                       (last.now - last.started) / tick_period());
        else if (!KTEST_EXPECT(t, advanced))
            ktest_note(t, "hart %lu: %lu ticks, %lu after %d ms", hart, last.ticks,
                       last.ticks - first[i].ticks, WATCH_MS);
    }
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
