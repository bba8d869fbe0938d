/*
 * The interrupts trap_handle() (trap.c) dispatches, by scause, and who
 * handles each. The handler must make its source stop asserting (or the hart
 * traps again as soon as it returns) and return.
 */
#ifndef INTERRUPTS_H
#define INTERRUPTS_H

#include <stdbool.h>
#include <stdint.h>

/* Each runs in trap context with interrupts off, on the hart that took the
 * interrupt. The tick is told where it interrupted the hart (the lockup
 * watch reports it). */
void timer_interrupt(uintptr_t interrupted_pc); /* scause 5, supervisor timer: timer.c */
void external_interrupt(void); /* scause 9, supervisor external: irq.c */
void software_interrupt(void); /* scause 1, supervisor software (IPI): smp.c */

/* Whether this hart is in one of them (trap.c). */
bool in_interrupt_handler(void);

#endif
