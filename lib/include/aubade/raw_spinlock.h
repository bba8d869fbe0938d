/* A test-and-set spinlock, for the few structures every hart touches. */
#ifndef AUBADE_SPINLOCK_H
#define AUBADE_SPINLOCK_H

#include <stdbool.h>
#include <stdint.h>

struct spinlock {
    uint32_t locked;
};

static inline void spin_lock(struct spinlock *lock)
{
    while (__atomic_exchange_n(&lock->locked, 1, __ATOMIC_ACQUIRE))
        /* Wait with plain loads: no bus traffic until the holder lets go. */
        while (__atomic_load_n(&lock->locked, __ATOMIC_RELAXED))
            ;
}

/* Takes the lock if it is free; whether it did. */
static inline bool spin_trylock(struct spinlock *lock)
{
    return !__atomic_exchange_n(&lock->locked, 1, __ATOMIC_ACQUIRE);
}

static inline void spin_unlock(struct spinlock *lock)
{
    __atomic_store_n(&lock->locked, 0, __ATOMIC_RELEASE);
}

#endif
