/* Ending the machine, with a status QEMU turns into its exit code. */
#ifndef AUBADE_POWEROFF_H
#define AUBADE_POWEROFF_H

#include <aubade/fdt.h>
#include <aubade/mmio.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdnoreturn.h>

/* The registers of the device tree's first enabled "sifive,test0" finisher,
 * mapped with `map`, or 0 if there is none (or no tree: `dt` may be NULL).
 * Found before it is needed, so that powering off maps nothing. */
uintptr_t poweroff_finisher(const struct fdt *dt, mmio_mapper map);

/* Powers off through SBI System Reset. A failure goes through the finisher
 * first (if `finisher` is not 0), because SBI has no way to pass an exit
 * code: that device makes QEMU exit 1. */
noreturn void machine_poweroff(uintptr_t finisher, bool success);

#endif
