/*
 * The boot log: lines of the contract in ../shared/spec/boot-log.md,
 *
 *     [SSSSS.UUUUUU] component: event key=value ...
 *
 * timestamped from the `time` CSR, and free-text lines around them.
 *
 * Contract lines (log_event) are always printed: tests and tools depend on
 * them. Trace lines (log_trace) follow the same grammar but have a level, and
 * only those at or above the threshold (`loglevel=` on the kernel command
 * line) reach the console. Once log_set_cpu() is called, every line of either
 * kind ends with `cpu=H`, the hart that printed it.
 */
#ifndef AUBADE_LOG_H
#define AUBADE_LOG_H

#include <aubade/console.h>
#include <aubade/raw_spinlock.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

/* Until this is called, lines go to the SBI console with time 0. */
void log_init(const struct console *console, uint64_t timebase_hz);

enum log_level {
    LOG_ERROR,
    LOG_WARN,
    LOG_INFO,
    LOG_DEBUG,
};

/* Trace lines above `level` are dropped; LOG_INFO until this is called. */
void log_set_level(enum log_level level);
/* "error", "warn", "info" or "debug"; false for anything else. */
bool log_level_parse(const char *name, enum log_level *level);
/* Which hart is printing, for the `cpu=` field. */
void log_set_cpu(uint64_t (*current_cpu)(void));

/* How a hart waits while another holds the log's lock (a line takes 7 ms
 * at 115200 baud): it spins until this is called. wait() returns when the
 * lock may be free, with interrupts as the log left them (off;
 * were_enabled: whether they were on before); released() follows every
 * release. */
struct log_waiting {
    void (*wait)(const struct raw_spinlock *lock, uint64_t were_enabled);
    void (*released)(void);
};
void log_wait_with(const struct log_waiting *waiting);

/* For a panic report: from now on only this hart prints, and the others'
 * lines are dropped. It takes the lock, or, if another hart still holds it
 * after `patience` (time-CSR units), goes on without it: that hart may have
 * stopped for good. Then what the console queued is written out, and every
 * line after it is written with the UART polled (console_flush). */
void log_take_over(uint64_t patience);

/* One contract line; `fields` formats the key=value part. */
__attribute__((format(printf, 3, 4))) void log_event(const char *component, const char *event,
                                                     const char *fields, ...);
/* A trace line of `level`, in the contract's grammar. */
__attribute__((format(printf, 4, 5))) void log_trace(enum log_level level, const char *component,
                                                     const char *event, const char *fields, ...);
#define log_warn(component, event, ...) log_trace(LOG_WARN, component, event, __VA_ARGS__)
#define log_info(component, event, ...) log_trace(LOG_INFO, component, event, __VA_ARGS__)
#define log_debug(component, event, ...) log_trace(LOG_DEBUG, component, event, __VA_ARGS__)

/* An indented free-text line under a contract line: why a panic happened. */
void log_vdetail(const char *format, va_list args);
/* Free text, for people: a panic's registers. */
__attribute__((format(printf, 1, 2))) void log_text(const char *format, ...);
/* `length` bytes as they are (a program's output), never inside a line of
 * another hart's. */
void log_write(const char *text, size_t length);

static inline uint64_t read_time(void)
{
    uint64_t ticks;
    asm volatile("rdtime %0" : "=r"(ticks));
    return ticks;
}

#endif
