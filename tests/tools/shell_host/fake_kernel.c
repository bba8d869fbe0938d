/*
 * A stand-in kernel for running user/shell.c on the host
 * (tests/tools/test_shell_host.py): the system calls of user/syscall.h
 * answered from fixed values, with the console on stdin and stdout, and the
 * fault children (user/fault.c, RISC-V code) replaced by a record of what
 * was asked. The values are the test's expectations: change them together.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "syscall.h"

/* user/shell.c's main, renamed by the build so that this one can be the
 * host's. */
int shell_main(const char *argument);

int main(int argc, char **argv)
{
    return shell_main(argc > 1 ? argv[1] : "");
}

/* As the kernel fills a caller's table: up to `count` of the known entries,
 * and the number it knows. */
static long fill(void *table, size_t count, const void *known, size_t known_count, size_t size)
{
    memcpy(table, known, (count < known_count ? count : known_count) * size);
    return (long)known_count;
}

#define FILL(table, count, known) \
    fill(table, count, known, sizeof(known) / sizeof(known[0]), sizeof(known[0]))

long sys_write(const char *buffer, size_t size)
{
    return write(STDOUT_FILENO, buffer, size);
}

/* A console that has run dry is an error, so that the shell ends. */
long sys_read(char *buffer, size_t size)
{
    long got = read(STDIN_FILENO, buffer, size);
    return got > 0 ? got : -SYS_EINVAL;
}

long sys_yield(void)
{
    return 0;
}

long sys_sleep(uint64_t microseconds)
{
    printf("[sleep %lu us]\n", (unsigned long)microseconds);
    fflush(stdout);
    return 0;
}

long sys_getpid(void)
{
    return 1;
}

void sys_exit(int code)
{
    exit(code);
}

long sys_uptime(void)
{
    return 12345678;
}

long sys_spawn(const char *argument)
{
    printf("[spawn %s]\n", argument);
    fflush(stdout);
    return 7;
}

long sys_wait(long pid)
{
    return pid == 7 ? SYS_WAIT_KILLED | 13 : -SYS_ECHILD;
}

long sys_harts(struct sys_hart *harts, size_t count)
{
    const struct sys_hart known[] = {
        {.hart_id = 0, .ticks = 200, .switches = 7, .idle_ticks = 150, .runnable = 1,
         .boot = 1, .current = "init"},
        {.hart_id = 3, .ticks = 0, .current = "0123456789abcdef"}, /* a full name: no NUL */
    };
    return FILL(harts, count, known);
}

long sys_tasks(struct sys_task *tasks, size_t count)
{
    const struct sys_task known[] = {
        {.id = 0, .hart_id = 0, .state = SYS_TASK_RUNNING, .switches = 3, .name = "idle0"},
        {.id = 2, .pid = 1, .hart_id = 3, .state = SYS_TASK_BLOCKED, .switches = 123456,
         .name = "init"},
    };
    return FILL(tasks, count, known);
}

long sys_mem(struct sys_mem *mem)
{
    *mem = (struct sys_mem){.total = 0x8000000, .free = 0x7000000, .allocated = 0x100000,
                            .kernel = 0x20000};
    return 0;
}

long sys_initlist(struct sys_init_call *calls, size_t count)
{
    const struct sys_init_call known[] = {
        {.token = "bootinfo", .function = "boot_info_accept", .us = 12},
        {.token = "frames", .function = "frames_init", .us = 123456},
    };
    return FILL(calls, count, known);
}

long sys_cmdline(char *buffer, size_t size)
{
    return snprintf(buffer, size, "poweroff loglevel=debug");
}

void sys_poweroff(void)
{
    printf("[poweroff]\n");
    exit(0);
}

bool fault_known(const char *kind)
{
    return strcmp(kind, "null") == 0;
}

int fault_run(const char *kind)
{
    printf("[fault %s]\n", kind);
    return 0;
}

const char *fault_kinds(void)
{
    return "null";
}
