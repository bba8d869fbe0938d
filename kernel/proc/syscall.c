/*
 * Traps from U-mode: system calls (lib/include/aubade/syscall.h), and
 * exceptions, which end the process that took them and nothing else.
 *
 * A call runs with interrupts on, on the task's kernel stack, and may block
 * or sleep. Its arguments come from the trap frame; pointers among them go
 * through usercopy.c, which refuses what is not the process's own memory.
 */
#include <aubade/csr.h>
#include <aubade/log.h>
#include <aubade/string.h>
#include <aubade/syscall.h>

#include "boot/boot.h"
#include "debug/debug.h"
#include "dev/dev.h"
#include "init.h" /* up: the initlist call reports the init table */
#include "mm/mm.h"
#include "proc/proc.h"
#include "sched/sched.h"
#include "trap/trap.h"

#define CAUSE_ILLEGAL_INSTRUCTION 2
#define CAUSE_USER_ECALL 8
#define CAUSE_INSTRUCTION_PAGE_FAULT 12
#define CAUSE_STORE_PAGE_FAULT 15
/* Bytes a read or write moves per kernel buffer. */
#define IO_CHUNK 256
/* The most entries an information call fills in one go. */
#define INFO_MAX 64

typedef int64_t (*syscall_handler)(const uint64_t arguments[6]);

static int64_t sys_write(const uint64_t arguments[6])
{
    uint64_t buffer = arguments[0], size = arguments[1];
    char chunk[IO_CHUNK];
    uint64_t done = 0;
    while (done < size) {
        size_t part = size - done < IO_CHUNK ? size - done : IO_CHUNK;
        if (!copy_from_user(chunk, buffer + done, part))
            return done ? (int64_t)done : -SYS_EFAULT;
        log_write(chunk, part);
        done += part;
    }
    return (int64_t)done;
}

static int64_t sys_read(const uint64_t arguments[6])
{
    uint64_t buffer = arguments[0], size = arguments[1];
    char chunk[IO_CHUNK];
    if (size == 0)
        return 0;
    /* Checked before waiting: a bad buffer is an error now, not later. */
    if (!user_can_write(buffer, size < IO_CHUNK ? size : IO_CHUNK))
        return -SYS_EFAULT;
    size_t got;
    while ((got = console_read(chunk, size < IO_CHUNK ? size : IO_CHUNK)) == 0)
        console_wait_for_input();
    return copy_to_user(buffer, chunk, got) ? (int64_t)got : -SYS_EFAULT;
}

static int64_t sys_yield(const uint64_t arguments[6])
{
    (void)arguments;
    sched_yield();
    return 0;
}

static int64_t sys_sleep(const uint64_t arguments[6])
{
    sched_sleep_us(arguments[0]);
    return 0;
}

static int64_t sys_getpid(const uint64_t arguments[6])
{
    (void)arguments;
    return (int64_t)process_pid();
}

static int64_t sys_exit(const uint64_t arguments[6])
{
    process_exit((uint32_t)arguments[0] & 0xff);
}

static int64_t sys_uptime(const uint64_t arguments[6])
{
    (void)arguments;
    uint64_t now = read_time(); /* in two parts: now * 1000000 would overflow in days */
    return (int64_t)(now / timebase_hz * 1000000 + now % timebase_hz * 1000000 / timebase_hz);
}

static int64_t sys_spawn(const uint64_t arguments[6])
{
    char argument[PROCESS_ARGUMENT_MAX];
    if (!copy_string_from_user(argument, arguments[0], sizeof(argument)))
        return -SYS_EFAULT;
    return process_spawn(argument);
}

static int64_t sys_wait(const uint64_t arguments[6])
{
    return process_wait(arguments[0]);
}

/* The information calls: each fills a kernel array, then copies it out. */

static int64_t copy_entries(uint64_t to, const void *entries, size_t entry_size, size_t count,
                            uint64_t room, size_t total)
{
    size_t copied = count < room ? count : room;
    return copy_to_user(to, entries, copied * entry_size) ? (int64_t)total : -SYS_EFAULT;
}

static int64_t sys_harts(const uint64_t arguments[6])
{
    struct sys_hart *harts = kmalloc(BOOTINFO_MAX_HARTS * sizeof(*harts));
    if (harts == NULL)
        return -SYS_ENOMEM;
    size_t count = 0;
    for (uint32_t i = 0; i < boot_info->hart_count; i++)
        count += sched_hart_info(i, &harts[count]);
    int64_t result = copy_entries(arguments[0], harts, sizeof(harts[0]), count, arguments[1], count);
    kfree(harts);
    return result;
}

struct task_list {
    struct sys_task tasks[INFO_MAX];
    size_t count, total;
};

