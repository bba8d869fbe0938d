/*
 * print(): formatted into a small buffer that goes out through SYS_WRITE
 * when full and at the end, so that a line is one system call and lines of
 * several processes do not interleave character by character.
 */
#include "print.h"

#include <aubade/fmt.h>
#include <stdarg.h>

#include "syscall.h"

struct buffer {
    char text[128];
    size_t len;
};

void print_bytes(const char *text, size_t size)
{
    /* The console takes what it can; the rest goes in the next call. A
     * negative result (a bad pointer) ends it. */
    while (size > 0) {
        long written = sys_write(text, size);
        if (written <= 0)
            return;
        text += written;
        size -= (size_t)written;
    }
}

static void buffer_sink(void *context, char c)
{
    struct buffer *buffer = context;
    if (buffer->len == sizeof(buffer->text)) {
        print_bytes(buffer->text, buffer->len);
        buffer->len = 0;
    }
    buffer->text[buffer->len++] = c;
}

void print(const char *format, ...)
{
    struct buffer buffer = {.len = 0};
    va_list args;
    va_start(args, format);
    fmt_vformat(buffer_sink, &buffer, format, args);
    va_end(args);
    print_bytes(buffer.text, buffer.len);
}
