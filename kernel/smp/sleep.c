/*
 * Waiting for another hart asleep, not spinning.
 *
 * A hart that spins while it waits for another takes a host CPU from the
 * hart it waits for wherever harts outnumber CPUs: QEMU with 32 harts on a
 * laptop's few cores runs every spinning vCPU as a busy host thread. On a
 * board it burns power and bus bandwidth. So a waiting hart puts itself in
 * a set of sleepers, looks once more, and sleeps in wfi; the hart that
 * changes what it waits for wakes one sleeper, or all, with an IPI.
 *
 * No wake-up is missed: the sleeper joins the set before its last look,
 * the waker makes its change before it looks at the set, and a full fence
 * on each side orders the two. Either the sleeper sees the change or the
 * waker sees the sleeper. An IPI sent before the wfi leaves SSIP pending,
 * and wfi does not sleep with an interrupt pending that sie enables, even
 * while sstatus masks them all.
 */
#include <aubade/csr.h>
#include <aubade/log.h>
#include <aubade/sbi.h>

#include "boot/boot.h"
#include "debug/debug.h"
#include "smp/smp.h"
#include "trap/trap.h" /* up: software_interrupt, what an IPI's handler does */

#define BITS_PER_WORD 64

static void join(struct sleepers *sleepers, uint32_t index)
{
    __atomic_fetch_or(&sleepers->waiting[index / BITS_PER_WORD], 1ul << index % BITS_PER_WORD,
                      __ATOMIC_SEQ_CST);
}

/* Whether this call took the hart out of the set (it was in it). */
static bool leave(struct sleepers *sleepers, uint32_t index)
{
    uint64_t bit = 1ul << index % BITS_PER_WORD;
    return __atomic_fetch_and(&sleepers->waiting[index / BITS_PER_WORD], ~bit,
                              __ATOMIC_SEQ_CST) &
           bit;
}

/* After a wfi: whatever woke the hart is dealt with, so that the next wfi
 * sleeps. With interrupts on before the wait, their handlers run; else an
 * IPI is what its handler would make of it once the hart takes calls, and
 * before that only a wake-up, whose SSIP is cleared. */
static void after_wake(uint64_t were_enabled)
{
    panic_stop_if_panicking();
    if (were_enabled) {
        interrupts_restore(were_enabled);
        interrupts_disable();
    } else if (smp_takes_calls()) {
        software_interrupt();
    } else {
        csr_clear(sip, SIE_SSIE);
    }
}

void smp_sleep_until(struct sleepers *sleepers, bool (*ready)(const void *what), const void *what,
                     uint64_t were_enabled)
{
    /* A hart that does not know itself yet has no place in the set. */
    if (percpu_of(current_hart) == NULL) {
        while (!ready(what))
            panic_stop_if_panicking();
        return;
    }
    uint32_t index = percpu_index(current_hart);
    csr_set(sie, SIE_SSIE);
    for (;;) {
        join(sleepers, index);
        if (ready(what))
            break;
        asm volatile("wfi");
        after_wake(were_enabled);
    }
    leave(sleepers, index);
}

static void wake(uint32_t index)
{
    sbi_send_ipi(boot_info->harts[index].hart_id);
}

void smp_wake_one(struct sleepers *sleepers)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    /* The first sleeper after this hart in BootInfo's order, so that no
     * hart is passed over for ever by those before it. */
    uint32_t count = boot_info->hart_count;
    uint32_t after = percpu_of(current_hart) ? percpu_index(current_hart) + 1 : 0;
    for (uint32_t step = 0; step < count; step++) {
        uint32_t index = (after + step) % count;
        uint64_t word = __atomic_load_n(&sleepers->waiting[index / BITS_PER_WORD], __ATOMIC_RELAXED);
        if (word & 1ul << index % BITS_PER_WORD && leave(sleepers, index)) {
            wake(index);
            return;
        }
    }
}

void smp_wake_all(struct sleepers *sleepers)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    for (uint32_t index = 0; index < boot_info->hart_count; index++)
        if (leave(sleepers, index))
            wake(index);
}

/* The log's lock: held for a whole line, which at 115200 baud is 7 ms of
 * polled UART before the transmit ring takes over. Its waiters sleep, and
 * each release wakes one of them. */
static struct sleepers log_sleepers;

static bool lock_free(const void *lock)
{
    return !raw_spin_is_locked(lock);
}

static void log_wait(const struct raw_spinlock *lock, uint64_t were_enabled)
{
    smp_sleep_until(&log_sleepers, lock_free, lock, were_enabled);
}

static void log_released(void)
{
    smp_wake_one(&log_sleepers);
}

void smp_sleep_on_log(void)
{
    static const struct log_waiting waiting = {log_wait, log_released};
    log_wait_with(&waiting);
}
