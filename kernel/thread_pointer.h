/*
 * Included before anything else in every kernel file (kernel/SConscript
 * passes it with -include): tp as a global register variable.
 *
 * tp points at the running hart's TLS block, which holds the kernel's
 * per-hart state (the _Thread_local variables). A task is not a C thread: it
 * can leave one hart in a call that schedules and come back from it on
 * another, whose tp is another block. GCC takes tp for a thread's constant
 * and keeps `tp + offset` of a per-hart variable in a callee-saved register
 * across calls; back on another hart, that address is still the old hart's
 * block, and the task reads and writes the other hart's state (wait_until
 * once queued another hart's running task as blocked on its wait queue).
 * As a global register variable, tp is a register any call or volatile asm
 * may change, so GCC works out per-hart addresses again after each one.
 *
 * An interrupt can still preempt a task between any two instructions and
 * move it. So per-hart state is read and changed with interrupts off, where
 * nothing can move the task (interrupts_disable() is a volatile asm: the
 * addresses are worked out after it); with interrupts on, only a single
 * read whose answer may be stale by the next instruction (the hart a log
 * line names).
 */
#ifndef THREAD_POINTER_H
#define THREAD_POINTER_H

register unsigned long hart_thread_pointer asm("tp");

#endif
