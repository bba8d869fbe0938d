/*
 * Walking the call chain through frame pointers (the kernel is built with
 * -fno-omit-frame-pointer).
 *
 * GCC's RISC-V prologue saves ra and the caller's fp just below the
 * caller's sp and points fp there: ra at fp - 8, the caller's fp at fp - 16.
 * A leaf function that keeps ra in its register saves only the caller's fp,
 * at fp - 8. The walk runs after a fault, on memory that may be corrupt, so
 * it reads a frame record only after checking it lies inside one of this
 * hart's stacks, and never faults.
 */
#include <aubade/log.h>

#include "boot/boot.h" /* up: a panic report reaches up: see debug.h */
#include "debug/debug.h"
#include "trap/trap.h" /* up: walks the trap stack and trap frames */

#define MAX_FRAMES 32

static bool in_range(uintptr_t address, uintptr_t low, uintptr_t high)
{
    return address >= low && address <= high;
}

/* Whether `address` lies in this hart's stack or its trap stack (their top
 * included: the outermost frame pointer is the stack's top). */
static bool on_a_stack(uintptr_t address)
{
    uintptr_t trap_low = (uintptr_t)trap_stack;
    if (in_range(address, trap_low, trap_low + TRAP_STACK_SIZE))
        return true;
    return this_percpu && in_range(address, this_percpu->stack.start, this_percpu->stack.end);
}

/* Whether the 16-byte record below `fp` can be read. */
static bool record_readable(uintptr_t fp)
{
    return fp % 8 == 0 && fp >= 16 && on_a_stack(fp) && on_a_stack(fp - 16);
}

/* `lookup` is the address whose function is named: for a return address,
 * the byte before it, because the call it returns from may be the last
 * instruction of its function (a call to a noreturn one). */
static void log_frame(int depth, uintptr_t address, uintptr_t lookup)
{
    uintptr_t offset;
    const char *name = symbol_name(lookup, &offset);
    if (name)
        log_text("  #%d 0x%016lx %s+0x%lx\n", depth, address, name, offset + (address - lookup));
    else
        log_text("  #%d 0x%016lx ?\n", depth, address);
}

void backtrace_log(uintptr_t pc, uintptr_t fp, uintptr_t ra)
{
    log_text("  backtrace:\n");
    log_frame(0, pc, pc);
    for (int depth = 1; depth < MAX_FRAMES && record_readable(fp); depth++) {
        const uintptr_t *record = (const uintptr_t *)fp - 2;
        uintptr_t caller_fp = record[0];
        uintptr_t return_address = record[1];
        /* In the first frame only, the function may be a leaf: then the word
         * at fp - 8 is the caller's fp (a stack address, never one in
         * kernel text) and its return address is still in ra. */
        if (depth == 1 && on_a_stack(record[1])) {
            caller_fp = record[1];
            return_address = ra;
        }
        if (return_address == 0)
            break; /* the entry code's zeroed ra */
        log_frame(depth, return_address, return_address - 1);
        /* Stacks grow down: every caller's frame lies above its callee's.
         * This also ends a walk that a corrupt record would send in a loop. */
        if (caller_fp <= fp)
            break;
        fp = caller_fp;
    }
}
