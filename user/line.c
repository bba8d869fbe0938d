/*
 * Line editing over SYS_READ. A read may return several bytes at once (a
 * person pasting, or a test typing faster than the shell reads): every byte
 * is taken, and those past the end of one line start the next.
 *
 * The echo of a read's bytes is gathered and written in one call before the
 * next read, rather than one call per byte.
 */
#include "line.h"

#include <stdbool.h>
#include <stddef.h>

#include "print.h"
#include "syscall.h"

#define BACKSPACE 0x08
#define DELETE 0x7f

static struct {
    char bytes[64];
    size_t len;
    size_t at;
    /* The line ended with CR: a LF right after it is the same Enter (a
     * terminal that sends CR LF), not an empty line. */
    bool after_cr;
} input;

static struct {
    char text[128];
    size_t len;
} echo;

static void echo_flush(void)
{
    print_bytes(echo.text, echo.len);
    echo.len = 0;
}

static void echo_text(const char *text)
{
    for (; *text; text++) {
        if (echo.len == sizeof(echo.text))
            echo_flush();
        echo.text[echo.len++] = *text;
    }
}

/* The next byte typed, or a negative error. */
static int next_byte(void)
{
    while (input.at == input.len) {
        echo_flush(); /* the person sees what they typed before we wait */
        long got = sys_read(input.bytes, sizeof(input.bytes));
        if (got < 0)
            return (int)got;
        input.len = (size_t)got;
        input.at = 0;
    }
    return (unsigned char)input.bytes[input.at++];
}

long line_read(char line[LINE_MAX + 1])
{
    size_t len = 0;
    for (;;) {
        int c = next_byte();
        if (c < 0)
            return c;
        bool after_cr = input.after_cr;
        input.after_cr = false;
        if (c == '\r') {
            input.after_cr = true;
            echo_text("\r\n");
            break;
        }
        if (c == '\n') {
            if (after_cr)
                continue;
            echo_text("\n");
            break;
        }
        if (c == DELETE || c == BACKSPACE) {
            if (len > 0) {
                len--;
                echo_text("\b \b"); /* back, blank it out, back again */
            }
            continue;
        }
        if (c < ' ' || len == LINE_MAX)
            continue; /* other control characters, and a full line */
        line[len++] = (char)c;
        echo_text((char[]){(char)c, '\0'});
    }
    echo_flush();
    line[len] = '\0';
    return (long)len;
}
