/*
 * Processes: a program in U-mode, in an address space of its own, run by one
 * task (process.c). The lower half is the program's; the upper half is the
 * kernel's, shared by copying the kernel's root entries, and the kernel's
 * pages are not U: user mode cannot reach them.
 */
#ifndef PROCESS_H
#define PROCESS_H

#include <aubade/sv39.h>
#include <aubade/syscall.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdnoreturn.h>

#include "task.h"
#include "trap_frame.h"

#define PROCESS_ARGUMENT_MAX 128
/* The init task's process id, before and after it turns into a process. */
#define INIT_PID 1
/* The program's segments and its stack. */
#define PROCESS_MAX_REGIONS 10

/* Frames a process owns, mapped in its lower half. */
struct process_region {
    uint64_t phys;
    uint64_t size;
};

struct process {
    uint64_t pid;
    uint64_t parent; /* pid of the process that spawned it; 0 for PID 1 */
    struct sv39 tables;
    struct process_region regions[PROCESS_MAX_REGIONS];
    uint32_t region_count;
    struct task *task;
    bool ended;
    uint32_t status; /* the wait status, once ended */
    struct process *next;
    char argument[PROCESS_ARGUMENT_MAX];
};

/* The init task becomes PID 1 in U-mode: its address space built from the
 * user program the loader carried. `proc: start pid=1`. */
noreturn void process_become_init(void);
/* A new process running the same program with `argument`, a child of the
 * caller's: its pid, or -SYS_ENOMEM. */
int64_t process_spawn(const char *argument);
/* Waits until the caller's child `pid` has ended: its wait status, or
 * -SYS_ESRCH / -SYS_ECHILD. */
int64_t process_wait(uint64_t pid);
/* Ends the calling process with a wait status (an exit code, or
 * SYS_WAIT_KILLED | cause). PID 1's end powers the machine off. */
noreturn void process_exit(uint32_t status);
void process_release(struct process *process);

/* The calling task's process, its pid and its tables. */
uint64_t process_pid(void);
const struct sv39 *process_tables(void);
/* Whether a fault address is the guard page below the user stack. */
bool process_in_guard(uintptr_t address);

/* Before switching to `next`: its address space, or the kernel's. */
void process_switch(const struct task *next);
/* A page fault in the kernel's half while a process's tables are loaded:
 * the kernel has mapped a new root entry since the process copied them.
 * Copies them again and returns true if that was it. */
bool process_sync_kernel_half(uintptr_t address);
/* Just before a return to U-mode, interrupts off: sscratch points at the
 * task's struct user_entry, for the next trap from U-mode. */
void process_arm_user_entry(void);
/* Resumes U-mode from `frame` (entry.S). */
noreturn void user_enter(struct trap_frame *frame);

#endif
