/* The harts' local interrupt controllers (cpu_intc.c). */
#ifndef CPU_INTC_H
#define CPU_INTC_H

#include <stdbool.h>
#include <stdint.h>

/* The hart whose riscv,cpu-intc node has this phandle; false if no such
 * node has been probed (yet). */
bool cpu_intc_hart(uint32_t phandle, uint64_t *hart_id);

#endif
