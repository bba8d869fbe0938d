/*
 * The host side of the loader, shared by both fuzz targets and by
 * tools/boardcheck (host/boardcheck.c): fuzz_run() and
 * fuzz_fail() (see harness.h) and the few symbols that loader/devicetree.c and
 * loader/check_elf.c take from the rest of the loader on the board.
 *
 * Only what those two files reference is stubbed here: loader_panic() and the
 * linker-script symbols around the loader image. main.c, panic.c, start.S and
 * the rest of lib/ (console, log, SBI: RISC-V instructions and MMIO) are not
 * linked, so nothing of theirs needs a stand-in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <aubade/fmt.h>

#include "harness.h"
#include "loader.h"

/*
 * On the board, the linker script puts __loader_start and __loader_end around
 * the loader image, and devicetree.c reserves the range between them. Only
 * their addresses are used, never the bytes, so an array of a typical image's
 * size stands in for the image, and __loader_end is a symbol just past it.
 */
#define HOST_LOADER_IMAGE_SIZE 0x12000
#define STRINGIFY(x) #x
#define EXPAND_AND_STRINGIFY(x) STRINGIFY(x)

char __loader_start[HOST_LOADER_IMAGE_SIZE];
__asm__(".globl __loader_end\n"
        ".set __loader_end, __loader_start + " EXPAND_AND_STRINGIFY(HOST_LOADER_IMAGE_SIZE));

/* Where loader_panic() jumps back to: set only while fuzz_run() runs a step. */
static jmp_buf *panic_return;
static const char *panic_reason;
/* Long enough for every detail the loader formats; longer ones are cut. */
static char panic_detail[256];
static bool report;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    report = getenv("AUBADE_FUZZ_REPORT") != NULL;
    return 0;
}

void fuzz_fail(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    fputs("fuzz: ", stderr);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
    va_end(args);
    abort();
}

/* A sink for the loader's own formatter: the detail is formatted as the
 * board's log_vdetail() would, so a %s that reads a bad string is caught.
 * The context counts the characters, stored or not. */
static void detail_sink(void *context, char c)
{
    size_t *len = context;
    if (*len + 1 < sizeof(panic_detail))
        panic_detail[*len] = c;
    (*len)++;
}

/* On the board: log the reason and the detail, then power off. Here the
 * input is rejected, and fuzz_run() takes over again. */
void loader_panic(const char *reason, const char *detail, ...)
{
    if (panic_return == NULL)
        fuzz_fail("loader_panic(\"%s\") outside fuzz_run()", reason);
    size_t len = 0;
    va_list args;
    va_start(args, detail);
    fmt_vformat(detail_sink, &len, detail, args);
    va_end(args);
    panic_detail[len < sizeof(panic_detail) ? len : sizeof(panic_detail) - 1] = '\0';
    if (len == 0)
        fuzz_fail("panic reason=%s has an empty detail", reason);
    panic_reason = reason;
    longjmp(*panic_return, 1);
}

/* The boot log's grammar: a lowercase word, hyphens between its parts. */
static bool is_reason_word(const char *reason)
{
    if (reason == NULL || !(reason[0] >= 'a' && reason[0] <= 'z'))
        return false;
    for (const char *c = reason; *c; c++) {
        bool alphanumeric = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9');
        bool inner_hyphen = *c == '-' && c[1] != '\0' && c[1] != '-';
        if (!alphanumeric && !inner_hyphen)
            return false;
    }
    return true;
}

const char *fuzz_run(void (*step)(void *context), void *context)
{
    jmp_buf jump;
    panic_return = &jump;
    panic_reason = NULL;
    if (setjmp(jump) == 0)
        step(context);
    panic_return = NULL;

    if (panic_reason != NULL && !is_reason_word(panic_reason))
        fuzz_fail("panic reason \"%s\" is not a lowercase word", panic_reason);
    if (report && panic_reason != NULL)
        fprintf(stderr, "verdict: rejected reason=%s: %s\n", panic_reason, panic_detail);
    else if (report)
        fprintf(stderr, "verdict: accepted\n");
    return panic_reason;
}

const char *fuzz_panic_detail(void)
{
    return panic_detail;
}
