/*
 * Tasks: their kernel stacks, the list of every task, exit and reaping.
 *
 * A stack is frames mapped into a window of the kernel's half, one slot per
 * task, with an unmapped guard page below it: running off the end faults
 * there and is reported as a stack overflow (trap.c), instead of writing
 * over the next task's stack.
 *
 * A task that ends cannot free the stack it is running on. It goes on the
 * dead list, and an idle task frees it once no hart runs on it any more.
 */
#include <aubade/csr.h>
#include <aubade/log.h>
#include <aubade/string.h>

#include "context.h"
#include "boot/boot.h"
#include "mm/mm.h"
#include "sched/sched.h"
#include "smp/smp.h"
#include "trap/trap.h"

#define STACK_WINDOW 0xffffffe400000000ul /* between the per-hart slots and the scratch GiB */
#define STACK_SLOT_SIZE (TASK_STACK_SIZE + GUARD_SIZE)
#define GUARD_SIZE SV39_PAGE_SIZE
#define STACK_SLOTS 4096 /* tasks alive at once */

/* The task list, the dead list and the slots. */
static struct spinlock list_lock = SPINLOCK_INIT("tasks");
static struct task *all_tasks;
static struct task *dead_tasks;
static uint64_t slots_used[STACK_SLOTS / 64];
static uint64_t next_id;
static uint64_t live_tasks;

/* Idle tasks are ids 0 .. harts - 1; the rest count up from there. */
void task_ids_start(uint64_t first)
{
    next_id = first;
}

static int take_slot(void)
{
    for (unsigned slot = 0; slot < STACK_SLOTS; slot++) {
        if (!(slots_used[slot / 64] & 1ul << (slot % 64))) {
            slots_used[slot / 64] |= 1ul << (slot % 64);
            return (int)slot;
        }
    }
    return -1;
}

static uintptr_t slot_stack_bottom(unsigned slot)
{
    return STACK_WINDOW + slot * STACK_SLOT_SIZE + GUARD_SIZE;
}

/* Frames for the stack, mapped rw- above an unmapped guard page. */
static bool stack_create(struct task *task)
{
    uint64_t were_enabled = spin_lock_irqsave(&list_lock);
    int slot = take_slot();
    spin_unlock_irqrestore(&list_lock, were_enabled);
    if (slot < 0)
        return false;
    uint64_t phys = frames_alloc(TASK_STACK_SIZE, SV39_PAGE_SIZE);
    uintptr_t bottom = slot_stack_bottom((unsigned)slot);
    if (phys && vm_map(bottom, phys, TASK_STACK_SIZE, PTE_R | PTE_W) == 0) {
        task->stack_phys = phys;
        task->stack_bottom = bottom;
        task->stack_top = bottom + TASK_STACK_SIZE;
        return true;
    }
    if (phys)
        frames_free(phys, TASK_STACK_SIZE);
    were_enabled = spin_lock_irqsave(&list_lock);
    slots_used[slot / 64] &= ~(1ul << (slot % 64));
    spin_unlock_irqrestore(&list_lock, were_enabled);
    return false;
}

static void stack_destroy(struct task *task)
{
    unsigned slot = (unsigned)((task->stack_bottom - GUARD_SIZE - STACK_WINDOW) / STACK_SLOT_SIZE);
    vm_unmap(task->stack_bottom, TASK_STACK_SIZE);
    frames_free(task->stack_phys, TASK_STACK_SIZE);
    uint64_t were_enabled = spin_lock_irqsave(&list_lock);
    slots_used[slot / 64] &= ~(1ul << (slot % 64));
    spin_unlock_irqrestore(&list_lock, were_enabled);
}

void task_list_add(struct task *task)
{
    uint64_t were_enabled = spin_lock_irqsave(&list_lock);
    task->next_in_list = all_tasks;
    all_tasks = task;
    __atomic_fetch_add(&live_tasks, 1, __ATOMIC_RELAXED);
    spin_unlock_irqrestore(&list_lock, were_enabled);
}

/* Every task starts here, on its own stack, switched to by schedule(). */
static noreturn void task_first_run(void *argument)
{
    struct task *task = argument;
    sched_finish_switch();
    interrupts_restore(SSTATUS_SIE);
    task->entry(task->argument);
    task_exit();
}

struct task *task_create(const char *name, void (*entry)(void *argument), void *argument)
{
    struct task *task = kzalloc(sizeof(*task));
    if (task == NULL)
        return NULL;
    if (!stack_create(task)) {
        kfree(task);
        return NULL;
    }
    strlcpy(task->name, name, sizeof(task->name));
    task->entry = entry;
    task->argument = argument;
    task->state = TASK_BLOCKED; /* until task_start */
    task->id = __atomic_fetch_add(&next_id, 1, __ATOMIC_RELAXED);
    task->hart = (uint32_t)(this_percpu - boot_info->harts);
    context_prepare(&task->context, task->stack_top - TRAP_FRAME_SIZE, task_first_run, task);
    task_list_add(task);
    return task;
}

void task_start(struct task *task)
{
    sched_make_runnable(task);
}

noreturn void task_exit(void)
{
    struct task *task = task_current();
    uint64_t were_enabled = spin_lock_irqsave(&list_lock);
    (void)were_enabled; /* it never runs again: schedule() leaves them off */
    task->state = TASK_DEAD;
    task->next = dead_tasks;
    dead_tasks = task;
    spin_unlock(&list_lock);
    sched_exit_current();
}

static void list_remove(struct task *task)
{
    for (struct task **link = &all_tasks; *link; link = &(*link)->next_in_list) {
        if (*link == task) {
            *link = task->next_in_list;
            return;
        }
    }
}

/* Frees the dead tasks no hart still runs on; the others wait for the next
 * call. Called by idle tasks, with interrupts on. */
void task_reap(void)
{
    if (__atomic_load_n(&dead_tasks, __ATOMIC_RELAXED) == NULL)
        return;
    uint64_t were_enabled = spin_lock_irqsave(&list_lock);
    struct task *free_list = NULL;
    for (struct task **link = &dead_tasks; *link;) {
        struct task *task = *link;
        if (__atomic_load_n(&task->on_cpu, __ATOMIC_ACQUIRE)) {
            link = &task->next;
            continue;
        }
        *link = task->next;
        list_remove(task);
        task->next = free_list;
        free_list = task;
    }
    spin_unlock_irqrestore(&list_lock, were_enabled);
    /* Unmapping flushes other harts' TLBs: not with the lock held. */
    while (free_list) {
        struct task *task = free_list;
        free_list = task->next;
        stack_destroy(task);
        kfree(task);
        __atomic_fetch_sub(&live_tasks, 1, __ATOMIC_RELEASE);
    }
}

void task_for_each(bool (*fn)(void *context, const struct task *task), void *context)
{
    uint64_t were_enabled = spin_lock_irqsave(&list_lock);
    for (const struct task *task = all_tasks; task; task = task->next_in_list)
        if (!fn(context, task))
            break;
    spin_unlock_irqrestore(&list_lock, were_enabled);
}

uint64_t task_live_count(void)
{
    return __atomic_load_n(&live_tasks, __ATOMIC_ACQUIRE);
}
