/* Tasks and the scheduler: switching, sleeping, blocking, exit, and a stress
 * run on every hart. The cases run in the init task, on the boot hart. */
#include <aubade/csr.h>
#include <aubade/log.h>

#include "boot/boot.h"
#include "ktest/ktest.h"
#include "mm/mm.h"
#include "sched/sched.h"
#include "smp/smp.h"
#include "trap/trap.h"

static uint64_t read_cycle(void)
{
    uint64_t cycles;
    asm volatile("rdcycle %0" : "=r"(cycles));
    return cycles;
}

/* Waits (sleeping, so that a lost wake-up cannot hang the test) until
 * *count reaches `target` or `ms` milliseconds pass; whether it did. */
static bool wait_for_count(const uint64_t *count, uint64_t target, uint64_t ms)
{
    uint64_t deadline = read_time() + timebase_hz * ms / 1000;
    while (__atomic_load_n(count, __ATOMIC_ACQUIRE) < target) {
        if (read_time() > deadline)
            return false;
        sched_sleep_us(2000);
    }
    return true;
}

/* Starts a task or ends the case. */
#define START_TASK(t, name, entry, argument)                                                  \
    do {                                                                                      \
        struct task *started = task_create(name, entry, argument);                            \
        KTEST_ASSERT(t, started != NULL);                                                     \
        task_start(started);                                                                  \
    } while (0)

/* 1. The cost of a switch through the scheduler: two tasks pinned to this
 * hart yield to each other. */

#define YIELD_ROUNDS 2000

struct yielders {
    uint64_t finishing, done;
    uint64_t cycles[2], time[2];
};

static void yielder(void *argument)
{
    struct yielders *pair = argument;
    uint64_t start = read_cycle(), start_time = read_time();
    for (unsigned i = 0; i < YIELD_ROUNDS; i++)
        sched_yield();
    uint64_t index = __atomic_fetch_add(&pair->finishing, 1, __ATOMIC_RELAXED);
    pair->cycles[index] = read_cycle() - start;
    pair->time[index] = read_time() - start_time;
    /* Last: the case returns once both are done, and `pair` is on its
     * stack (a yielder that wrote after it corrupted the init task's). */
    __atomic_fetch_add(&pair->done, 1, __ATOMIC_RELEASE);
}

static void start_pinned(struct ktest *t, const char *name, void (*entry)(void *), void *argument,
                         struct task **task)
{
    *task = task_create(name, entry, argument);
    if (!KTEST_EXPECT(t, *task != NULL))
        return;
    (*task)->pinned = true; /* created here: on this hart */
    task_start(*task);
}

KTEST(sched, yield_switches_between_tasks_on_one_hart)
{
    struct yielders pair = {0};
    struct task *tasks[2];
    start_pinned(t, "yield-a", yielder, &pair, &tasks[0]);
    start_pinned(t, "yield-b", yielder, &pair, &tasks[1]);
    KTEST_ASSERT(t, wait_for_count(&pair.done, 2, 5000));
    /* The first to finish ran its rounds while the other ran too: each of
     * its yields is a switch away and a switch back. */
    uint64_t first = pair.cycles[0] < pair.cycles[1] ? pair.cycles[0] : pair.cycles[1];
    ktest_note(t, "schedule switch cycles=%lu ns=%lu (yield to yield, %u rounds)",
               first / (2 * YIELD_ROUNDS), pair.time[0] * 1000000000 / timebase_hz / (2 * YIELD_ROUNDS), YIELD_ROUNDS);
}

/* 2. Sleeping never ends early. How late it ends is the host's doing as
 * much as the kernel's (a tick a host holds back comes late), so it is
 * noted, not checked: a wake-up that never comes fails the stress case. */

KTEST(sched, sleep_never_ends_early)
{
    uint64_t latest = 0;
    for (uint64_t us = 1000; us <= 30000; us *= 3) {
        uint64_t start = read_time();
        sched_sleep_us(us);
        uint64_t slept = read_time() - start;
        uint64_t asked = us * timebase_hz / 1000000;
        KTEST_EXPECT(t, slept >= asked);
        if (slept > asked && slept - asked > latest)
            latest = slept - asked;
    }
    ktest_note(t, "latest wake-up %lu us after its time, tick period %lu us",
               latest * 1000000 / timebase_hz, 1000000ul / timer_tick_hz());
}

