/*
 * System calls: `ecall` with the number in a7 and the arguments in a0-a2
 * (no call takes more), the result in a0. The kernel preserves every other
 * register, so only a0 and memory (the buffers it fills) are clobbered.
 */
#include "syscall.h"

static long call(enum syscall_number number, uint64_t first, uint64_t second)
{
    register uint64_t a0 asm("a0") = first;
    register uint64_t a1 asm("a1") = second;
    register uint64_t a7 asm("a7") = number;
    asm volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a7) : "memory");
    return (long)a0;
}

long sys_write(const char *buffer, size_t size)
{
    return call(SYS_WRITE, (uintptr_t)buffer, size);
}

long sys_read(char *buffer, size_t size)
{
    return call(SYS_READ, (uintptr_t)buffer, size);
}

long sys_yield(void)
{
    return call(SYS_YIELD, 0, 0);
}

long sys_sleep(uint64_t microseconds)
{
    return call(SYS_SLEEP, microseconds, 0);
}

long sys_getpid(void)
{
    return call(SYS_GETPID, 0, 0);
}

noreturn void sys_exit(int code)
{
    call(SYS_EXIT, (uint64_t)code, 0);
    /* The kernel never returns from SYS_EXIT; if it did, spinning is all a
     * process that has asked to end can do. */
    for (;;)
        ;
}

long sys_uptime(void)
{
    return call(SYS_UPTIME, 0, 0);
}

long sys_spawn(const char *argument)
{
    return call(SYS_SPAWN, (uintptr_t)argument, 0);
}

long sys_wait(long pid)
{
    return call(SYS_WAIT, (uint64_t)pid, 0);
}

long sys_harts(struct sys_hart *harts, size_t count)
{
    return call(SYS_HARTS, (uintptr_t)harts, count);
}

long sys_tasks(struct sys_task *tasks, size_t count)
{
    return call(SYS_TASKS, (uintptr_t)tasks, count);
}

long sys_mem(struct sys_mem *mem)
{
    return call(SYS_MEM, (uintptr_t)mem, 0);
}

long sys_initlist(struct sys_init_call *calls, size_t count)
{
    return call(SYS_INITLIST, (uintptr_t)calls, count);
}

long sys_cmdline(char *buffer, size_t size)
{
    return call(SYS_CMDLINE, (uintptr_t)buffer, size);
}

noreturn void sys_poweroff(void)
{
    call(SYS_POWEROFF, 0, 0);
    for (;;) /* as sys_exit */
        ;
}
