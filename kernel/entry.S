#include "trap_frame.h"

/*
 * The boot hart's entry, called by the loader with paging on:
 * a0 = BootInfo (virtual), sp = this hart's stack, tp = its TLS block.
 */
    .section .text.entry, "ax"
    .globl _start
_start:
    la      t0, trap_entry
    csrw    stvec, t0
    call    kernel_main
1:  wfi
    j       1b

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
    la      t0, trap_entry
    csrw    stvec, t0
    mv      ra, zero            /* a backtrace ends here */
    mv      fp, zero
    call    secondary_main      /* a0 is still the hart id */

/*
 * Every trap saves the whole register file into a struct trap_frame and
 * hands it to trap_handle(). The frame goes on the interrupted stack, unless
 * that stack has run into its guard page: then on this hart's trap stack, so
 * that a stack overflow can still be reported. Nothing is expected to trap
 * yet, so trap_handle() panics and never returns; returning from traps comes
 * with interrupts.
 */
    .balign 4
    .globl trap_entry
trap_entry:
    csrw    sscratch, t0
    lui     t0, %tprel_hi(trap_stack_floor)
    add     t0, t0, tp, %tprel_add(trap_stack_floor)
    ld      t0, %tprel_lo(trap_stack_floor)(t0)
    bltu    sp, t0, 1f
    mv      t0, sp
    j       2f
1:  mv      t0, sp
    lui     sp, %tprel_hi(trap_stack + TRAP_STACK_SIZE)
    add     sp, sp, tp, %tprel_add(trap_stack + TRAP_STACK_SIZE)
    addi    sp, sp, %tprel_lo(trap_stack + TRAP_STACK_SIZE)
2:  addi    sp, sp, -TRAP_FRAME_SIZE
    sd      t0, 2 * 8(sp)       /* sp as it was when the trap came */
    csrr    t0, sscratch
    sd      t0, 5 * 8(sp)
    sd      zero, 0 * 8(sp)
    sd      x1, 1 * 8(sp)
    sd      x3, 3 * 8(sp)
    sd      x4, 4 * 8(sp)
    sd      x6, 6 * 8(sp)
    sd      x7, 7 * 8(sp)
    sd      x8, 8 * 8(sp)
    sd      x9, 9 * 8(sp)
    sd      x10, 10 * 8(sp)
    sd      x11, 11 * 8(sp)
    sd      x12, 12 * 8(sp)
    sd      x13, 13 * 8(sp)
    sd      x14, 14 * 8(sp)
    sd      x15, 15 * 8(sp)
    sd      x16, 16 * 8(sp)
    sd      x17, 17 * 8(sp)
    sd      x18, 18 * 8(sp)
    sd      x19, 19 * 8(sp)
    sd      x20, 20 * 8(sp)
    sd      x21, 21 * 8(sp)
    sd      x22, 22 * 8(sp)
    sd      x23, 23 * 8(sp)
    sd      x24, 24 * 8(sp)
    sd      x25, 25 * 8(sp)
    sd      x26, 26 * 8(sp)
    sd      x27, 27 * 8(sp)
    sd      x28, 28 * 8(sp)
    sd      x29, 29 * 8(sp)
    sd      x30, 30 * 8(sp)
    sd      x31, 31 * 8(sp)
    csrr    t0, sepc
    sd      t0, 32 * 8(sp)
    csrr    t0, scause
    sd      t0, 33 * 8(sp)
    csrr    t0, stval
    sd      t0, 34 * 8(sp)
    csrr    t0, sstatus
    sd      t0, 35 * 8(sp)
    mv      a0, sp
    call    trap_handle
