/*
 * The system call interface between the kernel and user programs: one header
 * for both sides, so that the numbers and the layouts cannot drift apart.
 *
 * A call is `ecall` from U-mode with its number in a7 and up to six
 * arguments in a0-a5. The result comes back in a0: a value >= 0, or a
 * negated SYS_E* error code. Every other register is preserved.
 *
 * Pointers are checked: a buffer that is not wholly in the program's own
 * mapped pages, with the access the call needs, gets -SYS_EFAULT and the
 * call does nothing. A program never faults the kernel.
 */
#ifndef AUBADE_SYSCALL_H
#define AUBADE_SYSCALL_H

#include <stdint.h>

enum syscall_number {
    SYS_WRITE = 1,     /* (const char *buffer, size_t size) -> bytes written to the console */
    SYS_READ = 2,      /* (char *buffer, size_t size) -> bytes read from the console; waits
                        * until at least one byte has come */
    SYS_YIELD = 3,     /* () -> 0: lets another task run */
    SYS_SLEEP = 4,     /* (uint64_t microseconds) -> 0; a sleep that would end past
                        * what the time CSR counts never ends (kernel/trap/timer.c) */
    SYS_GETPID = 5,    /* () -> this process's id */
    SYS_EXIT = 6,      /* (int code): does not return */
    SYS_UPTIME = 7,    /* () -> microseconds since the machine started */
    SYS_SPAWN = 8,     /* (const char *argument) -> pid of a new process running the same
                        * program as PID 1, whose main() gets `argument` */
    SYS_WAIT = 9,      /* (pid) -> its wait status (below), once it has ended */
    SYS_HARTS = 10,    /* (struct sys_hart *harts, size_t count) -> harts the kernel knows;
                        * fills up to count */
    SYS_TASKS = 11,    /* (struct sys_task *tasks, size_t count) -> tasks alive; fills up to
                        * count */
    SYS_MEM = 12,      /* (struct sys_mem *mem) -> 0 */
    SYS_INITLIST = 13, /* (struct sys_init_call *calls, size_t count) -> init calls the boot
                        * hart made, in order; fills up to count */
    SYS_CMDLINE = 14,  /* (char *buffer, size_t size) -> length of the kernel command line;
                        * copies up to size - 1 bytes and a NUL */
    SYS_POWEROFF = 15, /* (): powers the machine off, status ok; does not return */
    SYS_COUNT
};

/* Error codes, returned negated. */
enum syscall_error {
    SYS_EFAULT = 14, /* a pointer outside the program's memory */
    SYS_EINVAL = 22, /* an argument out of range */
    SYS_ENOSYS = 38, /* no such call */
    SYS_ESRCH = 3,   /* no such process (SYS_WAIT) */
    SYS_ECHILD = 10, /* not a child of the caller (SYS_WAIT) */
    SYS_ENOMEM = 12, /* the kernel is out of memory */
};

/* A wait status: the exit code (0-255), or SYS_WAIT_KILLED with the cause of
 * the exception (scause) that ended the process in the low bits. */
#define SYS_WAIT_KILLED 0x100

enum sys_task_state {
    SYS_TASK_RUNNING = 0,  /* on a hart now */
    SYS_TASK_RUNNABLE = 1, /* waiting for a hart */
    SYS_TASK_SLEEPING = 2, /* until a time */
    SYS_TASK_BLOCKED = 3,  /* until an event (input, a child's exit) */
    SYS_TASK_DEAD = 4,     /* ended, not yet reaped */
};

#define SYS_NAME_SIZE 16

struct sys_hart {
    uint64_t hart_id;
    uint64_t ticks;        /* timer interrupts taken */
    uint64_t switches;     /* context switches made */
    uint64_t idle_ticks;   /* ticks that found it idle */
    uint32_t runnable;     /* tasks in its run queue */
    uint32_t boot;         /* 1 on the boot hart */
    char current[SYS_NAME_SIZE]; /* the task it runs */
};

struct sys_task {
    uint64_t id;       /* task id: idle tasks have 0 .. harts - 1 */
    uint64_t pid;      /* its process, 0 for a kernel task */
    uint64_t hart_id;  /* the hart it runs or last ran on */
    uint64_t switches; /* times it was switched to */
    uint32_t state;    /* enum sys_task_state */
    uint32_t padding;
    char name[SYS_NAME_SIZE];
};

struct sys_mem {
    uint64_t total;     /* bytes of usable DRAM, as `kernel: frames total=` */
    uint64_t free;      /* bytes the frame allocator can hand out now */
    uint64_t allocated; /* bytes it has handed out and not had back */
    uint64_t kernel;    /* bytes of the kernel image */
};

struct sys_init_call {
    char token[SYS_NAME_SIZE * 2];
    char function[SYS_NAME_SIZE * 2];
    uint64_t us; /* how long it took on the boot hart */
};

#endif
