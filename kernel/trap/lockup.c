/*
 * The lockup watch: every online hart watches the next one (by index in
 * BootInfo's list, wrapping), so each is watched by another. On each of its
 * ticks a hart looks at how many ticks the hart it watches has taken; if
 * that count has not moved while the watcher took LOCKUP_SECONDS worth of
 * ticks, the watched hart has had interrupts off (or has been stuck in
 * firmware) all that time, and the watcher reports it:
 *
 *     kernel: panic reason=lockup hart=H ticks=N pc=0x...
 *
 * with the place H's last tick interrupted it (no pc if it never took
 * one), then powers off.
 *
 * Counted in the watcher's ticks, not in time: a host that holds a whole
 * machine back holds its ticks back too, so a slow machine is never taken
 * for a locked hart; only a hart that falls silent while another goes on
 * is. The threshold is far above the longest any hart of a soak on a loaded
 * 2-core host went without a tick (docs/smp.md).
 */
#include <aubade/log.h>

#include "boot/boot.h"
#include "debug/debug.h"
#include "smp/smp.h"
#include "trap/trap.h"

#define LOCKUP_SECONDS 10

/* What each hart shows the hart that watches it. */
struct watched {
    uint64_t ticks;
    uintptr_t pc;
};

static struct watched watched[BOOTINFO_MAX_HARTS];

/* This hart's view of the hart it watches. */
static _Thread_local uint32_t watching; /* its index + 1; 0 until chosen */
static _Thread_local uint64_t own_ticks, seen_ticks, own_ticks_when_seen;
/* The most ticks any watcher took while the hart it watches took none: how
 * close a boot came to the threshold (lockup_longest_silence). */
static uint64_t longest_silence;

static uint32_t my_index(void)
{
    return (uint32_t)(this_percpu - boot_info->harts);
}

/* The next online hart after this one, or this one if it is alone. */
static uint32_t next_online(void)
{
    uint32_t mine = my_index();
    for (uint32_t step = 1; step < boot_info->hart_count; step++) {
        uint32_t index = (mine + step) % boot_info->hart_count;
        if (smp_is_online(boot_info->harts[index].hart_id))
            return index;
    }
    return mine;
}

static noreturn void report(uint32_t index, uint64_t ticks_taken)
{
    panic_begin("lockup");
    uint64_t hart = boot_info->harts[index].hart_id;
    uint64_t waited = own_ticks - own_ticks_when_seen;
    if (ticks_taken == 0) {
        log_event("kernel", "panic", "reason=lockup hart=%lu ticks=0", hart);
        log_text("  hart %lu has taken no tick since its timer started, while hart %lu took %lu "
                 "(%u s at %u Hz)\n",
                 hart, current_hart, waited, LOCKUP_SECONDS, timer_tick_hz());
        panic_end();
    }
    uintptr_t pc = __atomic_load_n(&watched[index].pc, __ATOMIC_RELAXED);
    char where[SYMBOL_TEXT_SIZE];
    symbol_describe(where, sizeof(where), pc);
    log_event("kernel", "panic", "reason=lockup hart=%lu ticks=%lu pc=0x%lx", hart, ticks_taken,
              pc);
    log_text("  hart %lu took no tick while hart %lu took %lu (%u s at %u Hz); its last tick "
             "interrupted it at %s\n",
             hart, current_hart, waited, LOCKUP_SECONDS, timer_tick_hz(), where);
    panic_end();
}

void lockup_tick(uintptr_t interrupted_pc)
{
    struct watched *mine = &watched[my_index()];
    __atomic_store_n(&mine->pc, interrupted_pc, __ATOMIC_RELAXED);
    __atomic_store_n(&mine->ticks, mine->ticks + 1, __ATOMIC_RELEASE);
    own_ticks++;
    if (watching == 0) {
        watching = next_online() + 1;
        own_ticks_when_seen = own_ticks;
    }
    uint32_t index = watching - 1;
    if (index == my_index())
        return;
    uint64_t ticks = __atomic_load_n(&watched[index].ticks, __ATOMIC_ACQUIRE);
    uint64_t silence = own_ticks - own_ticks_when_seen;
    if (ticks != seen_ticks) {
        seen_ticks = ticks;
        own_ticks_when_seen = own_ticks;
        return;
    }
    if (silence > __atomic_load_n(&longest_silence, __ATOMIC_RELAXED))
        __atomic_store_n(&longest_silence, silence, __ATOMIC_RELAXED);
    if (silence >= (uint64_t)LOCKUP_SECONDS * timer_tick_hz() && !panic_in_progress())
        report(index, ticks);
}

uint64_t lockup_longest_silence(void)
{
    return __atomic_load_n(&longest_silence, __ATOMIC_RELAXED);
}

uint32_t lockup_threshold_ticks(void)
{
    return LOCKUP_SECONDS * timer_tick_hz();
}
