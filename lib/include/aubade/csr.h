/* Control and status registers, by name. */
#ifndef AUBADE_CSR_H
#define AUBADE_CSR_H

#include <stdint.h>

#define csr_read(csr)                                                                              \
    ({                                                                                             \
        uint64_t value_;                                                                           \
        asm volatile("csrr %0, " #csr : "=r"(value_));                                             \
        value_;                                                                                    \
    })
#define csr_set(csr, bits) asm volatile("csrs " #csr ", %0" ::"r"((uint64_t)(bits)) : "memory")
#define csr_clear(csr, bits) asm volatile("csrc " #csr ", %0" ::"r"((uint64_t)(bits)) : "memory")

#define SSTATUS_SIE (1ul << 1) /* supervisor interrupts enabled */
#define SIE_SSIE (1ul << 1) /* supervisor software interrupt: SBI IPIs */

#endif
