/*
 * PID 1: a small shell on the console. With an empty argument it reads
 * commands until `exit` or `poweroff`; with an argument it is a child that
 * the shell spawned, and runs the child command the argument names (`fault
 * KIND`) instead.
 *
 * The output formats below are read by the tests
 * (tests/tools/test_shell_host.py runs this file on the host): change them
 * together.
 */
#include <aubade/fmt.h>
#include <aubade/string.h>
#include <aubade/syscall.h>
#include <stdbool.h>
#include <stdint.h>

#include "fault.h"
#include "line.h"
#include "print.h"
#include "syscall.h"

#define PROMPT "aubade> "
/* Room for what the kernel reports: more harts, tasks or init calls than
 * these are counted but not listed. */
#define MAX_HARTS 128 /* the kernel's BOOTINFO_MAX_HARTS */
#define MAX_TASKS 128
#define MAX_INIT_CALLS 64
#define CMDLINE_SIZE 512

/* False, after saying so, if a system call failed. */
static bool succeeded(const char *what, long result)
{
    if (result >= 0)
        return true;
    print("%s: error %ld\n", what, result);
    return false;
}

static size_t min_count(long count, size_t room)
{
    return (size_t)count < room ? (size_t)count : room;
}

/* A fixed-size name field of the kernel's, NUL-terminated or full. */
static const char *name_of(const char *field, size_t size, char *out)
{
    size_t len = strnlen(field, size);
    memcpy(out, field, len);
    out[len] = '\0';
    return out;
}

/* Decimal digits and nothing else; a number past 64 bits is UINT64_MAX,
 * which every command either takes as "as much as there is" or refuses. */
static bool parse_decimal(const char *text, uint64_t *value)
{
    *value = 0;
    if (*text == '\0')
        return false;
    for (; *text; text++) {
        if (*text < '0' || *text > '9')
            return false;
        if (__builtin_mul_overflow(*value, 10, value) ||
            __builtin_add_overflow(*value, (uint64_t)(*text - '0'), value))
            *value = UINT64_MAX;
    }
    return true;
}

static void command_help(const char *arguments);

static void command_harts(const char *arguments)
{
    (void)arguments;
    static struct sys_hart harts[MAX_HARTS];
    long count = sys_harts(harts, MAX_HARTS);
    if (!succeeded("harts", count))
        return;
    size_t shown = min_count(count, MAX_HARTS);
    static uint64_t ids[MAX_HARTS];
    for (size_t i = 0; i < shown; i++)
        ids[i] = harts[i].hart_id;
    static char list[MAX_HARTS * 21];
    fmt_id_list(list, sizeof(list), ids, (uint32_t)shown);
    print("harts count=%ld ids=%s\n", count, list);
    for (size_t i = 0; i < shown; i++) {
        const struct sys_hart *hart = &harts[i];
        char name[SYS_NAME_SIZE + 1];
        uint64_t idle = hart->ticks ? hart->idle_ticks * 100 / hart->ticks : 0;
        print("hart %lu: ticks=%lu switches=%lu idle=%lu%% runnable=%u running=%s%s\n",
              hart->hart_id, hart->ticks, hart->switches, idle, hart->runnable,
              name_of(hart->current, SYS_NAME_SIZE, name), hart->boot ? " boot" : "");
    }
}

static const char *state_name(uint32_t state)
{
    static const char *const names[] = {
        [SYS_TASK_RUNNING] = "running",   [SYS_TASK_RUNNABLE] = "runnable",
        [SYS_TASK_SLEEPING] = "sleeping", [SYS_TASK_BLOCKED] = "blocked",
        [SYS_TASK_DEAD] = "dead",
    };
    return state < sizeof(names) / sizeof(names[0]) ? names[state] : "unknown";
}

static void command_tasks(const char *arguments)
{
    (void)arguments;
    static struct sys_task tasks[MAX_TASKS];
    long count = sys_tasks(tasks, MAX_TASKS);
    if (!succeeded("tasks", count))
        return;
    print("  ID  PID HART STATE     SWITCHES NAME\n");
    size_t shown = min_count(count, MAX_TASKS);
    for (size_t i = 0; i < shown; i++) {
        const struct sys_task *task = &tasks[i];
        char name[SYS_NAME_SIZE + 1];
        print("%4lu %4lu %4lu %-9s %8lu %s\n", task->id, task->pid, task->hart_id,
              state_name(task->state), task->switches, name_of(task->name, SYS_NAME_SIZE, name));
    }
    print("tasks count=%ld\n", count);
}

static void command_mem(const char *arguments)
{
    (void)arguments;
    struct sys_mem mem;
    if (!succeeded("mem", sys_mem(&mem)))
        return;
    print("mem total=0x%lx free=0x%lx allocated=0x%lx kernel=0x%lx\n", mem.total, mem.free,
          mem.allocated, mem.kernel);
    print("    total %lu KiB, free %lu KiB, allocated %lu KiB, kernel %lu KiB\n", mem.total / 1024,
          mem.free / 1024, mem.allocated / 1024, mem.kernel / 1024);
}

static void command_initlist(const char *arguments)
{
    (void)arguments;
    static struct sys_init_call calls[MAX_INIT_CALLS];
    long count = sys_initlist(calls, MAX_INIT_CALLS);
    if (!succeeded("initlist", count))
        return;
    size_t shown = min_count(count, MAX_INIT_CALLS);
    for (size_t i = 0; i < shown; i++) {
        char token[sizeof(calls[i].token) + 1], function[sizeof(calls[i].function) + 1];
        print("%3lu  %-16s %-28s %6lu us\n", i + 1,
              name_of(calls[i].token, sizeof(calls[i].token), token),
              name_of(calls[i].function, sizeof(calls[i].function), function), calls[i].us);
    }
    print("initlist count=%lu\n", shown);
}

