/*
 * A bare test-and-set spinlock: the lock under the kernel's checked
 * spinlocks (kernel/smp/smp.h), and the log's own, which both stages use
 * and which a panic takes over (lib/log.c).
 */
#ifndef AUBADE_RAW_SPINLOCK_H
#define AUBADE_RAW_SPINLOCK_H

#include <stdbool.h>
#include <stdint.h>

struct raw_spinlock {
    uint32_t locked;
};

/* Takes the lock if it is free; whether it did. */
static inline bool raw_spin_trylock(struct raw_spinlock *lock)
{
    return !__atomic_exchange_n(&lock->locked, 1, __ATOMIC_ACQUIRE);
}

/* Whether some hart holds it: what a waiting hart watches, with plain
 * loads, so that it makes no bus traffic until the holder lets go. */
static inline bool raw_spin_is_locked(const struct raw_spinlock *lock)
{
    return __atomic_load_n(&lock->locked, __ATOMIC_RELAXED);
}

static inline void raw_spin_lock(struct raw_spinlock *lock)
{
    while (!raw_spin_trylock(lock))
        while (raw_spin_is_locked(lock))
            ;
}

static inline void raw_spin_unlock(struct raw_spinlock *lock)
{
    __atomic_store_n(&lock->locked, 0, __ATOMIC_RELEASE);
}

#endif
