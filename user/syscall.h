/*
 * The system calls as C functions, one per call of <aubade/syscall.h>, which
 * says what each does. Results are the kernel's: >= 0, or a negated SYS_E*
 * error code.
 */
#ifndef USER_SYSCALL_H
#define USER_SYSCALL_H

#include <aubade/syscall.h>
#include <stddef.h>
#include <stdint.h>
#include <stdnoreturn.h>

long sys_write(const char *buffer, size_t size);
long sys_read(char *buffer, size_t size);
long sys_yield(void);
long sys_sleep(uint64_t microseconds);
long sys_getpid(void);
noreturn void sys_exit(int code);
long sys_uptime(void);
long sys_spawn(const char *argument);
long sys_wait(long pid);
long sys_harts(struct sys_hart *harts, size_t count);
long sys_tasks(struct sys_task *tasks, size_t count);
long sys_mem(struct sys_mem *mem);
long sys_initlist(struct sys_init_call *calls, size_t count);
long sys_cmdline(char *buffer, size_t size);
noreturn void sys_poweroff(void);

#endif
