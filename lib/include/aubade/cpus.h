/* Facts about the harts from the device tree's /cpus node. */
#ifndef AUBADE_CPUS_H
#define AUBADE_CPUS_H

#include <aubade/fdt.h>

/* The frequency of the `time` CSR: on /cpus, or else on the cpu nodes. */
bool cpus_timebase_hz(const struct fdt *dt, uint64_t *hz);
/* The /cpus child whose reg is `hart_id`, or a negative value. */
int cpus_find_hart(const struct fdt *dt, uint64_t hart_id);

/* The cpu node lists the multi-letter extension (lowercase, "sstc") in its
 * riscv,isa-extensions, or else in its riscv,isa string. */
bool cpus_hart_has_extension(const struct fdt *dt, int cpu, const char *extension);
/* Every enabled hart with an MMU has the extension; false if there is no
 * such hart. */
bool cpus_all_have_extension(const struct fdt *dt, const char *extension);

#endif
