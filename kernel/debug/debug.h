/*
 * Debug: what happens when something goes wrong, and how it is told.
 *
 * Panics (a report owned by the first hart that panics, the other harts
 * stopped, a power-off with failure status), the orderly power-off, the
 * backtrace after a report and the symbol table that names its addresses,
 * and deliberate faults (`fault=`, debug builds) that test all of it.
 * Every part of the kernel may panic, so this is the lowest layer; yet a
 * report names the hart, stops the others and maps the power-off device, so
 * its files include the layers above (each such include says why).
 */
#ifndef KERNEL_DEBUG_H
#define KERNEL_DEBUG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdnoreturn.h>

/* Reading addresses (symbols.c): the kernel function that holds `address`,
 * with `*offset` set to how far into it, or NULL (and *offset untouched). */
const char *symbol_name(uintptr_t address, uintptr_t *offset);
/* `function+0xoff` for the address, or the address in hex: for a report's
 * one line. */
#define SYMBOL_TEXT_SIZE 80
void symbol_describe(char *text, size_t size, uintptr_t address);
/* The call chain after a panic report (backtrace.c), from the frame that was
 * running at `pc` with frame pointer `fp` and return address register `ra`. */
void backtrace_log(uintptr_t pc, uintptr_t fp, uintptr_t ra);

/* Stopping (panic.c). */
/* A report of a fatal error, owned by the first hart that panics: `kernel:
 * panic reason=...`, the detail, a backtrace, then the power-off. */
__attribute__((format(printf, 2, 3))) noreturn void kernel_panic(const char *reason,
                                                                const char *detail, ...);
/* A panic report of another form: panic_begin() returns only on the hart
 * that owns the report (any other stops there), which prints it and ends
 * with panic_end(): the other harts' fate, then the power-off with failure
 * status. `reason` is the report's reason=, for panic_breakpoint(). */
void panic_begin(const char *reason);
/* Where every panic passes first, on the hart that panics, before the other
 * harts are stopped: it does nothing but be a debugger's breakpoint. */
void panic_breakpoint(const char *reason);
noreturn void panic_end(void);
/* Whether some hart has panicked (or is powering off: it takes the end of
 * the machine the same way). */
bool panic_in_progress(void);
/* Every spin loop calls this: once another hart has panicked, this one
 * stops here for good. */
void panic_stop_if_panicking(void);
/* Early, boot hart: finds the device that powers off with a failure status,
 * while mapping it is still safe. */
void poweroff_prepare(void);
/* Orderly shutdown: the other harts stopped, `kernel: poweroff status=ok`,
 * and QEMU exits 0; if no way of powering off works, `kernel: halt
 * reason=poweroff-failed` and every hart stays stopped. */
noreturn void kernel_poweroff(void);
/* Orderly shutdown after a failure found without a panic: `status=WORD`. */
noreturn void kernel_poweroff_failed(const char *status);
/* With `poweroff` on the command line: kernel_poweroff(). */
void poweroff_if_asked(void);

/* Deliberate faults for testing the fault paths (fault.c). */
void fault_prepare(void);
/* Before vm_check: plants the bad mapping fault=vm-wx asks for. */
void fault_inject_mapping(void);
void fault_inject_here(void);

#endif
