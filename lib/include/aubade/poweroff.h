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

/* Powers off: through the finisher first (if `finisher` is not 0), since
 * SBI has no way to pass an exit code and that device makes QEMU exit 0 or
 * 1; then SBI System Reset (or, on firmware without it, the legacy
 * shutdown). If each returns, the machine is still on: `COMPONENT: halt
 * reason=poweroff-failed` says what each way did (unless component is
 * NULL: a report that faulted) and the hart halts with interrupts off. */
noreturn void machine_poweroff(const char *component, uintptr_t finisher, bool success);

#endif