/* 3. Blocking and waking: a token passed between two tasks. */

#define RELAY_ROUNDS 200

struct relay {
    struct wait_queue queue;
    uint64_t token; /* whose turn: 0 or 1 */
    uint64_t passes[2];
    uint64_t done;
};

struct relay_runner {
    struct relay *relay;
    uint64_t me;
};

static bool my_turn(void *argument)
{
    const struct relay_runner *runner = argument;
    return __atomic_load_n(&runner->relay->token, __ATOMIC_ACQUIRE) == runner->me;
}

static void relay_run(struct relay_runner *runner, unsigned rounds)
{
    struct relay *relay = runner->relay;
    for (unsigned i = 0; i < rounds; i++) {
        wait_until(&relay->queue, my_turn, runner);
        relay->passes[runner->me]++;
        __atomic_store_n(&relay->token, 1 - runner->me, __ATOMIC_RELEASE);
        wait_queue_wake(&relay->queue);
    }
    __atomic_fetch_add(&relay->done, 1, __ATOMIC_ACQ_REL);
}

static void relay_task(void *argument)
{
    relay_run(argument, RELAY_ROUNDS);
}

KTEST(sched, blocked_tasks_wake_when_woken)
{
    struct relay relay = {0};
    struct relay_runner runners[2] = {{&relay, 0}, {&relay, 1}};
    START_TASK(t, "relay-0", relay_task, &runners[0]);
    START_TASK(t, "relay-1", relay_task, &runners[1]);
    KTEST_ASSERT(t, wait_for_count(&relay.done, 2, 5000));
    KTEST_EXPECT_EQ(t, relay.passes[0], RELAY_ROUNDS);
    KTEST_EXPECT_EQ(t, relay.passes[1], RELAY_ROUNDS);
}

/* 4. Ended tasks are reaped: their stacks and structures come back. */

static void count_and_end(void *argument)
{
    __atomic_fetch_add((uint64_t *)argument, 1, __ATOMIC_ACQ_REL);
}

/* Waits up to 500 ms for the idle tasks to reap all but `left` tasks. */
static bool reaped_down_to(uint64_t left)
{
    for (unsigned wait = 0; wait < 250 && task_live_count() != left; wait++)
        sched_sleep_us(2000);
    return task_live_count() == left;
}

KTEST(sched, ended_tasks_are_reaped)
{
    enum { TASKS = 64 };
    uint64_t ended = 0, idle_tasks = 0;
    for (uint32_t i = 0; i < boot_info->hart_count; i++)
        idle_tasks += smp_is_online(boot_info->harts[i].hart_id);
    /* What earlier cases started has ended: an idle task per hart and this
     * one are left. */
    uint64_t live_before = idle_tasks + 1;
    KTEST_ASSERT(t, reaped_down_to(live_before));
    uint64_t free_before = frames_free_bytes();
    for (unsigned i = 0; i < TASKS; i++)
        START_TASK(t, "short", count_and_end, &ended);
    KTEST_ASSERT(t, wait_for_count(&ended, TASKS, 5000));
    KTEST_EXPECT(t, reaped_down_to(live_before));
    KTEST_EXPECT(t, frames_free_bytes() + 16 * SV39_PAGE_SIZE >= free_before);
}

/* 5. A woken task whose condition does not hold yet blocks again, as
 * itself, on whichever hart it woke: tasks take turns, and every turn
 * wakes all of them, so most wake only to block again, often on another
 * hart than the one they slept on. A hart that mistook which task it runs
 * (per-hart state read through the tp of the hart the task left) blocks
 * another hart's task instead and corrupts the queues. */

#define TURN_TASKS 6
#define TURN_ROUNDS 150

struct turns {
    struct wait_queue queue;
    uint64_t turn; /* whose: turn % TURN_TASKS */
    uint64_t finished;
    uint64_t mistaken; /* wake-ups after which task_current() was another task */
};

struct turn_taker {
    struct turns *turns;
    uint64_t me;
    struct task *self;
};

static bool turn_has_come(void *argument)
{
    const struct turn_taker *taker = argument;
    return __atomic_load_n(&taker->turns->turn, __ATOMIC_ACQUIRE) % TURN_TASKS == taker->me;
}

