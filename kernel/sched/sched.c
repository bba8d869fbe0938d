/*
 * The scheduler: a run queue per hart, round robin within it, preemption on
 * the tick, and idle harts that steal work from busy ones.
 *
 * schedule() runs with interrupts off. It puts the running task back on its
 * queue if it is still runnable, takes the next (or steals one, or falls
 * back to the idle task) and switches. A task's state changes by atomic
 * compare-and-swap, so that a wake-up racing with the task going to sleep
 * either finds it asleep and queues it, or finds it still running and
 * leaves it be; never both.
 *
 * A task is on_cpu from the switch to it until the switch away from it has
 * saved its registers. Only a hart's own task, put back on its own queue as
 * it switches away, can be queued while on_cpu; a hart that steals it then
 * waits for that switch to end, which never waits in turn: a task woken
 * while its hart is still switching away from it is queued only once that
 * switch is over (make_runnable). Were it queued at once, two harts could
 * each pick the task the other is leaving and wait for each other for ever
 * (found by soaking: 2 boots in 150 of the ktests at -smp 4).
 */
#include <aubade/csr.h>
#include <aubade/fmt.h>
#include <aubade/log.h>
#include <aubade/sbi.h>
#include <aubade/string.h>

#include "context.h"
#include "boot/boot.h"
#include "debug/debug.h"
#include "mm/mm.h"
#include "sched/sched.h"
#include "smp/smp.h"
#include "trap/trap.h"

struct run_queue {
    struct spinlock lock;
    struct task *head, *tail; /* runnable, longest waiting first */
    uint32_t length;
    uint32_t stealable; /* of them, not pinned */
    struct task *sleepers; /* asleep on this hart, soonest to wake first */
    struct task *current;  /* read by other harts only to see whether it idles */
    struct task idle;
    char current_name[SYS_NAME_SIZE];
    bool need_resched;
    bool started;
    uint64_t switches, ticks, idle_ticks;
};

static struct run_queue run_queues[BOOTINFO_MAX_HARTS];
/* The task this hart just left: its on_cpu clears once the switch is done. */
static _Thread_local struct task *switched_from;

static uint32_t my_index(void)
{
    return (uint32_t)(this_percpu - boot_info->harts);
}

static struct run_queue *my_queue(void)
{
    return &run_queues[my_index()];
}

static bool is_idle(const struct run_queue *queue)
{
    return __atomic_load_n(&queue->current, __ATOMIC_RELAXED) == &queue->idle &&
           __atomic_load_n(&queue->length, __ATOMIC_RELAXED) == 0;
}

/* With the queue's lock held. */
static void enqueue(struct run_queue *queue, struct task *task)
{
    task->next = NULL;
    task->hart = (uint32_t)(queue - run_queues);
    if (queue->tail)
        queue->tail->next = task;
    else
        queue->head = task;
    queue->tail = task;
    __atomic_store_n(&queue->length, queue->length + 1, __ATOMIC_RELAXED);
    __atomic_store_n(&queue->stealable, queue->stealable + !task->pinned, __ATOMIC_RELAXED);
}

/* The first task of the queue, or with `unpinned`, the first that is not
 * pinned; NULL if there is none. */
static struct task *dequeue(struct run_queue *queue, bool unpinned)
{
    struct task **link = &queue->head, *previous = NULL;
    while (*link && unpinned && (*link)->pinned) {
        previous = *link;
        link = &(*link)->next;
    }
    struct task *task = *link;
    if (task == NULL)
        return NULL;
    *link = task->next;
    if (queue->tail == task)
        queue->tail = previous;
    __atomic_store_n(&queue->length, queue->length - 1, __ATOMIC_RELAXED);
    __atomic_store_n(&queue->stealable, queue->stealable - !task->pinned, __ATOMIC_RELAXED);
    return task;
}

/* Where a task that becomes runnable goes: the hart it last ran on keeps
 * its cache warm, unless that hart is busy and another idles. A new task
 * goes to the hart with the shortest queue. */
static struct run_queue *choose_queue(const struct task *task)
{
    struct run_queue *last = &run_queues[task->hart];
    if (task->pinned)
        return last;
    if (task->switches && last->started && is_idle(last))
        return last;
    struct run_queue *best = NULL;
    for (uint32_t i = 0; i < boot_info->hart_count; i++) {
        struct run_queue *queue = &run_queues[i];
        if (!__atomic_load_n(&queue->started, __ATOMIC_ACQUIRE))
            continue;
        if (is_idle(queue))
            return queue;
        if (best == NULL || queue->length < best->length)
            best = queue;
    }
    return task->switches && last->started ? last : best;
}

/* A hart that idles in wfi needs an interrupt to look at its queue. */
static void kick(struct run_queue *queue)
{
    if (queue == my_queue())
        queue->need_resched = true;
    else if (__atomic_load_n(&queue->current, __ATOMIC_RELAXED) == &queue->idle)
        sbi_send_ipi(boot_info->harts[queue - run_queues].hart_id);
}

