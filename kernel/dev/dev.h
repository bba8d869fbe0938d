/*
 * Devices: the device tree's nodes bound to the drivers that run them, the
 * interrupts they raise whatever the controller, and the console (the boot
 * log it prints, what is typed on it).
 */
#ifndef KERNEL_DEV_H
#define KERNEL_DEV_H

#include <aubade/console.h>
#include <aubade/fdt.h>
#include <aubade/uart.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Drivers, and the device-tree nodes they drive.
 *
 * A driver declares itself where it is written:
 *
 *     DRIVER(console, console_probe, "ns16550a", "ns16550", "sifive,uart0");
 *
 * which defines `console_driver`, named "console", in the .drivers
 * section; the linker script gathers them between __drivers_start and
 * __drivers_end, so the table needs no central list. In Main, devices_enumerate() walks every enabled
 * node of the device tree and probes the driver its `compatible` names.
 */

enum probe_result {
    PROBE_BOUND,   /* the driver runs the device */
    PROBE_IGNORED, /* not a device it wants: a UART that is not the console */
    PROBE_DEFER,   /* needs a device not probed yet (its interrupt controller): ask again */
};

struct driver {
    const char *name;
    const char *const *compatible; /* NULL-terminated */
    enum probe_result (*probe)(const struct fdt *dt, int node);
};

#define DRIVER(name, probe_function, ...)                                                     \
    static const char *const name##_compatible[] = {__VA_ARGS__, NULL};                       \
    DRIVER_LIST(name, probe_function, name##_compatible)

/* A driver whose compatible list is defined elsewhere: the interrupt
 * controllers' lists are lib/'s (<aubade/irqchip.h>), which the host's
 * tools/boardcheck reads too. */
#define DRIVER_LIST(name, probe_function, compatible_list)                                    \
    const struct driver name##_driver __attribute__((used, section(".drivers"), aligned(8))) = { \
        #name, compatible_list, probe_function}

extern const struct driver __drivers_start[], __drivers_end[];

/* The driver for a node: the first entry of its `compatible` that some
 * driver lists (a node lists its most specific compatible first), or NULL. */
const struct driver *driver_for_node(const struct fdt *dt, int node);

/* Probes every enabled node that has a driver; in Main, on the boot hart.
 * Panics if a node's probe keeps deferring: what it waits for never came. */
void devices_enumerate(void);

/*
 * Device interrupts, whatever the controller (irq.c).
 *
 * A device driver asks for one of its node's interrupts (the index-th entry
 * of `interrupts` or `interrupts-extended`) to be delivered to a hart and
 * handled by a function of its own. The controller that interrupt goes to
 * is found through the device tree (fdt_irq_at) and does the routing: a
 * PLIC context (plic.c), an APLIC interrupt delivery control (aplic.c), or
 * an MSI into a hart's IMSIC interrupt file (aplic.c in MSI mode, imsic.c).
 *
 * Controller drivers register an irq_chip when they probe; the hart's
 * supervisor external interrupt asks every chip for what it holds pending
 * for that hart.
 */

typedef void (*irq_handler)(void *context);

struct irq_action {
    irq_handler handler;
    void *context;
};

struct irq_chip {
    const char *name; /* the driver's ("plic"), for reports */
    int node;
    /* Routes the interrupt `irq` names (its parent is this chip) to `hart`,
     * where `action` runs from then on; false if the hart has no S-mode
     * context on this chip. Panics on a specifier it cannot take. NULL for
     * a chip that takes no wired interrupts (an IMSIC: MSIs only). */
    bool (*route)(struct irq_chip *chip, const struct fdt_irq *irq, uint64_t hart,
                  struct irq_action action);
    /* Late, on each hart: opens its context to interrupts (or NULL). */
    void (*start_hart)(struct irq_chip *chip);
    /* In this hart's external interrupt: claims, handles and completes what
     * the chip holds pending for it (or NULL: a chip that sends MSIs). */
    void (*take)(struct irq_chip *chip);
};

/* A controller driver's probe: the chip now takes interrupts for its node. */
void irq_chip_add(struct irq_chip *chip);
/* The chip of an interrupt-controller node, or NULL if none was added (yet). */
struct irq_chip *irq_chip_of(int node);

enum irq_result {
    IRQ_REGISTERED,
    IRQ_NO_CONTROLLER, /* the controller's driver has not probed (yet): the caller defers */
};

/* For irq_register: the boot hart if the controller reaches it, else the
 * first online hart (in BootInfo's order) that it does. A PLIC of one NUMA
 * socket reaches only that socket's harts, and the boot hart may be on the
 * other. */
#define IRQ_ANY_HART UINT64_MAX

/* From now on, interrupt `index` of `node` goes to `hart` (or IRQ_ANY_HART),
 * where handler(context) runs in trap context with interrupts off. In
 * Main, on the boot hart; traced as `irq: route`. Panics (`irq-*`) on an
 * interrupt the tree does not describe, a controller the kernel has no
 * driver for, a source the controller does not have or has given already,
 * or a hart it cannot reach. */
enum irq_result irq_register(const struct fdt *dt, int node, uint32_t index, uint64_t hart,
                             irq_handler handler, void *context);

/* Runs the action a controller found for `line`; panics (`unexpected-irq`)
 * on a line no driver registered. */
void irq_dispatch(const struct irq_chip *chip, const struct irq_action *action, uint32_t line);

/* A controller's outputs are its `interrupts-extended` entries, <cpu-intc
 * cause> each; the kernel uses those with cause 9, the supervisor external
 * interrupt of a hart it runs on. */
enum irq_output {
    IRQ_OUTPUT_SUPERVISOR, /* *hart is a hart the kernel runs on */
    IRQ_OUTPUT_OTHER,      /* machine mode's (firmware's), or a hart the kernel leaves alone */
    IRQ_OUTPUT_END,        /* no more outputs */
    IRQ_OUTPUT_DEFER,      /* its riscv,cpu-intc has not probed yet */
};
/* The controller's outputs one after another: the one at *cursor (start at
 * 0, fdt_irq_next's), output `index` of the node (for a panic's message). */
enum irq_output irq_output_next(const struct fdt *dt, int node, uint32_t *cursor, uint32_t index,
                                uint64_t *hart);


/* Late, per CPU: this hart takes the interrupts routed to it. */
void irq_start_hart(void);

/* The harts' local interrupt controllers (cpu_intc.c): the hart whose
 * riscv,cpu-intc node has this phandle; false if no such node has been
 * probed (yet). */
bool cpu_intc_hart(uint32_t phandle, uint64_t *hart_id);

/* What is typed on the console (console_rx.c): up to `size` bytes received
 * since the last call, oldest first; 0 if none came. Never waits. */
size_t console_read(char *buffer, size_t size);
/* Blocks the calling task until something has been typed. */
void console_wait_for_input(void);

/* The console's transmit ring (console_tx.c). console_rx.c's probe hands
 * it the UART it mapped, before the interrupt is on; its handler calls
 * console_tx_interrupt() whatever the UART asked for. */
void console_tx_prepare(const struct uart_registers *uart, bool sifive);
void console_tx_interrupt(void);
/* Once every hart takes interrupts: the log's lines go through the ring. */
void console_tx_start(void);

/* The boot log on the device tree's console (log_start.c): Early. */
void log_start(void);
void log_level_from_cmdline(void);
/* Whether no UART driver took the tree's stdout-path, so that the log goes
 * through SBI's console (spike: HTIF underneath). */
bool log_on_firmware_console(void);
/* From now on the log's console hands its bytes to `queue`. */
void log_queue_output(const struct console_queue *queue);

#endif
