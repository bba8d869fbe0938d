/*
 * printf-style formatting for freestanding code: %d %u %x %s %c %p %%, with
 * the l, ll and z length modifiers, a field width and the '0' and '-' flags.
 */
#ifndef AUBADE_FMT_H
#define AUBADE_FMT_H

#include <stdarg.h>
#include <stddef.h>

typedef void (*fmt_sink)(void *context, char c);

void fmt_vformat(fmt_sink sink, void *context, const char *format, va_list args);
/* Like snprintf: writes at most size - 1 characters and a NUL, and returns
 * the length the whole text would have. */
__attribute__((format(printf, 3, 4))) size_t fmt_snprintf(char *buffer, size_t size,
                                                         const char *format, ...);

#endif
