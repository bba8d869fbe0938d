/*
 * A kernel execution context: what a context switch keeps of a task that is
 * not running. Only the callee-saved registers, sp and ra: context_switch is
 * an ordinary call, so the caller-saved ones are the compiler's to save. tp
 * is not switched: it is the hart's, and a task that moves takes the new
 * hart's.
 */
#ifndef KERNEL_SCHED_CONTEXT_H
#define KERNEL_SCHED_CONTEXT_H

#include <stdint.h>

struct context {
    uint64_t ra;
    uint64_t sp;
    uint64_t s[12]; /* s0 (the frame pointer) to s11 */
};

/* Saves the running context in *from and resumes *to; returns when
 * something switches back to *from. */
void context_switch(struct context *from, const struct context *to);

/* A context that, switched to, calls entry(argument) on the stack ending at
 * stack_top (16-byte aligned). entry must not return. */
void context_prepare(struct context *context, uintptr_t stack_top,
                     void (*entry)(void *argument), void *argument);

#endif
