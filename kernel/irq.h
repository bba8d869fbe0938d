/*
 * Device interrupts (plic.c): a driver asks for an interrupt source of its
 * interrupt controller, named by the controller's node, to be delivered to
 * a hart and handled by a function of its own.
 */
#ifndef IRQ_H
#define IRQ_H

#include <stdint.h>

typedef void (*irq_handler)(void *context);

enum irq_result {
    IRQ_REGISTERED,
    IRQ_NO_CONTROLLER, /* no driver runs that node (yet): the caller defers */
};

/* From now on, interrupt `source` of `controller` goes to `hart`, where
 * handler(context) runs in trap context with interrupts off. In Main, on
 * the boot hart. Panics on a source the controller does not have, one
 * already taken, or a hart it cannot reach. */
enum irq_result irq_register(int controller, uint32_t source, uint64_t hart, irq_handler handler,
                             void *context);

/* Late, per CPU: this hart takes the interrupts routed to it. */
void irq_start_hart(void);

/* The interrupt controller's node, or a negative value if none was probed. */
int irq_controller(void);

#endif
