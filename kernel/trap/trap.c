/*
 * What a trap is: an interrupt goes to its handler (interrupts.h) and the
 * interrupted code goes on; a trap from U-mode is a system call or ends the
 * process (syscall.c); an exception in the kernel is a bug, decoded,
 * reported and fatal.
 */
#include <aubade/csr.h>
#include <aubade/log.h>

#include "boot/boot.h"
#include "debug/debug.h"
#include "proc/proc.h" /* up: a trap from U-mode is the process's */
#include "sched/sched.h" /* up: an interrupt may preempt the task */
#include "trap/trap.h"

#define SCAUSE_INTERRUPT (1ul << 63)
#define INTERRUPT_SOFTWARE 1
#define INTERRUPT_TIMER 5
#define INTERRUPT_EXTERNAL 9

const char *trap_exception_name(uint64_t cause)
{
    static const char *const names[] = {
        [0] = "instruction-misaligned", [1] = "instruction-access-fault",
        [2] = "illegal-instruction",    [3] = "breakpoint",
        [4] = "load-misaligned",        [5] = "load-access-fault",
        [6] = "store-misaligned",       [7] = "store-access-fault",
        [8] = "user-ecall",             [9] = "supervisor-ecall",
        [12] = "instruction-page-fault", [13] = "load-page-fault",
        [15] = "store-page-fault",
    };
    if (cause < sizeof(names) / sizeof(names[0]) && names[cause])
        return names[cause];
    return "unknown-exception";
}

static void log_registers(const struct trap_frame *frame)
{
    static const char *const abi_names[32] = {
        "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0",
        "a1",   "a2", "a3", "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5",
        "s6",   "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
    };
    log_text("  sepc %016lx  scause %016lx  stval %016lx  sstatus %016lx\n", frame->sepc,
             frame->scause, frame->stval, frame->sstatus);
    for (int i = 0; i < 32; i += 4)
        log_text("  %-4s %016lx  %-4s %016lx  %-4s %016lx  %-4s %016lx\n", abi_names[i],
                 frame->x[i], abi_names[i + 1], frame->x[i + 1], abi_names[i + 2],
                 frame->x[i + 2], abi_names[i + 3], frame->x[i + 3]);
}

#define CAUSE_ILLEGAL_INSTRUCTION 2
#define CAUSE_STORE_PAGE_FAULT 15
#define GUARD_PAGE_SIZE 4096

extern char __kernel_writable_start[];

static bool is_page_fault(uint64_t cause)
{
    return cause == 12 || cause == 13 || cause == CAUSE_STORE_PAGE_FAULT;
}

/* The exceptions whose stval is the address that was accessed: misaligned
 * accesses (0, 4, 6), access faults (1, 5, 7) and page faults. */
static bool has_address(uint64_t cause)
{
    return cause <= 1 || (cause >= 4 && cause <= 7) || is_page_fault(cause);
}

/* The instruction bits of an illegal instruction: stval, if the hart puts
 * them there, else read at sepc, which held an instruction the hart fetched,
 * in kernel text the kernel can read. sepc is only 2-aligned (compressed
 * instructions), so the two halves of a 32-bit one are read separately. */
static uint32_t illegal_instruction(const struct trap_frame *frame)
{
    if (frame->stval)
        return (uint32_t)frame->stval;
    const volatile uint16_t *parcel = (const volatile uint16_t *)frame->sepc;
    uint32_t bits = parcel[0];
    if ((bits & 3) == 3) /* not compressed */
        bits |= (uint32_t)parcel[1] << 16;
    return bits;
}

