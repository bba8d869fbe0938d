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
#define csr_write(csr, value) asm volatile("csrw " #csr ", %0" ::"r"((uint64_t)(value)) : "memory")
#define csr_set(csr, bits) asm volatile("csrs " #csr ", %0" ::"r"((uint64_t)(bits)) : "memory")
#define csr_clear(csr, bits) asm volatile("csrc " #csr ", %0" ::"r"((uint64_t)(bits)) : "memory")

#define SSTATUS_SIE (1ul << 1) /* supervisor interrupts enabled */
#define SIE_SSIE (1ul << 1) /* supervisor software interrupt: SBI IPIs */
#define SIE_STIE (1ul << 5) /* supervisor timer interrupt */
#define SIE_SEIE (1ul << 9) /* supervisor external interrupt: PLIC, APLIC or IMSIC */

#define SSTATUS_SIE (1ul << 1)  /* interrupts enabled in S-mode */
#define SSTATUS_SPIE (1ul << 5) /* SIE before the trap */
#define SSTATUS_SPP (1ul << 8)  /* the trap came from S-mode */
#define SSTATUS_FS (3ul << 13)  /* floating-point state: Off, Initial, Clean, Dirty */
#define SSTATUS_FS_INITIAL (1ul << 13)
#define SSTATUS_SUM (1ul << 18) /* S-mode may touch user pages */

#define SCOUNTEREN_CY (1ul << 0) /* user mode may read cycle, time, instret */
#define SCOUNTEREN_TM (1ul << 1)
#define SCOUNTEREN_IR (1ul << 2)

/* Interrupts on or off on this hart; off returns whether they were on. */
static inline uint64_t interrupts_disable(void)
{
    uint64_t status;
    asm volatile("csrrc %0, sstatus, %1" : "=r"(status) : "r"(SSTATUS_SIE) : "memory");
    return status & SSTATUS_SIE;
}

static inline void interrupts_restore(uint64_t were_enabled)
{
    if (were_enabled)
        csr_set(sstatus, SSTATUS_SIE);
}

#endif
