/*
 * The init task. The boot hart's idle task creates it as its last init call
 * and switches to it from the idle loop. It finishes what startup left to a
 * task (the in-kernel tests need to sleep and block, which an idle task must
 * not), then turns into PID 1: the first user process.
 */
#include <aubade/log.h>

#include "debug/debug.h"
#include "init.h"
#include "ktest/ktest.h"
#include "proc/proc.h"
#include "sched/sched.h"

static void kernel_init(void *argument)
{
    (void)argument;
    /* The init task is PID 1 from its first instruction, as it will be in
     * U-mode. */
    log_event("kernel", "init", "pid=%u", INIT_PID);
    /* The tests look at harts by identity: this task stays on the boot
     * hart until it leaves the kernel. */
    ktest_run_if_asked();
    poweroff_if_asked();
    process_become_init();
}

void init_task_start(void)
{
    struct task *task = task_create("init", kernel_init, NULL);
    if (task == NULL)
        kernel_panic("no-memory", "no memory for the init task");
    task->pinned = true;
    task_start(task);
}
