/* The mem* functions move 8-byte words over the aligned middle of a range
 * and single bytes over its unaligned head and tail: the kernel zeroes and
 * copies whole pages with them (a process's memory, page tables), where a
 * byte at a time cost most of its start-up. A word access is only ever made
 * at an address that is a multiple of 8, since RISC-V may trap on, or
 * emulate very slowly, one that is not; so when the two addresses differ in
 * their offset within a word, no alignment serves both and the copy or
 * comparison goes a byte at a time.
 *
 * GCC recognises these very loops as memset and memcpy and would compile
 * them into calls to themselves: this file is built with
 * -fno-tree-loop-distribute-patterns (lib/SConscript, user/SConscript).
 * The str* functions stay byte-wise: their strings are short. */
#include <aubade/string.h>
#include <stdint.h>

/* A word that may alias any object's bytes, as char does. */
typedef uint64_t __attribute__((may_alias)) word;

#define WORD_SIZE sizeof(word)
#define WORD_MASK (WORD_SIZE - 1)
/* Eight words, the unit of memset's unrolled loop. */
#define BLOCK_SIZE (8 * WORD_SIZE)

static inline int misaligned(const void *p)
{
    return (uintptr_t)p & WORD_MASK;
}

/* Whether a and b can both be word-aligned by one byte count. */
static inline int co_aligned(const void *a, const void *b)
{
    return (((uintptr_t)a ^ (uintptr_t)b) & WORD_MASK) == 0;
}

/* Copies from the lowest address up: what memcpy does, and memmove when dst
 * is below src (each word is read before any store can reach it). No
 * restrict here, since memmove's ranges may overlap. */
static void copy_forward(unsigned char *d, const unsigned char *s, size_t n)
{
    if (co_aligned(d, s)) {
        /* 1. Bytes up to d's (and so s's) word boundary. */
        while (n && misaligned(d)) {
            *d++ = *s++;
            n--;
        }
        /* 2. Whole words. */
        for (; n >= WORD_SIZE; n -= WORD_SIZE, d += WORD_SIZE, s += WORD_SIZE)
            *(word *)d = *(const word *)s;
    }
    /* 3. The tail, or everything when no alignment serves both. */
    while (n--)
        *d++ = *s++;
}

/* Copies from the highest address down: memmove when dst is above src. */
static void copy_backward(unsigned char *d, const unsigned char *s, size_t n)
{
    d += n;
    s += n;
    if (co_aligned(d, s)) {
        /* 1. Bytes down to the end's word boundary. */
        while (n && misaligned(d)) {
            *--d = *--s;
            n--;
        }
        /* 2. Whole words. */
        for (; n >= WORD_SIZE; n -= WORD_SIZE) {
            d -= WORD_SIZE;
            s -= WORD_SIZE;
            *(word *)d = *(const word *)s;
        }
    }
    /* 3. The head, or everything when no alignment serves both. */
    while (n--)
        *--d = *--s;
}

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    copy_forward(dst, src, n);
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    /* Compared as integers: the ranges may belong to different objects. */
    if ((uintptr_t)d - (uintptr_t)s >= n)
        copy_forward(d, s, n);
    else
        copy_backward(d, s, n);
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    unsigned char byte = (unsigned char)c;
    /* 1. Bytes up to a word boundary. */
    while (n && misaligned(d)) {
        *d++ = byte;
        n--;
    }
    /* 2. Blocks of eight words, one loop iteration per 64 bytes: a page is
     *    64 iterations, not 512. */
    word fill = byte * (word)0x0101010101010101;
    for (; n >= BLOCK_SIZE; n -= BLOCK_SIZE, d += BLOCK_SIZE) {
        word *w = (word *)d;
        w[0] = fill;
        w[1] = fill;
        w[2] = fill;
        w[3] = fill;
        w[4] = fill;
        w[5] = fill;
        w[6] = fill;
        w[7] = fill;
    }
    /* 3. The words left. */
    for (; n >= WORD_SIZE; n -= WORD_SIZE, d += WORD_SIZE)
        *(word *)d = fill;
    /* 4. The tail. */
    while (n--)
        *d++ = byte;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    if (co_aligned(x, y)) {
        /* 1. Bytes up to a word boundary. */
        for (; n && misaligned(x); n--, x++, y++)
            if (*x != *y)
                return *x - *y;
        /* 2. Whole words while they are equal; the first that differs is
         *    left to the byte loop, which finds its first differing byte. */
        for (; n >= WORD_SIZE; n -= WORD_SIZE, x += WORD_SIZE, y += WORD_SIZE)
            if (*(const word *)x != *(const word *)y)
                break;
    }
    /* 3. The tail, a differing word, or everything when no alignment
     *    serves both. */
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

size_t strnlen(const char *s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n])
        n++;
    return n;
}

/* Copies what fits of src and always ends dst with a NUL (size > 0). */
size_t strlcpy(char *dst, const char *src, size_t size)
{
    size_t length = strlen(src);
    size_t copied = length < size ? length : size - 1;
    memcpy(dst, src, copied);
    dst[copied] = '\0';
    return length;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return (unsigned char)*a - (unsigned char)*b;
        if (*a == '\0')
            break;
    }
    return 0;
}

int strcmp(const char *a, const char *b)
{
    return strncmp(a, b, (size_t)-1);
}

char *strchr(const char *s, int c)
{
    for (;; s++) {
        if (*s == (char)c)
            return (char *)s;
        if (*s == '\0')
            return NULL;
    }
}
