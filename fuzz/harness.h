/*
 * What the two host fuzz targets share (fuzz/harness.c), and what
 * tools/boardcheck runs the loader's steps under.
 *
 * The loader's parsers run on the board with the MMU off and stop the
 * machine on bad input through loader_panic(). Built for the host, under
 * libFuzzer with AddressSanitizer and UndefinedBehaviorSanitizer, the same
 * code must turn every input into one of two outcomes:
 *
 *   - rejected: loader_panic() was called with a reason that is a lowercase
 *     word ("dtb-no-memory", "elf-overlap"), as the boot log's grammar wants;
 *   - accepted: the parser returned, and what it returned holds up to what
 *     the rest of the loader does with it (each target checks that itself).
 *
 * Anything else, an out-of-bounds read, undefined behaviour, a malformed
 * reason or an accepted result that breaks a promise, aborts, and libFuzzer
 * keeps the input as a crash file.
 */
#ifndef FUZZ_HARNESS_H
#define FUZZ_HARNESS_H

#include <stdnoreturn.h>

/*
 * Runs step(context) and returns NULL if it returned, or the reason it
 * panicked with, once that reason has been checked. With AUBADE_FUZZ_REPORT
 * set in the environment, it also prints "verdict: accepted" or "verdict:
 * rejected reason=..." on stderr: tools/fuzz runs inputs one by one that way
 * to show how each one fares.
 */
const char *fuzz_run(void (*step)(void *context), void *context);
/* The detail of the panic fuzz_run() last returned the reason of, as the
 * board's log would print it. */
const char *fuzz_panic_detail(void);

/* Stops the fuzzer on an input that breaks a promise, with a "fuzz: " line
 * that says which: libFuzzer saves the input. */
__attribute__((format(printf, 1, 2))) noreturn void fuzz_fail(const char *format, ...);

#endif
