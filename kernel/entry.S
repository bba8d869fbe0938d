/*
 * The kernel's entry, called by the loader with paging on:
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
 * Every trap saves the whole register file into a struct trap_frame on the
 * stack and hands it to trap_handle(). Nothing is expected to trap yet, so
 * trap_handle() panics and never returns; returning from traps comes with
 * interrupts.
 */
    .text
    .balign 4
    .globl trap_entry
trap_entry:
    addi    sp, sp, -(36 * 8)
    sd      zero, 0 * 8(sp)
    sd      x1, 1 * 8(sp)
    sd      x3, 3 * 8(sp)
    sd      x4, 4 * 8(sp)
    sd      x5, 5 * 8(sp)
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
    addi    t0, sp, 36 * 8          /* sp as it was when the trap came */
    sd      t0, 2 * 8(sp)
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