static void make_runnable(struct task *task, uint32_t from)
{
    /* Not preempted between the two steps: the task would be runnable and
     * on no queue meanwhile. */
    uint64_t were_enabled = interrupts_disable();
    if (!__atomic_compare_exchange_n(&task->state, &from, TASK_RUNNABLE, false,
                                     __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
        interrupts_restore(were_enabled);
        return; /* awake already */
    }
    /* Queued only once its last hart has switched away from it: a hart
     * that then picks it never waits (see the top of this file). */
    while (__atomic_load_n(&task->on_cpu, __ATOMIC_ACQUIRE))
        panic_stop_if_panicking();
    struct run_queue *queue = choose_queue(task);
    spin_lock(&queue->lock);
    enqueue(queue, task);
    spin_unlock(&queue->lock);
    kick(queue);
    interrupts_restore(were_enabled);
}

void sched_make_runnable(struct task *task)
{
    make_runnable(task, TASK_BLOCKED);
}

/* One task from the other queue with the most that can move: the one that
 * has waited longest. Pinned tasks wait for their own hart. */
static struct task *steal(struct run_queue *thief)
{
    struct run_queue *victim = NULL;
    for (uint32_t i = 0; i < boot_info->hart_count; i++) {
        struct run_queue *queue = &run_queues[i];
        uint32_t stealable = __atomic_load_n(&queue->stealable, __ATOMIC_RELAXED);
        if (queue != thief && stealable && (victim == NULL || stealable > victim->stealable))
            victim = queue;
    }
    if (victim == NULL)
        return NULL;
    spin_lock(&victim->lock);
    struct task *task = dequeue(victim, true);
    spin_unlock(&victim->lock);
    return task;
}

void sched_finish_switch(void)
{
    __atomic_store_n(&switched_from->on_cpu, false, __ATOMIC_RELEASE);
}

static void switch_to(struct run_queue *queue, struct task *prev, struct task *next)
{
    while (__atomic_load_n(&next->on_cpu, __ATOMIC_ACQUIRE))
        panic_stop_if_panicking(); /* its last hart is saving it */
    next->on_cpu = true;
    next->hart = (uint32_t)(queue - run_queues);
    next->switches++;
    __atomic_store_n(&next->state, TASK_RUNNING, __ATOMIC_RELAXED);
    if (prev->idle)
        prev->state = TASK_RUNNABLE;
    memcpy(queue->current_name, next->name, sizeof(queue->current_name));
    __atomic_store_n(&queue->current, next, __ATOMIC_RELAXED);
    queue->switches++;
    vm_activate(next->tables);
    /* trap_entry moves to the trap stack below this: the guard page. */
    trap_stack_floor = next->stack_bottom + TRAP_FRAME_SIZE;
    switched_from = prev;
    context_switch(&prev->context, &next->context);
    sched_finish_switch();
}

/* Interrupts off. Returns when this task is chosen again (at once, if
 * nothing else can run). */
static void schedule(void)
{
    struct run_queue *queue = my_queue();
    struct task *prev = queue->current;
    queue->need_resched = false;
    spin_lock(&queue->lock);
    uint32_t running = TASK_RUNNING;
    if (!prev->idle && __atomic_compare_exchange_n(&prev->state, &running, TASK_RUNNABLE, false,
                                                   __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
        enqueue(queue, prev);
    struct task *next = dequeue(queue, false);
    spin_unlock(&queue->lock);
    if (next == NULL)
        next = steal(queue);
    if (next == NULL)
        next = &queue->idle;
    if (next == prev)
        __atomic_store_n(&prev->state, TASK_RUNNING, __ATOMIC_RELAXED);
    else
        switch_to(queue, prev, next);
}

void sched_yield(void)
{
    if (!spin_check_none_held())
        return;
    uint64_t were_enabled = interrupts_disable();
    schedule();
    interrupts_restore(were_enabled);
}

noreturn void sched_exit_current(void)
{
    spin_check_none_held();
    interrupts_disable();
    schedule();
    kernel_panic("task-exit", "task %lu ran again after it ended", task_current()->id);
}

struct task *task_current(void)
{
    return my_queue()->current;
}

void sched_sleep_until(uint64_t deadline)
{
    spin_check_none_held();
    uint64_t were_enabled = interrupts_disable();
    struct run_queue *queue = my_queue();
    struct task *task = queue->current;
    spin_lock(&queue->lock);
    task->wake_time = deadline;
    __atomic_store_n(&task->state, TASK_SLEEPING, __ATOMIC_RELAXED);
    struct task **link = &queue->sleepers;
    while (*link && (*link)->wake_time <= deadline)
        link = &(*link)->next;
    task->next = *link;
    *link = task;
    spin_unlock(&queue->lock);
    schedule();
    interrupts_restore(were_enabled);
}

void sched_sleep_us(uint64_t us)
{
    sched_sleep_until(clock_deadline_after(read_time(), us));
}

void wait_until(struct wait_queue *queue, bool (*condition)(void *argument), void *argument)
{
    spin_check_none_held();
    for (;;) {
        uint64_t were_enabled = spin_lock_irqsave(&queue->lock);
        if (condition(argument)) {
            spin_unlock_irqrestore(&queue->lock, were_enabled);
            return;
        }
        struct task *task = task_current();
        __atomic_store_n(&task->state, TASK_BLOCKED, __ATOMIC_RELAXED);
        task->next = queue->head;
        queue->head = task;
        spin_unlock(&queue->lock);
        schedule();
        interrupts_restore(were_enabled);
    }
}

void wait_queue_wake(struct wait_queue *queue)
{
    uint64_t were_enabled = spin_lock_irqsave(&queue->lock);
    struct task *waiting = queue->head;
    queue->head = NULL;
    spin_unlock(&queue->lock);
    while (waiting) {
        struct task *task = waiting;
        waiting = task->next; /* before make_runnable reuses the link */
        make_runnable(task, TASK_BLOCKED);
    }
    interrupts_restore(were_enabled);
}

void sched_tick(void)
{
    struct run_queue *queue = my_queue();
    if (!queue->started)
        return;
    queue->ticks++;
    if (queue->current->idle)
        queue->idle_ticks++;
    uint64_t now = read_time();
    spin_lock(&queue->lock);
    while (queue->sleepers && queue->sleepers->wake_time <= now) {
        struct task *task = queue->sleepers;
        queue->sleepers = task->next;
        __atomic_store_n(&task->state, TASK_RUNNABLE, __ATOMIC_RELAXED);
        enqueue(queue, task);
    }
    /* A time slice is one tick: whoever waits goes next. */
    if (queue->length)
        queue->need_resched = true;
    spin_unlock(&queue->lock);
}

void sched_ipi(void)
{
    my_queue()->need_resched = true;
}

/* An idle task is never preempted: it switches from its loop, and so the
 * boot context ends its init calls before any task runs on its hart. Nor
 * is a hart that holds a spinlock: the next tick tries again. */
void sched_preempt_point(bool interrupted_user, bool interrupted_enabled)
{
    struct run_queue *queue = my_queue();
    if (queue->started && queue->need_resched && !queue->current->idle &&
        (interrupted_user || interrupted_enabled) && !spin_any_held())
        schedule();
}

void sched_init(void)
{
    for (uint32_t i = 0; i < boot_info->hart_count; i++)
        spin_lock_init(&run_queues[i].lock, "run-queue");
    task_ids_start(boot_info->hart_count);
}

void sched_start(void)
{
    uint32_t index = my_index();
    struct run_queue *queue = &run_queues[index];
    struct task *idle = &queue->idle;
    fmt_snprintf(idle->name, sizeof(idle->name), "idle%lu", current_hart);
    memcpy(queue->current_name, idle->name, sizeof(queue->current_name));
    idle->id = index;
    idle->idle = true;
    idle->on_cpu = true;
    idle->hart = index;
    idle->state = TASK_RUNNING;
    /* The stack the loader gave this hart, which startup has run on. */
    idle->stack_bottom = this_percpu->stack.start;
    idle->stack_top = this_percpu->stack.end;
    task_list_add(idle);
    queue->current = idle;
    __atomic_store_n(&queue->started, true, __ATOMIC_RELEASE);
    log_event("kernel", "sched", "hart=%lu", current_hart);
}

static bool work_for(const struct run_queue *mine)
{
    if (__atomic_load_n(&mine->length, __ATOMIC_RELAXED))
        return true;
    for (uint32_t i = 0; i < boot_info->hart_count; i++)
        if (__atomic_load_n(&run_queues[i].stealable, __ATOMIC_RELAXED))
            return true;
    return false;
}

noreturn void sched_idle(void)
{
    for (;;) {
        task_reap();
        /* wfi wakes on a pending interrupt even with interrupts masked: the
         * mask closes the gap between looking at the queues and waiting. */
        interrupts_disable();
        if (!work_for(my_queue()))
            asm volatile("wfi");
        schedule();
        interrupts_restore(SSTATUS_SIE); /* the handlers run here */
    }
}

bool sched_hart_info(uint32_t index, struct sys_hart *info)
{
    const struct run_queue *queue = &run_queues[index];
    if (index >= boot_info->hart_count || !__atomic_load_n(&queue->started, __ATOMIC_ACQUIRE))
        return false;
    *info = (struct sys_hart){
        .hart_id = boot_info->harts[index].hart_id,
        .ticks = queue->ticks,
        .switches = queue->switches,
        .idle_ticks = queue->idle_ticks,
        .runnable = queue->length,
        .boot = boot_info->harts[index].hart_id == boot_info->boot_hart,
    };
    memcpy(info->current, queue->current_name, sizeof(info->current));
    return true;
}