static void take_turns(void *argument)
{
    struct turn_taker *taker = argument;
    struct turns *turns = taker->turns;
    for (unsigned round = 0; round < TURN_ROUNDS; round++) {
        wait_until(&turns->queue, turn_has_come, taker);
        if (task_current() != taker->self)
            __atomic_fetch_add(&turns->mistaken, 1, __ATOMIC_RELAXED);
        __atomic_fetch_add(&turns->turn, 1, __ATOMIC_ACQ_REL);
        wait_queue_wake(&turns->queue);
    }
    __atomic_fetch_add(&turns->finished, 1, __ATOMIC_ACQ_REL);
}

KTEST(sched, woken_tasks_block_again_as_themselves)
{
    static struct turns turns;
    static struct turn_taker takers[TURN_TASKS];
    turns = (struct turns){0};
    for (unsigned i = 0; i < TURN_TASKS; i++) {
        takers[i] = (struct turn_taker){.turns = &turns, .me = i};
        takers[i].self = task_create("turns", take_turns, &takers[i]);
        KTEST_ASSERT(t, takers[i].self != NULL);
    }
    for (unsigned i = 0; i < TURN_TASKS; i++)
        task_start(takers[i].self);
    /* Bounded: a lost or misdirected wake-up shows as turns never taken. */
    bool all_finished = wait_for_count(&turns.finished, TURN_TASKS, 10000);
    KTEST_EXPECT_EQ(t, turns.mistaken, 0);
    KTEST_ASSERT(t, all_finished);
    KTEST_EXPECT_EQ(t, turns.turn, TURN_TASKS * TURN_ROUNDS);
}

/* 6. Stress: many tasks on every hart for a bounded time, each counting,
 * sleeping, yielding and relaying a token with a partner on a wait queue.
 * The first task of each online hart is pinned there, so that every hart
 * runs tasks however slowly the host runs it; the others go where the
 * scheduler puts them and move when idle harts steal them. */

/* At least 12 pairs, and as many as it takes to pin a task on every
 * online hart (up to 128). */
#define STRESS_MIN_PAIRS 12
#define STRESS_MAX_PAIRS (BOOTINFO_MAX_HARTS / 2 + 1)
_Static_assert(STRESS_MAX_PAIRS >= STRESS_MIN_PAIRS, "room for the pairs every boot makes");
#define STRESS_MS 400

struct stress {
    uint64_t deadline;
    uint64_t total; /* every task's counts, added atomically */
    uint64_t started, finished;
    uint64_t early_wakes; /* sleeps that ended before their time */
    bool ran_on[BOOTINFO_MAX_HARTS]; /* by index in BootInfo */
    struct relay relays[STRESS_MAX_PAIRS];
};

struct stress_task {
    struct stress *stress;
    struct relay_runner runner;
    uint64_t count;
    uint64_t sleeps;
    uint32_t first_hart; /* index in BootInfo + 1; 0 before it runs */
    bool moved;          /* it ran on another hart than its first */
    bool pinned;
};

static void note_hart(struct stress_task *task)
{
    uint32_t hart = (uint32_t)(this_percpu - boot_info->harts);
    task->stress->ran_on[hart] = true;
    if (task->first_hart == 0)
        task->first_hart = hart + 1;
    else if (task->first_hart != hart + 1)
        task->moved = true;
}

static void stress_task(void *argument)
{
    struct stress_task *task = argument;
    struct stress *stress = task->stress;
    __atomic_fetch_add(&stress->started, 1, __ATOMIC_ACQ_REL);
    uint64_t mix = task->runner.me * 7 + (uintptr_t)task;
    while (read_time() < stress->deadline) {
        note_hart(task);
        task->count++;
        __atomic_fetch_add(&stress->total, 1, __ATOMIC_RELAXED);
        mix = mix * 6364136223846793005ul + 1442695040888963407ul;
        switch ((mix >> 33) % 8) {
        case 0: {
            uint64_t us = 500 + (mix >> 40) % 4000;
            uint64_t wake = read_time() + us * timebase_hz / 1000000;
            sched_sleep_us(us);
            if (read_time() < wake)
                __atomic_fetch_add(&stress->early_wakes, 1, __ATOMIC_RELAXED);
            task->sleeps++;
            break;
        }
        case 1:
        case 2:
            sched_yield();
            break;
        case 3:
            relay_run(&task->runner, 1);
            break;
        default:
            for (volatile unsigned spin = 0; spin < 2000; spin++)
                ;
        }
    }
    /* Keep relaying until the partner has made as many passes: neither may
     * leave the other waiting for a token that never comes. */
    struct relay *relay = task->runner.relay;
    for (;;) {
        uint64_t mine = __atomic_load_n(&relay->passes[task->runner.me], __ATOMIC_ACQUIRE);
        uint64_t theirs = __atomic_load_n(&relay->passes[1 - task->runner.me], __ATOMIC_ACQUIRE);
        if (mine > theirs || (mine == theirs && task->runner.me == 1))
            break;
        relay_run(&task->runner, 1);
    }
    note_hart(task);
    __atomic_fetch_add(&stress->finished, 1, __ATOMIC_ACQ_REL);
}