static void command_uptime(const char *arguments)
{
    (void)arguments;
    long us = sys_uptime();
    if (succeeded("uptime", us))
        print("uptime %lu.%06lu s\n", (uint64_t)us / 1000000, (uint64_t)us % 1000000);
}

static void command_cmdline(const char *arguments)
{
    (void)arguments;
    static char cmdline[CMDLINE_SIZE];
    if (succeeded("cmdline", sys_cmdline(cmdline, sizeof(cmdline))))
        print("%s\n", cmdline);
}

static void command_echo(const char *arguments)
{
    print("%s\n", arguments);
}

static void command_sleep(const char *arguments)
{
    uint64_t ms, us;
    if (!parse_decimal(arguments, &ms)) {
        print("usage: sleep MS\n");
        return;
    }
    /* As the kernel does with a sleep past its clock's range: more
     * microseconds than 64 bits hold is forever, not a wrapped short sleep. */
    if (__builtin_mul_overflow(ms, 1000, &us))
        us = UINT64_MAX;
    if (succeeded("sleep", sys_sleep(us)))
        print("slept %lu ms\n", ms);
}

static void command_pid(const char *arguments)
{
    (void)arguments;
    print("pid %ld\n", sys_getpid());
}

static void command_fault(const char *arguments)
{
    if (!fault_known(arguments)) {
        print("usage: fault %s\n", fault_kinds());
        return;
    }
    char child[LINE_MAX + 1];
    fmt_snprintf(child, sizeof(child), "fault %s", arguments);
    long pid = sys_spawn(child);
    if (!succeeded("spawn", pid))
        return;
    print("spawned pid=%ld\n", pid);
    long status = sys_wait(pid);
    if (!succeeded("wait", status))
        return;
    if (status & SYS_WAIT_KILLED)
        print("pid %ld: killed cause=%ld\n", pid, status & 0xff);
    else
        print("pid %ld: exit %ld\n", pid, status);
}

static void command_poweroff(const char *arguments)
{
    (void)arguments;
    sys_poweroff();
}

static void command_exit(const char *arguments)
{
    uint64_t code = 0;
    if (*arguments && (!parse_decimal(arguments, &code) || code > 255)) {
        print("usage: exit [CODE], CODE from 0 to 255\n");
        return;
    }
    sys_exit((int)code);
}

static const struct command {
    const char *name;
    void (*run)(const char *arguments);
    const char *description;
} commands[] = {
    {"help", command_help, "list the commands"},
    {"harts", command_harts, "each hart: ticks, switches, idle time, what it runs"},
    {"tasks", command_tasks, "every task: id, process, hart, state, switches, name"},
    {"mem", command_mem, "physical memory: total, free, allocated, the kernel's"},
    {"initlist", command_initlist, "the boot hart's init calls, in order, with their times"},
    {"uptime", command_uptime, "time since the machine started"},
    {"cmdline", command_cmdline, "the kernel command line"},
    {"echo", command_echo, "echo WORDS: print the words as typed"},
    {"sleep", command_sleep, "sleep MS: sleep that many milliseconds"},
    {"pid", command_pid, "this process's id"},
    {"fault", command_fault, "fault null|illegal|kaddr|stack: a child that faults, and its end"},
    {"poweroff", command_poweroff, "power the machine off"},
    {"exit", command_exit, "exit [CODE]: end this shell (PID 1: the kernel shuts down)"},
};

#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

static void command_help(const char *arguments)
{
    (void)arguments;
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        print("  %-9s %s\n", commands[i].name, commands[i].description);
}

/* Splits `line` in place into its first word and the rest, trimmed. */
static const char *split(char *line, const char **rest)
{
    char *end = line + strlen(line);
    while (end > line && end[-1] == ' ')
        *--end = '\0';
    while (*line == ' ')
        line++;
    char *at = line;
    while (*at && *at != ' ')
        at++;
    if (*at)
        *at++ = '\0';
    while (*at == ' ')
        at++;
    *rest = at;
    return line;
}

static void run(char *line)
{
    const char *arguments;
    const char *name = split(line, &arguments);
    if (*name == '\0')
        return;
    for (size_t i = 0; i < COMMAND_COUNT; i++) {
        if (strcmp(commands[i].name, name) == 0) {
            commands[i].run(arguments);
            return;
        }
    }
    print("unknown command: %s (try help)\n", name);
}

/* A spawned child: its argument is the command that it is to run. */
static int run_child(char *argument)
{
    const char *kind;
    const char *name = split(argument, &kind);
    if (strcmp(name, "fault") == 0)
        return fault_run(kind);
    print("pid %ld: unknown child command: %s\n", sys_getpid(), name);
    return 127;
}

int main(const char *argument)
{
    static char line[LINE_MAX + 1];
    if (*argument) {
        /* Copied, to be split in place. */
        size_t len = strnlen(argument, LINE_MAX);
        memcpy(line, argument, len);
        line[len] = '\0';
        return run_child(line);
    }
    print("shell: pid=%ld\n", sys_getpid());
    for (;;) {
        print(PROMPT);
        long len = line_read(line);
        if (len < 0) {
            print("shell: read: error %ld\n", len);
            return 1;
        }
        run(line);
    }
}
