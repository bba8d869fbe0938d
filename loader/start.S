/*
 * The first bytes of the Image: the RISC-V Linux image header that U-Boot's
 * booti checks, then the loader's entry. Firmware enters at the first byte
 * in S-mode with the MMU off, a0 = hart id, a1 = device tree.
 */
    .section .text.head, "ax"
    .option norvc               /* code0 must be one 4-byte jump */
    .globl _start
_start:
    j       loader_entry        /* code0 */
    .word   0                   /* code1 */
    .dword  __image_text_offset /* where in DRAM the Image wants to be */
    .dword  __image_size        /* bytes from the load address to the end of .bss */
    .dword  0                   /* flags: little-endian */
    .word   2                   /* header version 0.2 */
    .word   0
    .dword  0
    .ascii  "RISCV\0\0\0"       /* magic, deprecated but still checked by some */
    .ascii  "RSC\x05"           /* magic2 */
    .word   0                   /* no PE/COFF header */
    .option rvc

    .text
loader_entry:
    /* Interrupts stay off and traps go nowhere until the kernel sets its own. */
    csrw    sie, zero
    csrw    stvec, zero

    /* One hart runs the loader; any other that enters here goes to the
     * pen below, before it touches any memory. The loader parks the others
     * there itself (park.c). OpenSBI v1.1 (QEMU 7.2's firmware) can send
     * one more: it marks a hart START_PENDING before it stores the start
     * address, so a hart the kernel starts can read the stale one, this
     * entry, on a loaded host. That one stops at once, and the kernel
     * starts it again (kernel/smp/smp.c). */
    .option push
    .option norelax             /* gp is not set up: do not relax against it */
    la      t0, loader_entered
    li      t1, 1
    amoswap.w t1, t1, (t0)
    bnez    t1, pen
    la      sp, __loader_stack_top
    la      t0, __bss_start
    la      t1, __bss_end
    .option pop
1:  bgeu    t0, t1, 2f
    sd      zero, (t0)
    addi    t0, t0, 8
    j       1b
2:  call    loader_main         /* a0 and a1 are still firmware's */
3:  wfi
    j       3b

/*
 * The pen (park.c): asleep until an IPI, then off to what the hart's
 * mailbox names. Only SSIE is enabled in sie and sstatus masks it, so wfi
 * sleeps until the IPI's SSIP and nothing traps; SSIP is cleared before
 * each look at the mailbox, so an IPI that comes after a look wakes the
 * next wfi. A hart without the pen's tag in a1 was not parked: the kernel
 * started it and it read a stale start address; it stops, and the kernel
 * starts it again.
 */
pen:
    srli    t0, a1, 40
    li      t1, 0x70656e        /* PEN_OPAQUE_TAG >> 40 */
    bne     t0, t1, stop_this_hart
    slli    t2, a1, 24          /* the index, times sizeof(struct boot_pen) */
    srli    t2, t2, 20
    .option push
    .option norelax
    la      t0, pen_mailboxes
    add     t2, t2, t0
    la      t0, pen_entered
    .option pop
    li      t1, 1
    amoadd.w zero, t1, (t0)     /* the loader waits for this (park.c) */
    li      t0, 2               /* SIE_SSIE */
    csrw    sie, t0
1:  csrc    sip, t0
    ld      t1, 0(t2)           /* entry */
    bnez    t1, 2f
    wfi
    j       1b
2:  fence   r, r                /* entry before opaque */
    ld      a1, 8(t2)
    csrw    sie, zero
    fence.i                     /* the kernel's code, written by the boot hart */
    jr      t1                  /* a0: still this hart's id */

stop_this_hart:
    li      a7, 0x48534d        /* SBI HSM */
    li      a6, 1               /* hart_stop: does not return */
    ecall
    j       stop_this_hart

/*
 * enter_kernel(satp, entry, boot_info, stack, thread_pointer): turns paging
 * on and jumps. This page is identity-mapped, so the fetch after the write
 * to satp finds the next instruction where it was.
 */
    .globl enter_kernel
enter_kernel:
    sfence.vma
    csrw    satp, a0
    sfence.vma
    mv      t0, a1
    mv      a0, a2
    mv      sp, a3
    mv      tp, a4
    mv      ra, zero            /* a backtrace ends here */
    mv      fp, zero
    jr      t0

    .data
    .balign 4
loader_entered:
    .word   0                   /* not in .bss: read before .bss is cleared */