KTEST(sched, stress_on_every_hart)
{
    static struct stress stress;
    static struct stress_task tasks[2 * STRESS_MAX_PAIRS];
    stress = (struct stress){.deadline = read_time() + timebase_hz * STRESS_MS / 1000};
    unsigned online = 0;
    for (uint32_t i = 0; i < boot_info->hart_count; i++)
        online += smp_is_online(boot_info->harts[i].hart_id);
    const unsigned pairs = online / 2 + 1 > STRESS_MIN_PAIRS ? online / 2 + 1 : STRESS_MIN_PAIRS;
    const unsigned task_count = 2 * pairs;
    uint64_t switches_before = 0;
    for (uint32_t i = 0; i < boot_info->hart_count; i++) {
        struct sys_hart hart;
        if (sched_hart_info(i, &hart))
            switches_before += hart.switches;
    }
    uint64_t start = read_time();
    uint32_t next_hart = 0;
    for (unsigned i = 0; i < task_count; i++) {
        tasks[i] = (struct stress_task){
            .stress = &stress,
            .runner = {&stress.relays[i / 2], i % 2},
        };
        struct task *task = task_create("stress", stress_task, &tasks[i]);
        KTEST_ASSERT(t, task != NULL);
        while (next_hart < boot_info->hart_count &&
               !smp_is_online(boot_info->harts[next_hart].hart_id))
            next_hart++;
        if (next_hart < boot_info->hart_count) {
            task->pinned = tasks[i].pinned = true;
            task->hart = next_hart++;
        }
        task_start(task);
    }
    /* Bounded: a lost wake-up shows as tasks that never finish. */
    bool all_finished = wait_for_count(&stress.finished, task_count, STRESS_MS + 5000);
    uint64_t elapsed_us = (read_time() - start) * 1000000 / timebase_hz;
    KTEST_EXPECT_EQ(t, stress.started, task_count);
    KTEST_ASSERT(t, all_finished);

    uint64_t sum = 0, sleeps = 0, moved = 0;
    for (unsigned i = 0; i < task_count; i++) {
        sum += tasks[i].count;
        sleeps += tasks[i].sleeps;
        moved += !tasks[i].pinned && tasks[i].moved;
    }
    unsigned harts_seen = 0, offline_seen = 0;
    for (uint32_t i = 0; i < boot_info->hart_count; i++) {
        harts_seen += stress.ran_on[i];
        offline_seen += stress.ran_on[i] && !smp_is_online(boot_info->harts[i].hart_id);
    }
    KTEST_EXPECT_EQ(t, sum, stress.total);
    /* How many tasks moved depends on when each hart found itself idle, so
     * on the host: it is noted; the next case proves that idle harts steal. */
    KTEST_EXPECT_EQ(t, stress.early_wakes, 0);
    /* A task was pinned on every online hart, and none ran elsewhere. */
    KTEST_EXPECT_EQ(t, harts_seen, online);
    KTEST_EXPECT_EQ(t, offline_seen, 0);
    for (unsigned i = 0; i < pairs; i++) {
        /* Each pass hands the token over: the two counts differ by at most one. */
        uint64_t a = stress.relays[i].passes[0], b = stress.relays[i].passes[1];
        KTEST_EXPECT(t, a == b || a == b + 1);
    }
    uint64_t switches = 0;
    for (uint32_t i = 0; i < boot_info->hart_count; i++) {
        struct sys_hart hart;
        if (sched_hart_info(i, &hart))
            switches += hart.switches;
    }
    ktest_note(t,
               "stress tasks=%u ms=%lu counts=%lu sleeps=%lu switches=%lu harts=%u moved=%lu",
               task_count, elapsed_us / 1000, sum, sleeps, switches - switches_before,
               harts_seen, moved);
}

