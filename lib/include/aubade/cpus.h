/* Facts about the harts from the device tree's /cpus node. */
#ifndef AUBADE_CPUS_H
#define AUBADE_CPUS_H

#include <aubade/fdt.h>

/* The frequency of the `time` CSR: on /cpus, or else on the cpu nodes. */
bool cpus_timebase_hz(const struct fdt *dt, uint64_t *hz);
/* The /cpus child whose reg is `hart_id`, or a negative value. */
int cpus_find_hart(const struct fdt *dt, uint64_t hart_id);

/* Every enabled hart with an MMU lists the multi-letter extension (lowercase,
 * "svpbmt") in its riscv,isa; false if there is no such hart. */
bool cpus_all_have_extension(const struct fdt *dt, const char *extension);

#endif
