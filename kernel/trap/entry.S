#include "trap.h"

/*
 * Every trap saves the whole register file and the trap's CSRs into a struct
 * trap_frame (trap_frame.h) and hands it to trap_handle(). When that returns,
 * everything is restored from the frame and sret resumes the interrupted
 * code at the frame's sepc.
 *
 * sscratch tells where the trap came from: 0 while the hart runs the
 * kernel, and while a task runs in U-mode, the task's struct user_entry,
 * which holds its kernel stack and this hart's tp. A trap from U-mode puts
 * its frame at the top of that kernel stack.
 *
 * A trap from the kernel puts its frame on the interrupted stack, unless
 * that stack has run into its guard page: then on this hart's trap stack, so
 * that a stack overflow can still be reported (such a trap never returns).
 *
 * Unwind information (.debug_frame, for a debugger: the kernel's own
 * backtrace walks frame pointers and ends at the zeroed fp). A trap from the
 * kernel is a signal frame whose caller is the interrupted code: its pc is
 * the saved sepc (the return column), every register is in the frame, and
 * its CFA is the top of the frame, which is the interrupted sp unless the
 * trap moved to the trap stack. A trap from U-mode has no caller in the
 * kernel: its return column is undefined, so a backtrace ends there. So does
 * one taken in trap_entry's first two instructions, which do not yet know
 * where the trap came from, and one in trap_return.
 */
/* DWARF numbers a CSR 4096 + its number (RISC-V ELF psABI). */
#define DWARF_SSCRATCH (4096 + 0x140)
#define DWARF_SEPC (4096 + 0x141)
/* Where x[n] of a complete frame is, from the CFA (the frame's top). */
#define SLOT(n) ((n) * 8 - TRAP_FRAME_SIZE)

    /* As the C files have it (-fno-asynchronous-unwind-tables): the linker
     * script discards .eh_frame. */
    .cfi_sections .debug_frame

/* The rest of a frame, whichever way the trap came: x0's slot and the CSRs. */
.macro save_csrs
    sd      zero, 0 * 8(sp)
    mv      fp, zero            /* the kernel's backtrace of the handler ends here */
    csrr    t0, sepc
    sd      t0, TRAP_FRAME_SEPC(sp)
    csrr    t0, scause
    sd      t0, TRAP_FRAME_SCAUSE(sp)
    csrr    t0, stval
    sd      t0, TRAP_FRAME_STVAL(sp)
    csrr    t0, sstatus
    sd      t0, TRAP_FRAME_SSTATUS(sp)
.endm

    .balign 4
    .globl trap_entry
trap_entry:
    .cfi_startproc
    .cfi_signal_frame           /* the caller resumes at its pc, not after a call */
    .cfi_return_column DWARF_SEPC
    .cfi_undefined DWARF_SEPC   /* until the trap is known to come from the kernel */
    csrrw   t0, sscratch, t0    /* t0 = user_entry or 0, sscratch = t0 */
    .cfi_register t0, DWARF_SSCRATCH
    bnez    t0, from_user
    .cfi_remember_state
    .cfi_same_value DWARF_SEPC  /* the interrupted pc, still in sepc */
    lui     t0, %tprel_hi(trap_stack_floor)
    add     t0, t0, tp, %tprel_add(trap_stack_floor)
    ld      t0, %tprel_lo(trap_stack_floor)(t0)
    bltu    sp, t0, 1f
    mv      t0, sp
    j       2f
1:  mv      t0, sp
    .cfi_def_cfa t0, 0          /* at 2: too, either way t0 is the interrupted sp */
    lui     sp, %tprel_hi(trap_stack + TRAP_STACK_SIZE)
    add     sp, sp, tp, %tprel_add(trap_stack + TRAP_STACK_SIZE)
    addi    sp, sp, %tprel_lo(trap_stack + TRAP_STACK_SIZE)
2:  addi    sp, sp, -TRAP_FRAME_SIZE
    sd      t0, 2 * 8(sp)       /* sp as it was when the trap came */
    .cfi_def_cfa sp, TRAP_FRAME_SIZE
    .cfi_offset sp, SLOT(2)
    csrrw   t0, sscratch, zero
    .cfi_same_value t0
    sd      t0, 5 * 8(sp)
    .cfi_offset t0, SLOT(5)
    .irp    n, 1, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
    sd      x\n, \n * 8(sp)
    .cfi_offset x\n, SLOT(\n)
    .endr
    save_csrs
    .cfi_offset DWARF_SEPC, TRAP_FRAME_SEPC - TRAP_FRAME_SIZE
    mv      a0, sp
    call    trap_handle
    j       trap_return

from_user:
    .cfi_restore_state          /* the return column stays undefined */
    sd      sp, USER_ENTRY_USER_SP(t0)
    sd      tp, USER_ENTRY_USER_TP(t0)
    ld      sp, USER_ENTRY_KERNEL_SP(t0)
    ld      tp, USER_ENTRY_KERNEL_TP(t0)
    addi    sp, sp, -TRAP_FRAME_SIZE
    .cfi_def_cfa sp, TRAP_FRAME_SIZE /* the top of the task's kernel stack */
    .irp    n, 1, 3, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
    sd      x\n, \n * 8(sp)
    .endr
    ld      t1, USER_ENTRY_USER_SP(t0)
    sd      t1, 2 * 8(sp)
    ld      t1, USER_ENTRY_USER_TP(t0)
    sd      t1, 4 * 8(sp)
    csrrw   t1, sscratch, zero  /* the user's t0; the hart runs the kernel now */
    sd      t1, 5 * 8(sp)
    save_csrs
    mv      a0, sp
    call    trap_handle
    /* Not a fall-through: a debugger looks up a signal frame's rules at
     * the return address itself, which must lie inside this FDE. */
    j       trap_return
    .cfi_endproc

/* Resumes what the frame at sp describes. A task can leave a hart inside a
 * trap and come back on another, so a return to the kernel keeps this
 * hart's tp; only a return to U-mode takes the frame's. */
trap_return:
    .cfi_startproc
    .cfi_undefined ra           /* it resumes the frame: no caller to show */
    /* sstatus brings back SPP and SPIE, which sret needs to return to the
     * right mode with the right interrupt enable. */
    ld      t0, TRAP_FRAME_SEPC(sp)
    csrw    sepc, t0
    ld      t0, TRAP_FRAME_SSTATUS(sp)
    csrw    sstatus, t0
    andi    t0, t0, SSTATUS_SPP_BIT
    bnez    t0, 1f
    ld      tp, 4 * 8(sp)
1:  .irp    n, 1, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
    ld      x\n, \n * 8(sp)
    .endr
    ld      sp, 2 * 8(sp)       /* last: it is the base of every load above */
    sret

/* user_enter(frame): the first return of a process to U-mode, from a frame
 * at the top of its task's kernel stack (process.c). */
    .globl user_enter
user_enter:
    mv      sp, a0
    j       trap_return
    .cfi_endproc
