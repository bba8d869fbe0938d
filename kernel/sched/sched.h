/*
 * Tasks and the scheduler.
 *
 * A task is a kernel stack and a saved context. Each hart has a run queue
 * and an idle task, which is the context the hart booted in: startup runs
 * as task 0 of its hart, and when its init calls are done it becomes the
 * hart's idle loop. Tasks are preempted on the timer tick, move between
 * harts when an idle hart steals them, sleep until a time, and block on
 * wait queues until another task or an interrupt wakes them.
 *
 * task.c: creating tasks, their stacks, exit and reaping.
 * sched.c: run queues, switching, preemption, sleeping, waking, idling.
 */
#ifndef KERNEL_SCHED_H
#define KERNEL_SCHED_H

#include <aubade/syscall.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdnoreturn.h>

#include "context.h"
#include "smp/smp.h"
#include "trap/trap.h"

/* The same values as the system call interface's: `tasks` shows them. */
enum task_state {
    TASK_RUNNING = SYS_TASK_RUNNING,
    TASK_RUNNABLE = SYS_TASK_RUNNABLE,
    TASK_SLEEPING = SYS_TASK_SLEEPING,
    TASK_BLOCKED = SYS_TASK_BLOCKED,
    TASK_DEAD = SYS_TASK_DEAD,
};

struct process;
struct sv39;

struct task {
    struct context context; /* saved while the task is not on a hart */
    uint64_t id;
    char name[SYS_NAME_SIZE];
    uint32_t state; /* enum task_state, changed with atomics */
    /* Its registers are on a hart, or not yet saved by the hart that left
     * it: no other hart may switch to it until this is false. */
    bool on_cpu;
    bool idle;
    bool pinned; /* never stolen: it runs on `hart` alone */
    /* Index of the run queue it is on or last ran from; for a new task, of
     * the hart that created it. */
    uint32_t hart;
    struct task *next; /* in a run queue, a sleep list or a wait queue */
    struct task *next_in_list; /* in the list of every task */
    uint64_t wake_time;        /* while sleeping: the time CSR value to wake at */
    uint64_t switches;         /* times a hart switched to it */
    /* The guard page is just below the bottom. The top TRAP_FRAME_SIZE bytes
     * hold the frame of a trap from U-mode: kernel code runs below them. */
    uintptr_t stack_bottom, stack_top;
    uint64_t stack_phys;               /* 0 for an idle task: its stack is the loader's */
    void (*entry)(void *argument);
    void *argument;
    struct process *process; /* NULL for a kernel task */
    /* The page tables it runs on: its process's, NULL for the kernel's. */
    const struct sv39 *tables;
    struct user_entry user_entry;
};

/* Bytes of a task's kernel stack. */
#define TASK_STACK_SIZE (16ul * 1024)

/* Main: the task list and the stack window. */
void sched_init(void);
/* Every hart, at the end of its init calls: the context it booted in
 * becomes its idle task; `kernel: sched hart=H`. */
void sched_start(void);
/* The idle loop: runs what there is to run, reaps what has ended, and
 * waits with wfi. */
noreturn void sched_idle(void);

/* A new task that will call entry(argument) with interrupts on, not yet
 * runnable; NULL when memory runs out. */
struct task *task_create(const char *name, void (*entry)(void *argument), void *argument);
/* Makes a new task runnable, on the hart with the shortest run queue. */
void task_start(struct task *task);
/* Ends the calling task; an idle task frees its stack later. */
noreturn void task_exit(void);
/* The running task of this hart. */
struct task *task_current(void);

/* Lets the other runnable tasks of this hart go first. */
void sched_yield(void);
/* Sleeps until the time CSR reaches `deadline`, or for `us` microseconds.
 * The tick wakes sleepers: a sleep lasts at least as long as asked and up
 * to one tick longer. A sleep that would end past the time CSR's range
 * (clock_deadline_after) lasts forever: it never wraps into a short one. */
void sched_sleep_until(uint64_t deadline);
void sched_sleep_us(uint64_t us);

/* Tasks blocked until something they wait for holds. */
struct wait_queue {
    struct spinlock lock;
    struct task *head;
};

#define WAIT_QUEUE_INIT(name) {.lock = SPINLOCK_INIT(name), .head = NULL}

/* Blocks until condition(argument) is true. It is checked with the queue's
 * lock held, so a waker that makes it true and then calls wait_queue_wake
 * is never missed. */
void wait_until(struct wait_queue *queue, bool (*condition)(void *argument), void *argument);
/* Makes every task waiting on the queue check its condition again. Safe
 * from interrupt handlers. */
void wait_queue_wake(struct wait_queue *queue);

/* From trap_handle, as a trap returns: switches if the tick or a wake-up
 * asked for it and the interrupted code can be preempted. */
void sched_preempt_point(bool interrupted_user, bool interrupted_enabled);
/* From the tick (timer.c) and the IPI (smp.c): on this hart. */
void sched_tick(void);
void sched_ipi(void);

/* Called with each task: the list `tasks` and `harts` read. fn returns
 * false to stop. Interrupts are off and the task list locked meanwhile. */
void task_for_each(bool (*fn)(void *context, const struct task *task), void *context);
/* A hart's scheduler counters, by index in BootInfo's list; false if the
 * hart has not entered its loop. */
bool sched_hart_info(uint32_t index, struct sys_hart *info);

/* sched.c's part in task_exit and task_create: what the switch needs. */
noreturn void sched_exit_current(void);
void sched_make_runnable(struct task *task);
/* The first thing a task does after a switch: the hart it came from may
 * now be saved by another. */
void sched_finish_switch(void);
/* task.c's part in sched_start: idle tasks take the first ids. */
void task_ids_start(uint64_t first);
void task_list_add(struct task *task);
/* task.c's part in the idle loop: frees the stacks of ended tasks. */
void task_reap(void);
/* Tasks not yet reaped, ended ones included: for the tests. */
uint64_t task_live_count(void);

#endif
