/*
 * The firmware floor: the smallest S-mode payload OpenSBI can enter, for
 * `tools/bench floor` to time what QEMU and the firmware take on their own.
 *
 * It prints one line through the SBI console and powers the machine off:
 * QEMU's start to that line is the least any kernel entered the same way
 * can take. The legacy console putchar (extension 0x01) is used rather than
 * the debug console (DBCN, SBI 2.0), which older OpenSBI builds lack; the
 * power-off is System Reset (SRST), or the legacy shutdown where SRST is
 * missing. Position independent (pc-relative addressing only), so where it
 * is linked matters only to the firmware that loads it.
 *
 * Every hart OpenSBI enters here prints: fw_dynamic enters the boot hart
 * only and leaves the others stopped, so the line is printed once.
 */

#define SBI_LEGACY_PUTCHAR 0x01
#define SBI_LEGACY_SHUTDOWN 0x08
#define SBI_SRST 0x53525354
#define SBI_SRST_RESET 0
#define SRST_SHUTDOWN 0
#define SRST_NO_REASON 0

	.section .text.entry, "ax"
	.globl _start
_start:
	lla	s0, line
1:	lbu	a0, 0(s0)
	beqz	a0, 2f
	li	a7, SBI_LEGACY_PUTCHAR
	ecall
	addi	s0, s0, 1
	j	1b

2:	li	a0, SRST_SHUTDOWN
	li	a1, SRST_NO_REASON
	li	a6, SBI_SRST_RESET
	li	a7, SBI_SRST
	ecall
	/* Only returns without SRST, or with an error from it. */
	li	a7, SBI_LEGACY_SHUTDOWN
	ecall
3:	wfi
	j	3b

	.section .rodata
line:
	.asciz	"floor: up\n"
