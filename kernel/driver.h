/*
 * Drivers, and the device-tree nodes they drive.
 *
 * A driver declares itself where it is written:
 *
 *     DRIVER(console, console_probe, "ns16550a", "ns16550", "sifive,uart0");
 *
 * which defines `console_driver`, named "console", in the .drivers section; the linker script
 * gathers them between __drivers_start and __drivers_end, so the table
 * needs no central list. In Main, devices_enumerate() walks every enabled
 * node of the device tree and probes the driver its `compatible` names.
 */
#ifndef DRIVER_H
#define DRIVER_H

#include <aubade/fdt.h>

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

#endif
