/* The lock checks of debug builds (spinlock.c): each misuse, provoked on a
 * lock on trial, is caught and recorded with both of its call sites
 * instead of ending the boot, and the wrong operation is not carried out. */
#include <aubade/csr.h>
#include <aubade/string.h>

#include "debug/debug.h"
#include "ktest/ktest.h"
#include "sched/sched.h"
#include "smp/smp.h"
#include "trap/trap.h"

#ifdef AUBADE_DEBUG

/* Whether `site` is a place in the function named `function`. */
static bool site_in(uintptr_t site, const char *function)
{
    uintptr_t offset;
    const char *name = symbol_name(site, &offset);
    return name && strcmp(name, function) == 0;
}

/* The misuse recorded on `lock`: once, for `reason`, both sites in the
 * case's own function. */
static void expect_caught(struct ktest *t, const struct spinlock *lock, const char *reason,
                          const char *function)
{
    KTEST_EXPECT_EQ(t, lock->misuse.count, 1);
    KTEST_EXPECT(t, lock->misuse.reason && strcmp(lock->misuse.reason, reason) == 0);
    KTEST_EXPECT(t, site_in(lock->misuse.first_site, function));
    KTEST_EXPECT(t, site_in(lock->misuse.second_site, function));
    KTEST_EXPECT(t, lock->misuse.first_site != lock->misuse.second_site);
}

#define TRIAL_LOCK(name) struct spinlock name = SPINLOCK_INIT("ktest-trial")

/* Each misuse in a function of its own, so that the sites it records are
 * named by that function. */

static __attribute__((noinline)) void take_twice(struct ktest *t)
{
    TRIAL_LOCK(lock);
    lock.on_trial = true;
    spin_lock(&lock);
    spin_lock(&lock);
    spin_unlock(&lock);
    expect_caught(t, &lock, "lock-recursion", __func__);
    /* The second take was not carried out: one release frees the lock. */
    KTEST_EXPECT(t, !raw_spin_is_locked(&lock.raw));
    KTEST_EXPECT(t, !spin_any_held());
}

static __attribute__((noinline)) void release_twice(struct ktest *t)
{
    TRIAL_LOCK(lock);
    lock.on_trial = true;
    spin_lock(&lock);
    spin_unlock(&lock);
    spin_unlock(&lock);
    expect_caught(t, &lock, "lock-not-held", __func__);
    KTEST_EXPECT(t, !spin_any_held());
}

static __attribute__((noinline)) void yield_holding(struct ktest *t)
{
    TRIAL_LOCK(lock);
    lock.on_trial = true;
    uint64_t switches_before = task_current()->switches;
    spin_lock(&lock);
    sched_yield();
    KTEST_EXPECT_EQ(t, task_current()->switches, switches_before); /* it did not yield */
    spin_unlock(&lock);
    expect_caught(t, &lock, "lock-held-switch", __func__);
}

static uint64_t taken_in_handlers;

static __attribute__((noinline)) void take_and_release(void *argument)
{
    spin_lock(argument);
    spin_unlock(argument);
    if (in_interrupt_handler())
        __atomic_fetch_add(&taken_in_handlers, 1, __ATOMIC_RELAXED);
}

static __attribute__((noinline)) void take_in_a_handler_too(struct ktest *t)
{
    TRIAL_LOCK(lock);
    lock.on_trial = true;
    KTEST_ASSERT(t, csr_read(sstatus) & SSTATUS_SIE);
    spin_lock(&lock);
    spin_unlock(&lock);
    KTEST_EXPECT_EQ(t, lock.misuse.count, 0); /* each way alone is fine */
    /* Every other hart takes it in its IPI handler, or, if it is waiting
     * for a call of its own just then, in that wait: not a handler. Asked
     * again until one took it in a handler. This hart, with interrupts off,
     * takes it in neither way. */
    taken_in_handlers = 0;
    bool ran[BOOTINFO_MAX_HARTS];
    for (unsigned tries = 0; tries < 100 && !taken_in_handlers; tries++)
        if (smp_call_everywhere(take_and_release, &lock, 0, ran) == 1) {
            ktest_skip(t, "one hart: no other hart's handler to take the lock in");
            return;
        }
    KTEST_ASSERT(t, taken_in_handlers > 0);
    KTEST_EXPECT(t, lock.misuse.count >= 1);
    KTEST_EXPECT(t, lock.misuse.reason && strcmp(lock.misuse.reason, "lock-interrupt-unsafe") == 0);
    KTEST_EXPECT(t, site_in(lock.misuse.first_site, __func__));
    KTEST_EXPECT(t, site_in(lock.misuse.second_site, "take_and_release"));
}

#else

static void not_built(struct ktest *t)
{
    ktest_skip(t, "the lock checks are built with debug=1 only");
}

#define take_twice not_built
#define release_twice not_built
#define yield_holding not_built
#define take_in_a_handler_too not_built

#endif

KTEST(spinlock, taking_a_held_lock_again_is_caught)
{
    take_twice(t);
}

KTEST(spinlock, releasing_a_lock_not_held_is_caught)
{
    release_twice(t);
}

KTEST(spinlock, a_switch_while_holding_a_lock_is_caught)
{
    yield_holding(t);
}

KTEST(spinlock, a_lock_taken_with_interrupts_on_and_in_a_handler_is_caught)
{
    take_in_a_handler_too(t);
}
