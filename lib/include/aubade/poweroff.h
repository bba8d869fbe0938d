/* Ending the machine, with a status QEMU turns into its exit code. */
#ifndef AUBADE_POWEROFF_H
#define AUBADE_POWEROFF_H

#include <aubade/fdt.h>
#include <aubade/mmio.h>
#include <stdbool.h>
#include <stdnoreturn.h>

/* Powers off through SBI System Reset. A failure also tries the device
 * tree's "sifive,test0" finisher first, because SBI has no way to pass an
 * exit code: that device makes QEMU exit 1. `dt` may be NULL. */
noreturn void machine_poweroff(const struct fdt *dt, mmio_mapper map, bool success);

#endif
