/* Shared by trap_entry (entry.S) and the C that reads what it saved. */
#ifndef TRAP_FRAME_H
#define TRAP_FRAME_H

/* x0..x31, then sepc, scause, stval, sstatus. */
#define TRAP_FRAME_SIZE (36 * 8)

/* Each hart's emergency stack, in its TLS block: traps taken on a stack that
 * has run into its guard page are handled there. */
#define TRAP_STACK_SIZE 4096

#endif
