/* The tick: on every hart, at the rate asked for, by the method its ISA allows. */
#include <aubade/cpus.h>
#include <aubade/csr.h>
#include <aubade/log.h>
#include <aubade/string.h>

#include "boot/boot.h"
#include "ktest/ktest.h"
#include "sched/sched.h"
#include "smp/smp.h"
#include "trap/trap.h"

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
    /* How close this boot came to a lockup report: the soak reads it. */
    ktest_note(t, "lockup watch: longest silence %lu ticks of a watcher, a lockup at %u",
               lockup_longest_silence(), lockup_threshold_ticks());
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

/* What a hart's tick uses and what the hart allows, seen on that hart. */
struct timer_method {
    bool sstc, stimecmp_works;
    uint64_t stimecmp, deadline;
};

static void read_timer_method(void *argument)
{
    struct timer_method *method = argument;
    method->sstc = timer_uses_sstc();
    method->stimecmp_works = timer_stimecmp_works();
    method->deadline = timer_deadline();
    if (method->sstc)
        method->stimecmp = csr_read(stimecmp);
}

/* Sstc is used where the tree names it and the hart lets S-mode write
 * stimecmp (QEMU's spike names it and refuses), and then stimecmp holds
 * the hart's next deadline: the tick really goes through it. Elsewhere
 * SBI. The tests on the boot log check the same against OpenSBI's own
 * word on the extensions it enabled. */
KTEST(timer, method_is_sstc_where_the_tree_names_it_and_the_hart_allows_it)
{
    for (uint32_t i = 0; i < boot_info->hart_count; i++) {
        uint64_t hart = boot_info->harts[i].hart_id;
        struct timer_method method;
        if (!smp_call(hart, read_timer_method, &method))
            continue;
        int cpu = cpus_find_hart(&device_tree, hart);
        KTEST_ASSERT(t, cpu >= 0);
        bool listed = isa_names_sstc(cpu);
        KTEST_EXPECT_EQ(t, method.sstc, listed && method.stimecmp_works);
        if (method.sstc)
            KTEST_EXPECT_EQ(t, method.stimecmp, method.deadline);
        ktest_note(t, "hart %lu: %s (the tree %s Sstc; stimecmp %s)", hart,
                   method.sstc ? "sstc" : "sbi", listed ? "names" : "does not name",
                   method.stimecmp_works ? "works" : "is refused");
    }
}

/* Microseconds to time-CSR units, which every sleep goes through. */

struct conversion {
    uint64_t us, hz, ticks;
};

static void expect_conversions(struct ktest *t, const struct conversion *cases, unsigned count)
{
    for (unsigned i = 0; i < count; i++)
        if (!KTEST_EXPECT_EQ(t, clock_us_to_ticks(cases[i].us, cases[i].hz), cases[i].ticks))
            ktest_note(t, "%lu us at %lu Hz", cases[i].us, cases[i].hz);
}

KTEST(timer, microseconds_convert_exactly)
{
    static const struct conversion exact[] = {
        /* A microsecond is whole ticks at virt's 10 MHz and sifive_u's 1 MHz. */
        {0, 10000000, 0},
        {1, 10000000, 10},
        {1234567, 10000000, 12345670},
        {1234567, 1000000, 1234567},
        /* The shell's `sleep 1844674407371`, 58 years: us * hz is past 2^64
         * and once wrapped to 448 ticks, but the count fits. */
        {1844674407371000, 10000000, 18446744073710000},
        {UINT64_MAX / 10, 10000000, UINT64_MAX / 10 * 10},
        {UINT64_MAX, 1, UINT64_MAX / 1000000 + 1},
        {999999, UINT64_MAX, 18446725626965477906u},
    };
    expect_conversions(t, exact, sizeof(exact) / sizeof(exact[0]));
}

KTEST(timer, microseconds_round_up_never_down)
{
    /* At clocks that do not divide a microsecond: the fewest ticks that
     * last as long as asked, whose product with 10^6 just reaches us * hz. */
    static const uint64_t hz[] = {1, 3, 32768, 4000000, 24000000, 1000000007};
    static const uint64_t us[] = {1, 2, 999, 30518, 333334, 999999, 1000001, 123456789};
    for (unsigned h = 0; h < sizeof(hz) / sizeof(hz[0]); h++) {
        for (unsigned u = 0; u < sizeof(us) / sizeof(us[0]); u++) {
            uint64_t ticks = clock_us_to_ticks(us[u], hz[h]);
            uint64_t asked = us[u] * hz[h];
            if (!KTEST_EXPECT(t, ticks * 1000000 >= asked && (ticks - 1) * 1000000 < asked))
                ktest_note(t, "%lu us at %lu Hz: %lu ticks", us[u], hz[h], ticks);
        }
    }
}

KTEST(timer, microseconds_past_64_bits_saturate)
{
    static const struct conversion huge[] = {
        {UINT64_MAX / 10 + 1, 10000000, UINT64_MAX},
        {UINT64_MAX, 1000000, UINT64_MAX},
        {UINT64_MAX, 10000000, UINT64_MAX},
        {1000001, UINT64_MAX, UINT64_MAX},
    };
    expect_conversions(t, huge, sizeof(huge) / sizeof(huge[0]));
}

KTEST(timer, a_deadline_past_the_clocks_range_is_never)
{
    uint64_t now = read_time();
    KTEST_EXPECT_EQ(t, clock_deadline_after(now, 0), now);
    KTEST_EXPECT_EQ(t, clock_deadline_after(now, 1000), now + clock_us_to_ticks(1000, timebase_hz));
    KTEST_EXPECT_EQ(t, clock_deadline_after(UINT64_MAX - 1, 1), UINT64_MAX);
    KTEST_EXPECT_EQ(t, clock_deadline_after(now, UINT64_MAX), UINT64_MAX);
}