static noreturn void report_exception(const struct trap_frame *frame)
{
    uint64_t code = frame->scause;
    uint64_t address = frame->stval;
    uint64_t stack_start = trap_stack_floor - TRAP_FRAME_SIZE;
    uint64_t guard = stack_start - GUARD_PAGE_SIZE;

    /* The two faults that have a name of their own: running off the running
     * stack into its guard page, and writing to the kernel's text or rodata. */
    bool overflow =
        is_page_fault(code) && trap_stack_floor && address >= guard && address < stack_start;
    bool readonly_write = !overflow && code == CAUSE_STORE_PAGE_FAULT &&
                          address >= boot_info->kernel_virt.start &&
                          address < (uintptr_t)__kernel_writable_start;
    panic_begin(overflow         ? "stack-overflow"
                : readonly_write ? "kernel-readonly-write"
                                 : trap_exception_name(code));
    if (overflow) {
        log_event("kernel", "panic",
                  "reason=stack-overflow hart=%lu guard=0x%lx-0x%lx addr=0x%lx pc=0x%lx",
                  current_hart, guard, stack_start, address, frame->sepc);
    } else if (readonly_write) {
        log_event("kernel", "panic", "reason=kernel-readonly-write hart=%lu addr=0x%lx pc=0x%lx",
                  current_hart, address, frame->sepc);
    } else if (has_address(code)) {
        log_event("kernel", "panic", "reason=%s cause=%lu addr=0x%lx pc=0x%lx hart=%lu",
                  trap_exception_name(code), code, address, frame->sepc, current_hart);
    } else if (code == CAUSE_ILLEGAL_INSTRUCTION) {
        log_event("kernel", "panic", "reason=%s cause=%lu insn=0x%x pc=0x%lx hart=%lu",
                  trap_exception_name(code), code, illegal_instruction(frame), frame->sepc,
                  current_hart);
    } else {
        log_event("kernel", "panic", "reason=%s cause=%lu pc=0x%lx hart=%lu",
                  trap_exception_name(code), code, frame->sepc, current_hart);
    }
    log_registers(frame);
    backtrace_log(frame->sepc, frame->x[8], frame->x[1]);
    panic_end();
}

/* An interrupt nobody enabled: as fatal as an exception, and reported the same way. */
static noreturn void report_unexpected_interrupt(const struct trap_frame *frame, uint64_t code)
{
    panic_begin("unexpected-interrupt");
    log_event("kernel", "panic", "reason=unexpected-interrupt cause=%lu pc=0x%lx hart=%lu", code,
              frame->sepc, current_hart);
    log_registers(frame);
    backtrace_log(frame->sepc, frame->x[8], frame->x[1]);
    panic_end();
}

void interrupts_start(void)
{
    csr_set(sstatus, SSTATUS_SIE);
    log_event("kernel", "late", "hart=%lu timer=%s", current_hart, timer_kind());
}

/* How many interrupt handlers this hart is in: 0 or 1, since they run
 * with interrupts off. */
static _Thread_local uint32_t handler_depth;

bool in_interrupt_handler(void)
{
    return handler_depth != 0;
}

static void handle_interrupt(struct trap_frame *frame)
{
    uint64_t code = frame->scause & ~SCAUSE_INTERRUPT;
    handler_depth++;
    switch (code) {
    case INTERRUPT_SOFTWARE:
        software_interrupt();
        break;
    case INTERRUPT_TIMER:
        timer_interrupt(frame->sepc);
        break;
    case INTERRUPT_EXTERNAL:
        external_interrupt();
        break;
    default:
        report_unexpected_interrupt(frame, code);
    }
    handler_depth--;
}

void trap_handle(struct trap_frame *frame)
{
    bool from_user = !(frame->sstatus & SSTATUS_SPP);
    if (frame->scause & SCAUSE_INTERRUPT)
        handle_interrupt(frame);
    else if (from_user)
        user_trap(frame);
    else if (!(is_page_fault(frame->scause) && process_sync_kernel_half(frame->stval)))
        report_exception(frame);
    /* The tick or a wake-up may have asked for another task: the kernel
     * is preempted only where it had interrupts on. */
    sched_preempt_point(from_user, frame->sstatus & SSTATUS_SPIE);
    if (from_user)
        process_arm_user_entry(); /* perhaps on another hart than the trap came on */
}
