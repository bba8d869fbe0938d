/*
 * The interrupt controllers the kernel has drivers for, by `compatible`.
 *
 * The lists live here, not in the drivers, so that the kernel's driver table
 * (DRIVER_LIST in kernel/dev/dev.h) and the host's tools/boardcheck read the
 * very same lists: a board is called supported only for a controller the
 * kernel drives.
 */
#ifndef AUBADE_IRQCHIP_H
#define AUBADE_IRQCHIP_H

#include <aubade/fdt.h>

/* NULL-terminated. The PLIC's list holds T-Head's variant, whose registers
 * are the same (kernel/dev/plic.c says what else differs). */
extern const char *const irqchip_plic_compatible[];
extern const char *const irqchip_aplic_compatible[];
extern const char *const irqchip_imsic_compatible[];

/* The compatible of `node` that one of the kernel's interrupt-controller drivers takes, or NULL */
const char *irqchip_driver(const struct fdt *dt, int node);

#endif
