/* Facts about the harts from the device tree's /cpus node. */
#ifndef AUBADE_CPUS_H
#define AUBADE_CPUS_H

#include <aubade/fdt.h>

/* The frequency of the `time` CSR: on /cpus, or else on the cpu nodes. */
bool cpus_timebase_hz(const struct fdt *dt, uint64_t *hz);
/* The /cpus child whose reg is `hart_id`, or a negative value. */
int cpus_find_hart(const struct fdt *dt, uint64_t hart_id);

/* Whether the kernel can run on the hart a /cpus child describes, and if
 * not, why: the first test it fails, in this order. */
enum cpus_hart_verdict {
    CPUS_HART_USABLE,
    CPUS_HART_NOT_CPU,    /* device_type is not "cpu" */
    CPUS_HART_DISABLED,   /* status is neither absent nor "okay" */
    CPUS_HART_NO_HART_ID, /* no reg */
    CPUS_HART_NO_ISA,     /* neither riscv,isa-base nor riscv,isa */
    CPUS_HART_NOT_RV64,   /* the base ISA is not RV64I */
    CPUS_HART_NO_MMU,     /* no mmu-type of Sv39, Sv48 or Sv57: a monitor core */
    /* A T-Head C9xx core without standard Svpbmt: device memory needs
     * T-Head's own page attributes (MAEE), which the kernel does not set. */
    CPUS_HART_VENDOR_PAGE_ATTRIBUTES,
    CPUS_HART_VERDICT_COUNT,
};

enum cpus_hart_verdict cpus_hart_usable(const struct fdt *dt, int cpu);
/* The verdict as one word of the boot log: "usable", "no-mmu", ... */
const char *cpus_hart_verdict_name(enum cpus_hart_verdict verdict);

/* The cpu node lists the multi-letter extension (lowercase, "sstc") in its
 * riscv,isa-extensions, or else in its riscv,isa string. */
bool cpus_hart_has_extension(const struct fdt *dt, int cpu, const char *extension);
/* Every usable hart (cpus_hart_usable) has the extension; false if there is
 * no such hart. */
bool cpus_all_have_extension(const struct fdt *dt, const char *extension);

#endif
