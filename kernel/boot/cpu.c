/*
 * A hart's state as the kernel wants it, whatever firmware left: part of
 * Early, on every hart before anything else it runs.
 */
#include <aubade/csr.h>

#include "boot/boot.h"

/* sstatus.FS is WARL: it stays 0 on a hart without an FPU. */
static bool has_fpu(void)
{
    csr_set(sstatus, SSTATUS_FS_INITIAL);
    return (csr_read(sstatus) & SSTATUS_FS) != 0;
}

/* Every f register and fcsr zero, so that the first task to use them
 * finds the state a fresh hart would have. Then FP goes Off: the kernel is
 * built without FP instructions, and a stray one traps instead of
 * corrupting a task's registers. */
static void reset_fpu(void)
{
    if (has_fpu()) {
        asm volatile(".option push\n"
                     ".option arch, +d\n"
                     "fscsr zero\n"
                     "fmv.d.x f0, zero\n fmv.d.x f1, zero\n fmv.d.x f2, zero\n"
                     "fmv.d.x f3, zero\n fmv.d.x f4, zero\n fmv.d.x f5, zero\n"
                     "fmv.d.x f6, zero\n fmv.d.x f7, zero\n fmv.d.x f8, zero\n"
                     "fmv.d.x f9, zero\n fmv.d.x f10, zero\n fmv.d.x f11, zero\n"
                     "fmv.d.x f12, zero\n fmv.d.x f13, zero\n fmv.d.x f14, zero\n"
                     "fmv.d.x f15, zero\n fmv.d.x f16, zero\n fmv.d.x f17, zero\n"
                     "fmv.d.x f18, zero\n fmv.d.x f19, zero\n fmv.d.x f20, zero\n"
                     "fmv.d.x f21, zero\n fmv.d.x f22, zero\n fmv.d.x f23, zero\n"
                     "fmv.d.x f24, zero\n fmv.d.x f25, zero\n fmv.d.x f26, zero\n"
                     "fmv.d.x f27, zero\n fmv.d.x f28, zero\n fmv.d.x f29, zero\n"
                     "fmv.d.x f30, zero\n fmv.d.x f31, zero\n"
                     ".option pop");
    }
    csr_clear(sstatus, SSTATUS_FS);
}

void cpu_reset_state(void)
{
    /* 1. No interrupt until Late has a handler for it. */
    csr_clear(sstatus, SSTATUS_SIE | SSTATUS_SPIE | SSTATUS_SUM);
    csr_write(sie, 0);
    csr_clear(sip, SIE_SSIE);
    /* 2. The floating-point unit in its initial state, then off. */
    reset_fpu();
    /* 3. Counters readable from user mode: time for clocks, cycle and
     * instret for measuring. */
    csr_write(scounteren, SCOUNTEREN_CY | SCOUNTEREN_TM | SCOUNTEREN_IR);
}
