/*
 * SMP: the other harts and what keeps harts apart.
 *
 * Starting the other harts and keeping them in step at boot (barriers),
 * calling a function on another hart or on all of them, and the kernel's
 * spinlocks.
 */
#ifndef KERNEL_SMP_H
#define KERNEL_SMP_H

#include <aubade/bootinfo.h>
#include <aubade/raw_spinlock.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The other harts (smp.c). */
/* The boot hart starts the others and waits until each is online or late. */
void smp_start_harts(void);
/* A hart's first step once it knows itself: a hart too late to be let in
 * stops here. */
void smp_hart_arrive(void);
/* `kernel: early`: this hart's Early work is done; it counts from now on. */
void smp_hart_online(void);
/* Every online hart waits here until all have arrived. */
void smp_barrier(void);
/* Late: this hart runs what smp_call asks of it. */
void smp_take_calls(void);
/* Runs function(argument) on a hart past Late, in its interrupt handler (or
 * here, with interrupts off, if it is this hart), and waits until it
 * returns; false if that hart is not there. */
bool smp_call(uint64_t hart_id, void (*function)(void *argument), void *argument);
/* Runs function on every hart past Late, this one included, and returns
 * once all have: at once on up to 16 harts, on more in rounds of 16 (the
 * calls wait on the caller's stack), so a function must not wait for
 * another hart's call to start. The hart at index i of BootInfo's list gets
 * arguments + i * size, and ran[i] says whether it ran. Returns how many
 * harts did. */
unsigned smp_call_everywhere(void (*function)(void *argument), void *arguments, size_t size,
                             bool ran[BOOTINFO_MAX_HARTS]);
bool smp_is_online(uint64_t hart_id);
/* Whether this hart runs smp_call's calls yet (smp_take_calls). */
bool smp_takes_calls(void);
/* The last online hart other than the boot hart, or the boot hart. */
uint64_t smp_last_secondary(void);

/*
 * Waiting for another hart asleep (sleep.c). A waiting hart sleeps in wfi
 * until ready(what) holds; the hart that makes it hold wakes one sleeper or
 * all with an IPI. Interrupts are off; were_enabled says whether they were
 * on before, and then their handlers run at each wake-up.
 */
struct sleepers {
    uint64_t waiting[(BOOTINFO_MAX_HARTS + 63) / 64]; /* a bit per BootInfo hart */
};

void smp_sleep_until(struct sleepers *sleepers, bool (*ready)(const void *what), const void *what,
                     uint64_t were_enabled);
void smp_wake_one(struct sleepers *sleepers);
void smp_wake_all(struct sleepers *sleepers);
/* Early, before the other harts start: a hart that waits for the log's
 * lock sleeps. */
void smp_sleep_on_log(void);

/*
 * The kernel's spinlocks, for the few structures every hart touches.
 *
 * A hart holding a spinlock is not preempted (the tick's preemption waits
 * until it holds none), so the hart that takes a lock is the hart that
 * releases it, and a hart never switches to another task while it holds
 * one. A lock that an interrupt handler takes must be taken with interrupts
 * off everywhere else (spin_lock_irqsave), or a handler on the hart that
 * holds it would wait for itself.
 *
 * With AUBADE_DEBUG (`scons debug=1`, the default) every lock is checked
 * (spinlock.c): taking a lock this hart already holds, releasing one it does
 * not hold, a switch while holding one, and a lock taken both with
 * interrupts on and in an interrupt handler each panic with the lock's name
 * and both call sites. Without it, none of that is compiled in.
 *
 * A waiting hart stops if another hart panics meanwhile (panic.c).
 */
struct spinlock {
    struct raw_spinlock raw;
#ifdef AUBADE_DEBUG
    const char *name;  /* NULL: reported by address */
    uint32_t holder;   /* index of the holding hart in BootInfo's list, + 1; 0 when free */
    uintptr_t held_at; /* where the holder took it */
    /* The first place it was taken with interrupts on, and in an interrupt
     * handler: both set is the misuse. */
    uintptr_t taken_interrupts_on_at, taken_in_handler_at;
    /* For the ktests of the checks: a misuse of a lock on trial is
     * recorded here instead of panicking, and the operation that was
     * wrong is not carried out (a yield; other switches are). */
    bool on_trial;
    struct spinlock_misuse {
        const char *reason;
        uintptr_t first_site, second_site;
        uint32_t count;
    } misuse;
#endif
};

#ifdef AUBADE_DEBUG
#define SPINLOCK_INIT(lock_name) {.name = (lock_name)}
#else
#define SPINLOCK_INIT(lock_name) {{0}}
#endif

/* For a lock that is not a static with SPINLOCK_INIT: a name for reports. */
static inline void spin_lock_init(struct spinlock *lock, const char *name)
{
#ifdef AUBADE_DEBUG
    lock->name = name;
#else
    (void)lock;
    (void)name;
#endif
}

void spin_lock(struct spinlock *lock);
void spin_unlock(struct spinlock *lock);
/* Interrupts off, then the lock; returns whether interrupts were on. */
uint64_t spin_lock_irqsave(struct spinlock *lock);
/* The lock, then interrupts as spin_lock_irqsave found them. */
void spin_unlock_irqrestore(struct spinlock *lock, uint64_t were_enabled);

/* Whether this hart holds any spinlock: then it may not be preempted. */
bool spin_any_held(void);

/* At each place a task may switch away (sched.c): holding a spinlock there
 * is the misuse the checks report, naming the caller of that place. False
 * when the lock is on trial (its misuse recorded): a yield then does not
 * yield. */
#ifdef AUBADE_DEBUG
bool spin_check_none_held_at(uintptr_t site);
#else
static inline bool spin_check_none_held_at(uintptr_t site)
{
    (void)site;
    return true;
}
#endif
#define spin_check_none_held() spin_check_none_held_at((uintptr_t)__builtin_return_address(0))

#endif