static bool add_task(void *context, const struct task *task)
{
    struct task_list *list = context;
    if (list->count < INFO_MAX) {
        struct sys_task *entry = &list->tasks[list->count++];
        *entry = (struct sys_task){
            .id = task->id,
            .pid = task->process ? task->process->pid : 0,
            .hart_id = boot_info->harts[task->hart].hart_id,
            .switches = task->switches,
            .state = __atomic_load_n(&task->state, __ATOMIC_RELAXED),
        };
        memcpy(entry->name, task->name, sizeof(entry->name));
    }
    list->total++;
    return true;
}

static int64_t sys_tasks(const uint64_t arguments[6])
{
    struct task_list *list = kzalloc(sizeof(*list));
    if (list == NULL)
        return -SYS_ENOMEM;
    task_for_each(add_task, list);
    int64_t result = copy_entries(arguments[0], list->tasks, sizeof(list->tasks[0]), list->count,
                                  arguments[1], list->total);
    kfree(list);
    return result;
}

static int64_t sys_mem(const uint64_t arguments[6])
{
    struct sys_mem mem = {
        .total = frames_total_bytes(),
        .free = frames_free_bytes(),
        .allocated = frames_allocated_bytes(),
        .kernel = boot_info->kernel_phys.end - boot_info->kernel_phys.start,
    };
    return copy_to_user(arguments[0], &mem, sizeof(mem)) ? 0 : -SYS_EFAULT;
}

static int64_t sys_initlist(const uint64_t arguments[6])
{
    struct sys_init_call call;
    uint64_t room = arguments[1];
    for (unsigned i = 0; i < init_token_count && i < room; i++) {
        memset(&call, 0, sizeof(call));
        strlcpy(call.token, init_tokens[i].token, sizeof(call.token));
        strlcpy(call.function, init_tokens[i].function, sizeof(call.function));
        call.us = init_call_us(i);
        if (!copy_to_user(arguments[0] + i * sizeof(call), &call, sizeof(call)))
            return -SYS_EFAULT;
    }
    return init_token_count;
}

static int64_t sys_cmdline(const uint64_t arguments[6])
{
    const char *cmdline = boot_info->cmdline;
    size_t length = strlen(cmdline), size = arguments[1];
    if (size == 0)
        return (int64_t)length;
    size_t copied = length < size - 1 ? length : size - 1;
    if (!copy_to_user(arguments[0], cmdline, copied) ||
        !copy_to_user(arguments[0] + copied, "", 1))
        return -SYS_EFAULT;
    return (int64_t)length;
}

static int64_t sys_poweroff(const uint64_t arguments[6])
{
    (void)arguments;
    kernel_poweroff();
}

static const syscall_handler handlers[SYS_COUNT] = {
    [SYS_WRITE] = sys_write,   [SYS_READ] = sys_read,         [SYS_YIELD] = sys_yield,
    [SYS_SLEEP] = sys_sleep,   [SYS_GETPID] = sys_getpid,     [SYS_EXIT] = sys_exit,
    [SYS_UPTIME] = sys_uptime, [SYS_SPAWN] = sys_spawn,       [SYS_WAIT] = sys_wait,
    [SYS_HARTS] = sys_harts,   [SYS_TASKS] = sys_tasks,       [SYS_MEM] = sys_mem,
    [SYS_INITLIST] = sys_initlist, [SYS_CMDLINE] = sys_cmdline, [SYS_POWEROFF] = sys_poweroff,
};

/* An exception in U-mode ends the process, with a line that says what and
 * where. */
static noreturn void user_fault(const struct trap_frame *frame)
{
    uint64_t cause = frame->scause;
    bool page_fault = cause >= CAUSE_INSTRUCTION_PAGE_FAULT && cause <= CAUSE_STORE_PAGE_FAULT;
    const char *reason = page_fault && process_in_guard(frame->stval)
                             ? "stack-overflow"
                             : trap_exception_name(cause);
    /* stval is the address for the faults that have one, else the
     * instruction's bits (or 0). */
    log_event("proc", "fault", "pid=%lu reason=%s cause=%lu %s=0x%lx pc=0x%lx hart=%lu",
              process_pid(), reason, cause, cause == CAUSE_ILLEGAL_INSTRUCTION ? "insn" : "addr",
              frame->stval, frame->sepc, current_hart);
    interrupts_restore(SSTATUS_SIE);
    process_exit(SYS_WAIT_KILLED | (uint32_t)cause);
}

void user_trap(struct trap_frame *frame)
{
    if (frame->scause != CAUSE_USER_ECALL)
        user_fault(frame);
    frame->sepc += 4; /* past the ecall */
    uint64_t number = frame->x[17];
    const uint64_t *arguments = &frame->x[10];
    interrupts_restore(SSTATUS_SIE);
    syscall_handler handler = number < SYS_COUNT ? handlers[number] : NULL;
    frame->x[10] = handler ? (uint64_t)handler(arguments) : (uint64_t)-SYS_ENOSYS;
    interrupts_disable();
}
