/* context_switch and the first entry of a prepared context (context.h). */

    .text
    .balign 4
    .globl context_switch
context_switch:
    sd      ra, 0(a0)
    sd      sp, 8(a0)
    .irp    n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
    sd      s\n, (16 + \n * 8)(a0)
    .endr
    ld      ra, 0(a1)
    ld      sp, 8(a1)
    .irp    n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
    ld      s\n, (16 + \n * 8)(a1)
    .endr
    ret

/* context_prepare leaves entry in s1 and its argument in s2; s0 = 0 ends the
 * kernel's backtrace here. The entry is called, not jumped to, so that its
 * return address lies in this code, whose CFI ends gdb's backtrace too. A
 * task's first function never returns (task_exit); if it did, unimp traps. */
    .cfi_sections .debug_frame
    .balign 4
    .globl context_first_entry
context_first_entry:
    .cfi_startproc
    .cfi_undefined ra
    mv      a0, s2
    jalr    s1
    unimp
    .cfi_endproc