/* 7. An idle hart takes a task queued on a busy one. Every other hart is
 * kept busy by a pinned task that holds a spinlock (so that its hart does
 * not preempt it), and this task keeps its own hart busy the same way. A
 * task started then can only wait in a busy hart's queue; one hart other
 * than that one is let go, and nothing but a steal can run the task. */

#define STEAL_WAIT_MS 5000

struct steal {
    uint64_t hogs_running;
    bool release[BOOTINFO_MAX_HARTS]; /* the hog on that hart lets go */
    uint64_t ran_on;                  /* index + 1 of the hart the queued task ran on */
};

static struct steal steal;

static uint32_t hart_index_now(void)
{
    return (uint32_t)(this_percpu - boot_info->harts);
}

static void hog(void *argument)
{
    bool *release = argument;
    struct spinlock busy = SPINLOCK_INIT("ktest-hog");
    spin_lock(&busy);
    __atomic_fetch_add(&steal.hogs_running, 1, __ATOMIC_ACQ_REL);
    uint64_t give_up = read_time() + timebase_hz * STEAL_WAIT_MS / 1000;
    while (!__atomic_load_n(release, __ATOMIC_ACQUIRE) && read_time() < give_up)
        ;
    spin_unlock(&busy);
}

static void note_where_it_ran(void *unused)
{
    (void)unused;
    __atomic_store_n(&steal.ran_on, (uint64_t)hart_index_now() + 1, __ATOMIC_RELEASE);
}

static bool task_ran(void *unused)
{
    (void)unused;
    return __atomic_load_n(&steal.ran_on, __ATOMIC_ACQUIRE) != 0;
}

KTEST(sched, an_idle_hart_takes_a_task_queued_on_a_busy_one)
{
    steal = (struct steal){0};
    struct spinlock busy = SPINLOCK_INIT("ktest-own-hart");
    spin_lock(&busy); /* from here this task stays on its hart */
    uint32_t here = hart_index_now(), other = here;
    uint64_t hogs = 0;
    for (uint32_t i = 0; i < boot_info->hart_count; i++) {
        if (i == here || !smp_is_online(boot_info->harts[i].hart_id))
            continue;
        struct task *task = task_create("hog", hog, &steal.release[i]);
        if (task == NULL)
            break;
        task->pinned = true;
        task->hart = i;
        task_start(task);
        hogs++;
        other = i;
    }
    uint64_t give_up = read_time() + timebase_hz * STEAL_WAIT_MS / 1000;
    while (__atomic_load_n(&steal.hogs_running, __ATOMIC_ACQUIRE) < hogs && read_time() < give_up)
        ;
    bool all_busy = hogs > 0 && steal.hogs_running == hogs;
    struct task *queued = all_busy ? task_create("queued", note_where_it_ran, NULL) : NULL;
    uint32_t queued_on = here;
    if (queued) {
        task_start(queued);
        queued_on = queued->hart;
    }
    if (queued && queued_on == here) {
        /* Queued behind this task: another hart is let go and takes it. */
        __atomic_store_n(&steal.release[other], true, __ATOMIC_RELEASE);
        while (!task_ran(NULL) && read_time() < give_up)
            ;
        spin_unlock(&busy);
    } else {
        /* Queued behind a hog: this hart is let go, idles, and takes it. */
        spin_unlock(&busy);
        while (queued && !task_ran(NULL) && read_time() < give_up)
            sched_sleep_us(1000);
    }
    for (uint32_t i = 0; i < boot_info->hart_count; i++)
        __atomic_store_n(&steal.release[i], true, __ATOMIC_RELEASE);
    if (hogs == 0) {
        ktest_skip(t, "one hart: nowhere to take a task from");
        return;
    }
    KTEST_ASSERT(t, all_busy && queued != NULL);
    KTEST_ASSERT(t, task_ran(NULL));
    KTEST_EXPECT(t, steal.ran_on != queued_on + 1);
    ktest_note(t, "queued on hart index %u, taken by index %lu", queued_on, steal.ran_on - 1);
}
