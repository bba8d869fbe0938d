/*
 * The boot hart's entry, called by the loader with paging on:
 * a0 = BootInfo (virtual), sp = this hart's stack, tp = its TLS block.
 */
    /* Unwind information for a debugger, which ends its backtrace at the
     * entries: their return address is undefined. */
    .cfi_sections .debug_frame

    .section .text.entry, "ax"
    .globl _start
_start:
    .cfi_startproc
    .cfi_undefined ra
    la      t0, trap_entry
    csrw    stvec, t0
    mv      fp, zero            /* a backtrace ends here */
    call    kernel_main
1:  wfi
    j       1b
    .cfi_endproc

/*
 * The other harts' entry, started by SBI HSM with the MMU off at this code's
 * physical address: a0 = hart id, a1 = its struct secondary_start (smp.c),
 * also physical. Only PC-relative code and loads through a1 until paging is on.
 */
    .text
    .balign 4
    .globl secondary_entry
secondary_entry:
    ld      t0, 0(a1)           /* satp */
    ld      sp, 8(a1)           /* stack top */
    ld      tp, 16(a1)          /* TLS block */
    ld      t1, 24(a1)          /* secondary_continue, virtual */
    csrw    stvec, t1
    sfence.vma
    csrw    satp, t0
    /* The next fetch goes through the new page tables, which do not map this
     * physical address: it faults, and the trap lands in secondary_continue
     * in the upper half. No identity map of the kernel is needed. */
    j       .

    .balign 4
    .globl secondary_continue
secondary_continue:
    .cfi_startproc
    .cfi_undefined ra
    la      t0, trap_entry
    csrw    stvec, t0
    mv      ra, zero            /* a backtrace ends here */
    mv      fp, zero
    call    secondary_main
    .cfi_endproc
