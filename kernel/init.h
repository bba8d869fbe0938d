/*
 * The kernel's startup, as a table of init calls generated from the *.init
 * declarations (tools/aubade/inittokens.py; docs/init.md). Each component
 * says what it needs; the build works out the order. kernel_main() runs the
 * boot hart's calls, secondary_main() the other harts'.
 */
#ifndef KERNEL_INIT_H
#define KERNEL_INIT_H

#include <aubade/log.h>
#include <stdint.h>

struct init_token {
    const char *token;
    const char *function;
    const char *group; /* the innermost group it runs during */
};

/* Generated (build/BOARD/kernel/init_table.c): every call, in the boot
 * hart's order. */
extern const struct init_token init_tokens[];
extern const unsigned init_token_count;
void init_boot_hart(void);
void init_other_hart(void);

/* Around each call: its duration, reported with `initcall_debug`. */
uint64_t init_call_begin(unsigned index);
void init_call_end(unsigned index, uint64_t start);

/* Init functions take nothing and return nothing: the assertion turns a
 * mismatch into a compile error that names the function. */
#define INIT_CALL(index, function)                                                         \
    do {                                                                                   \
        _Static_assert(__builtin_types_compatible_p(__typeof__(function), void(void)),    \
                       "init function " #function " must be void " #function "(void)"); \
        uint64_t init_started = init_call_begin(index);                                    \
        function();                                                                        \
        init_call_end(index, init_started);                                                \
    } while (0)

/* How long the boot hart's call `index` took, in microseconds. */
uint64_t init_call_us(unsigned index);

/* An init token of its own (kernel/startup.init): from here on, calls are
 * reported as they end if the command line says `initcall_debug`, and the
 * ones before are reported now. */
void init_trace_start(void);

/* The boot hart's last init call: creates the init task (init_task.c). */
void init_task_start(void);

#endif
