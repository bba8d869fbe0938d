/* Facts about the harts from the device tree's /cpus node. */
#ifndef AUBADE_CPUS_H
#define AUBADE_CPUS_H

#include <aubade/fdt.h>

/* The frequency of the `time` CSR: on /cpus, or else on the cpu nodes. */
bool cpus_timebase_hz(const struct fdt *dt, uint64_t *hz);

#endif
