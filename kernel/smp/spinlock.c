/*
 * The kernel's spinlocks (spinlock.h): a raw lock, a count of the locks this
 * hart holds (no preemption while it is not 0), and in debug builds the
 * checks, which keep on each lock who holds it and where it was taken.
 */
#include <aubade/csr.h>

#include "boot/boot.h"
#include "debug/debug.h"
#include "smp/smp.h"
#include "trap/trap.h" /* up: a lock taken in handlers */

/* Changed with interrupts off: it is this hart's (thread_pointer.h). */
static _Thread_local uint32_t locks_held;

static void count_held(int change)
{
    uint64_t were_enabled = interrupts_disable();
    locks_held += (uint32_t)change;
    interrupts_restore(were_enabled);
}

bool spin_any_held(void)
{
    return __atomic_load_n(&locks_held, __ATOMIC_RELAXED) != 0;
}

#ifdef AUBADE_DEBUG

/* The locks this hart holds, latest last, for the report of a switch. */
#define TRACKED_LOCKS 8
static _Thread_local struct spinlock *held[TRACKED_LOCKS];

/* Who takes a lock: the hart's index + 1 (0 is a free lock), or, before
 * the hart knows itself, one past any index. */
static uint32_t me(void)
{
    return this_percpu ? (uint32_t)(this_percpu - boot_info->harts) + 1 : BOOTINFO_MAX_HARTS + 1;
}

/* A misuse: recorded on a lock on trial (false: the operation is not
 * carried out), a panic on any other. No check runs once a panic has
 * begun: the report may take what it must. */
static bool misused(struct spinlock *lock, const char *reason, const char *what,
                    uintptr_t first_site, uintptr_t second_site)
{
    if (lock->on_trial) {
        lock->misuse = (struct spinlock_misuse){reason, first_site, second_site,
                                                lock->misuse.count + 1};
        return false;
    }
    char first[SYMBOL_TEXT_SIZE], second[SYMBOL_TEXT_SIZE];
    symbol_describe(first, sizeof(first), first_site);
    symbol_describe(second, sizeof(second), second_site);
    if (lock->name)
        kernel_panic(reason, "lock %s: %s %s, then %s", lock->name, what, first, second);
    kernel_panic(reason, "lock at 0x%lx: %s %s, then %s", (uintptr_t)lock, what, first, second);
}

static void note_usage(uintptr_t *usage, uintptr_t site)
{
    uintptr_t none = 0;
    __atomic_compare_exchange_n(usage, &none, site, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

/* Before waiting for the lock, with interrupts off; whether to go on. */
static bool check_take(struct spinlock *lock, uintptr_t site, bool interrupts_were_on)
{
    if (panic_in_progress())
        return true;
    if (__atomic_load_n(&lock->holder, __ATOMIC_RELAXED) == me())
        return misused(lock, "lock-recursion", "this hart took it at", lock->held_at, site);
    /* Taken all the same when on trial: only the next handler at the
     * wrong moment would deadlock. */
    if (in_interrupt_handler()) {
        note_usage(&lock->taken_in_handler_at, site);
        uintptr_t other = __atomic_load_n(&lock->taken_interrupts_on_at, __ATOMIC_RELAXED);
        if (other)
            misused(lock, "lock-interrupt-unsafe", "taken with interrupts on at", other, site);
    } else if (interrupts_were_on) {
        note_usage(&lock->taken_interrupts_on_at, site);
        uintptr_t other = __atomic_load_n(&lock->taken_in_handler_at, __ATOMIC_RELAXED);
        if (other)
            misused(lock, "lock-interrupt-unsafe", "taken in an interrupt handler at", other,
                    site);
    }
    return true;
}

/* Both with interrupts off: a handler on this hart takes locks too. */
static void note_taken(struct spinlock *lock, uintptr_t site)
{
    uint64_t were_enabled = interrupts_disable();
    __atomic_store_n(&lock->holder, me(), __ATOMIC_RELAXED);
    lock->held_at = site;
    if (locks_held && locks_held <= TRACKED_LOCKS)
        held[locks_held - 1] = lock;
    interrupts_restore(were_enabled);
}

/* Locks need not be released in the order they were taken. */
static void note_released(struct spinlock *lock)
{
    uint64_t were_enabled = interrupts_disable();
    __atomic_store_n(&lock->holder, 0, __ATOMIC_RELAXED);
    uint32_t tracked = locks_held < TRACKED_LOCKS ? locks_held : TRACKED_LOCKS;
    for (uint32_t i = 0; i < tracked; i++)
        if (held[i] == lock) {
            for (; i + 1 < tracked; i++)
                held[i] = held[i + 1];
            break;
        }
    interrupts_restore(were_enabled);
}

/* Before letting go; whether to go on. */
static bool check_release(struct spinlock *lock, uintptr_t site)
{
    if (panic_in_progress() || __atomic_load_n(&lock->holder, __ATOMIC_RELAXED) == me())
        return true;
    if (lock->holder == 0)
        return misused(lock, "lock-not-held", "it was free, last taken at", lock->held_at, site);
    return misused(lock, "lock-not-held", "another hart holds it, taken at", lock->held_at, site);
}

bool spin_check_none_held_at(uintptr_t site)
{
    uint32_t depth = __atomic_load_n(&locks_held, __ATOMIC_RELAXED);
    if (depth == 0 || panic_in_progress())
        return true;
    struct spinlock *latest = held[(depth <= TRACKED_LOCKS ? depth : TRACKED_LOCKS) - 1];
    return misused(latest, "lock-held-switch", "taken at", latest->held_at, site);
}

#else

static bool check_take(struct spinlock *lock, uintptr_t site, bool interrupts_were_on)
{
    (void)lock, (void)site, (void)interrupts_were_on;
    return true;
}

static void note_taken(struct spinlock *lock, uintptr_t site)
{
    (void)lock, (void)site;
}

static bool check_release(struct spinlock *lock, uintptr_t site)
{
    (void)lock, (void)site;
    return true;
}

static void note_released(struct spinlock *lock)
{
    (void)lock;
}

#endif

/* 1. Count it held first: from here this hart is not preempted.
 * 2. Check (debug builds), before waiting, or a second take would wait for
 *    itself for ever.
 * 3. Wait, stopping if another hart panics meanwhile: the holder may be
 *    that hart, which will never let go. */
static void take(struct spinlock *lock, uintptr_t site)
{
    uint64_t were_enabled = interrupts_disable();
    locks_held++;
    if (!check_take(lock, site, were_enabled)) {
        locks_held--;
        interrupts_restore(were_enabled);
        return;
    }
    interrupts_restore(were_enabled);
    while (!raw_spin_trylock(&lock->raw))
        while (raw_spin_is_locked(&lock->raw))
            panic_stop_if_panicking();
    note_taken(lock, site);
}

static void release(struct spinlock *lock, uintptr_t site)
{
    if (!check_release(lock, site))
        return;
    note_released(lock);
    raw_spin_unlock(&lock->raw);
    count_held(-1);
}

#define CALLER() ((uintptr_t)__builtin_return_address(0))

void spin_lock(struct spinlock *lock)
{
    take(lock, CALLER());
}

void spin_unlock(struct spinlock *lock)
{
    release(lock, CALLER());
}

uint64_t spin_lock_irqsave(struct spinlock *lock)
{
    uint64_t were_enabled = interrupts_disable();
    take(lock, CALLER());
    return were_enabled;
}

void spin_unlock_irqrestore(struct spinlock *lock, uint64_t were_enabled)
{
    release(lock, CALLER());
    interrupts_restore(were_enabled);
}
