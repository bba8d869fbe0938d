/*
 * The boot log: lines of the contract in ../shared/spec/boot-log.md,
 *
 *     [SSSSS.UUUUUU] component: event key=value ...
 *
 * timestamped from the `time` CSR, and free-text lines around them.
 */
#ifndef AUBADE_LOG_H
#define AUBADE_LOG_H

#include <aubade/console.h>
#include <stdarg.h>
#include <stdint.h>

/* Until this is called, lines go to the SBI console with time 0. */
void log_init(const struct console *console, uint64_t timebase_hz);

/* One contract line; `fields` formats the key=value part. */
__attribute__((format(printf, 3, 4))) void log_event(const char *component, const char *event,
                                                     const char *fields, ...);
/* An indented free-text line under a contract line: why a panic happened. */
void log_vdetail(const char *format, va_list args);
/* Free text, for people: a panic's registers. */
__attribute__((format(printf, 1, 2))) void log_text(const char *format, ...);

static inline uint64_t read_time(void)
{
    uint64_t ticks;
    asm volatile("rdtime %0" : "=r"(ticks));
    return ticks;
}

#endif
