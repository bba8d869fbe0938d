/*
 * Processes: a program in U-mode, in an address space of its own, run by one
 * task (process.c). The lower half is the program's; the upper half is the
 * kernel's, shared by copying the kernel's root entries, and the kernel's
 * pages are not U: user mode cannot reach them.
 */
#ifndef KERNEL_PROC_H
#define KERNEL_PROC_H

#include <aubade/elf.h>
#include <aubade/sv39.h>
#include <aubade/syscall.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdnoreturn.h>

#include "sched/sched.h"

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

/* A page fault in the kernel's half while a process's tables are loaded:
 * the kernel has mapped a new root entry since the process copied them.
 * Copies them again and returns true if that was it. */
bool process_sync_kernel_half(uintptr_t address);
/* Just before a return to U-mode, interrupts off: sscratch points at the
 * task's struct user_entry, for the next trap from U-mode. */
void process_arm_user_entry(void);

/*
 * Copying between the kernel and the calling process's memory (usercopy.c).
 * Every range is checked against the process's page tables first: it must
 * lie in the lower half and every page of it be mapped U, readable, and for
 * a copy to the process, writable. A bad range copies nothing.
 */
/* Whether a copy_to_user of this range would be allowed. */
bool user_can_write(uint64_t start, size_t size);
/* Each returns true if the whole range was copied. */
bool copy_from_user(void *to, uint64_t from, size_t size);
bool copy_to_user(uint64_t to, const void *from, size_t size);
/* A NUL-terminated string of at most size - 1 bytes; false if it is longer
 * or not wholly readable. */
bool copy_string_from_user(char *to, uint64_t from, size_t size);

/*
 * The first user program's ELF, as the kernel keeps it: copied out of the
 * loader's image (which the kernel reclaims) into frames of its own, and
 * checked with lib/elf's rules for a user program. What builds a process's
 * address space reads its segments here: each PT_LOAD's vaddr, memsz, its
 * filesz bytes at `file + offset`, and its PF_R/W/X flags, page-aligned and
 * never writable and executable.
 */
/* Init call (user_image.init): the copy, checked; `kernel: program`. */
void user_image_init(void);

/* The checked ELF: its bytes, entry and PT_LOAD segments. Valid from the
 * init call on, and never freed or changed. */
const struct elf_image *user_image(void);

#endif
