/*
 * Stand-ins for the timer and PLIC drivers: replaced when the drivers land.
 *
 * Nothing enables these interrupts yet, so taking one is a bug to report,
 * not something to handle.
 */
#include "interrupts.h"
#include "kernel.h"

void timer_interrupt(void)
{
    kernel_panic("unexpected-interrupt", "supervisor timer interrupt, but no timer driver");
}

void external_interrupt(void)
{
    kernel_panic("unexpected-interrupt", "supervisor external interrupt, but no PLIC driver");
}
