/*
 * Console output for user programs: lib/fmt's formatting (the same
 * conversions as the kernel's log) written through SYS_WRITE.
 */
#ifndef USER_PRINT_H
#define USER_PRINT_H

#include <stddef.h>

__attribute__((format(printf, 1, 2))) void print(const char *format, ...);
void print_bytes(const char *text, size_t size);

#endif
