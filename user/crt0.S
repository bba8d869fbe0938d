/*
 * A user program's entry. The kernel enters _start in U-mode with
 * a0 = the argument string (may be ""), sp = the top of the stack, 16-byte
 * aligned; no other register holds anything.
 *
 *     sys_exit(main(argument))
 */
    .section .text.start, "ax"
    .globl _start
_start:
    /* A zero frame pointer and return address end a backtrace here. */
    li s0, 0
    li ra, 0
    call main
    /* main's result is in a0, where sys_exit takes its code. */
    tail sys_exit
