/*
 * printf-style formatting for freestanding code: %d %u %x %s %c %p %%, with
 * the l, ll and z length modifiers, a field width and the '0' and '-' flags.
 */
#ifndef AUBADE_FMT_H
#define AUBADE_FMT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef void (*fmt_sink)(void *context, char c);

void fmt_vformat(fmt_sink sink, void *context, const char *format, va_list args);
/* Like snprintf: at most size - 1 characters and a NUL; returns the length
 * the whole text would have. */
size_t fmt_vsnprintf(char *data, size_t size, const char *format, va_list args);
__attribute__((format(printf, 3, 4))) size_t fmt_snprintf(char *data, size_t size,
                                                         const char *format, ...);
/* A list in the boot log's form: decimal ids, comma-separated ("0,1,3"). */
size_t fmt_id_list(char *buffer, size_t size, const uint64_t *ids, uint32_t count);

#endif
