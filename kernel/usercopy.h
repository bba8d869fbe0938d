/*
 * Copying between the kernel and the calling process's memory (usercopy.c).
 * Every range is checked against the process's page tables first: it must
 * lie in the lower half and every page of it be mapped U, readable, and for
 * a copy to the process, writable. A bad range copies nothing.
 */
#ifndef USERCOPY_H
#define USERCOPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whether a copy_to_user of this range would be allowed. */
bool user_can_write(uint64_t start, size_t size);
/* Each returns true if the whole range was copied. */
bool copy_from_user(void *to, uint64_t from, size_t size);
bool copy_to_user(uint64_t to, const void *from, size_t size);
/* A NUL-terminated string of at most size - 1 bytes; false if it is longer
 * or not wholly readable. */
bool copy_string_from_user(char *to, uint64_t from, size_t size);

#endif
