/*
 * Trap: every exception and interrupt enters through trap_entry (entry.S)
 * and is dispatched by trap_handle() (trap.c), by scause.
 *
 * This header is the trap frame's layout (shared with entry.S), the handlers
 * the dispatch calls and who defines each, the per-hart tick (timer.c) and
 * the lockup watch it drives (lockup.c).
 */
#ifndef KERNEL_TRAP_H
#define KERNEL_TRAP_H

/* x0..x31 at 8 * i, then the trap's CSRs. */
#define TRAP_FRAME_SEPC (32 * 8)
#define TRAP_FRAME_SCAUSE (33 * 8)
#define TRAP_FRAME_STVAL (34 * 8)
#define TRAP_FRAME_SSTATUS (35 * 8)
/* A multiple of 16, so that the stack stays aligned below the frame. */
#define TRAP_FRAME_SIZE (36 * 8)

/* sstatus.SPP: the trap came from S-mode (not U-mode). */
#define SSTATUS_SPP_BIT 0x100

/* struct user_entry: where a trap from U-mode finds the kernel. */
#define USER_ENTRY_KERNEL_SP 0
#define USER_ENTRY_KERNEL_TP 8
#define USER_ENTRY_USER_SP 16
#define USER_ENTRY_USER_TP 24

/* Each hart's emergency stack, in its TLS block: traps taken on a stack that
 * has run into its guard page are handled there. */
#define TRAP_STACK_SIZE 4096

#ifndef __ASSEMBLER__
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdnoreturn.h>

struct trap_frame {
    uint64_t x[32]; /* x[0] holds zero, so that x[i] is register xi */
    uint64_t sepc;
    uint64_t scause;
    uint64_t stval;
    uint64_t sstatus;
};

_Static_assert(offsetof(struct trap_frame, sepc) == TRAP_FRAME_SEPC, "sepc offset");
_Static_assert(offsetof(struct trap_frame, scause) == TRAP_FRAME_SCAUSE, "scause offset");
_Static_assert(offsetof(struct trap_frame, stval) == TRAP_FRAME_STVAL, "stval offset");
_Static_assert(offsetof(struct trap_frame, sstatus) == TRAP_FRAME_SSTATUS, "sstatus offset");
_Static_assert(sizeof(struct trap_frame) == TRAP_FRAME_SIZE, "trap frame size");
_Static_assert(TRAP_FRAME_SIZE % 16 == 0, "the frame keeps sp 16-byte aligned");

/* sscratch points here while a task runs in U-mode, and is 0 otherwise. */
struct user_entry {
    uint64_t kernel_sp; /* the top of the task's kernel stack */
    uint64_t kernel_tp; /* the TLS block of the hart the task runs on */
    uint64_t user_sp;   /* scratch: the user's sp and tp, kept by trap_entry */
    uint64_t user_tp;   /* until they are in the trap frame */
};

_Static_assert(offsetof(struct user_entry, kernel_sp) == USER_ENTRY_KERNEL_SP, "kernel_sp");
_Static_assert(offsetof(struct user_entry, kernel_tp) == USER_ENTRY_KERNEL_TP, "kernel_tp");
_Static_assert(offsetof(struct user_entry, user_sp) == USER_ENTRY_USER_SP, "user_sp");
_Static_assert(offsetof(struct user_entry, user_tp) == USER_ENTRY_USER_TP, "user_tp");

/* The emergency stack itself (percpu.c). */
extern _Thread_local uint8_t trap_stack[TRAP_STACK_SIZE];
/* The lowest sp a trap may push its frame below: the running stack's start
 * plus a frame. The scheduler moves it with every switch. */
extern _Thread_local uint64_t trap_stack_floor;

/* Called by trap_entry with the frame it saved. It returns when the trap is
 * handled (an interrupt); trap_entry then resumes the interrupted code from
 * the frame, including any register trap_handle changed in it. */
void trap_handle(struct trap_frame *frame);
/* A trap from U-mode that is not an interrupt (syscall.c): a system call,
 * or an exception that ends the process. */
void user_trap(struct trap_frame *frame);
/* Resumes U-mode from `frame` (entry.S): the way back from a trap, and the
 * way into a new process. */
noreturn void user_enter(struct trap_frame *frame);
/* The name of an exception cause, as the boot log gives it (trap.c). */
const char *trap_exception_name(uint64_t cause);

/* The interrupts trap_handle() dispatches, by scause, and who handles each:
 * declared here, defined by the part of the kernel the interrupt is for.
 * Each runs in trap context with interrupts off, on the hart that took the
 * interrupt, must make its source stop asserting (or the hart traps again as
 * soon as it returns) and return. The tick is told where it interrupted the
 * hart (the lockup watch reports it). */
void timer_interrupt(uintptr_t interrupted_pc); /* scause 5, supervisor timer: timer.c */
void external_interrupt(void); /* scause 9, supervisor external: irq.c */
void software_interrupt(void); /* scause 1, supervisor software (IPI): smp.c */

/* Whether this hart is in one of them (trap.c). */
bool in_interrupt_handler(void);

/* The per-hart tick (timer.c). Late, per CPU: the first deadline set and the timer interrupt on. */
void timer_start_hart(void);

/* Ticks this hart has taken since its timer started. */
uint64_t timer_ticks(void);
/* The time CSR's value when this hart's timer started: its k-th tick comes
 * at started + k periods, or later (never earlier). */
uint64_t timer_started(void);
/* Ticks a second, the same on every hart. */
uint32_t timer_tick_hz(void);
/* Whether this hart sets its deadlines in stimecmp (Sstc) rather than by SBI. */
bool timer_uses_sstc(void);
/* The same as a word for the log: "sstc" or "sbi". */
const char *timer_kind(void);
/* The time-CSR value of this hart's next tick, as last programmed. */
uint64_t timer_deadline(void);
/* Whether this hart lets S-mode write stimecmp: tried, under a trap handler
 * of its own, since a hart whose ISA names Sstc may still refuse it. */
bool timer_stimecmp_works(void);

/* The lockup watch (lockup.c), from each tick: this hart shows it ticks,
 * and reports the hart it watches if that one has stopped ticking. */
void lockup_tick(uintptr_t interrupted_pc);
/* The most ticks a watcher has taken while the hart it watches took none,
 * and how many make a lockup: for the ktests, which report how close a
 * boot came. */
uint64_t lockup_longest_silence(void);
uint32_t lockup_threshold_ticks(void);

/* Late (trap.c): this hart takes interrupts; `kernel: late`. */
void interrupts_start(void);

#endif /* __ASSEMBLER__ */

#endif
