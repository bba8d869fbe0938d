/*
 * The ktest runner: every suite the command line selects, every case of it
 * in link order, reported in KTAP version 1 (see
 * https://docs.kernel.org/dev-tools/ktap.html):
 *
 *     KTAP version 1
 *     1..2                      one line per suite, each a subtest:
 *         KTAP version 1
 *         # Subtest: frames
 *         1..3
 *         # alloc: kernel/ktest/frames.c:40: expected ...   (before its result)
 *         not ok 1 alloc
 *     not ok 1 frames
 *
 * The report is free text without timestamps, so a KTAP parser reads it as
 * is; a `kernel: ktest` contract line with the counts follows it.
 */
#include <aubade/fmt.h>
#include <aubade/log.h>
#include <aubade/string.h>
#include <stdarg.h>

#include "boot/boot.h"
#include "debug/debug.h"
#include "ktest/ktest.h"

#define MAX_SUITES 32

extern const struct ktest_case __ktests_start[], __ktests_end[];

struct totals {
    unsigned passed, failed, skipped;
};

unsigned ktest_rounds_per_hart(unsigned rounds)
{
    uint32_t harts = boot_info->hart_count;
    return harts <= KTEST_FULL_HARTS ? rounds : rounds * KTEST_FULL_HARTS / harts;
}

bool ktest_requested(void)
{
    return cmdline_has("ktest") || cmdline_value("ktest") != NULL;
}

/* `ktest` alone runs everything; `ktest=frames,heap` those suites. */
static bool suite_selected(const char *suite)
{
    const char *list = cmdline_value("ktest");
    if (list == NULL)
        return true;
    size_t len = strlen(suite);
    for (const char *cursor = list; *cursor;) {
        const char *end = cursor;
        while (*end && *end != ',')
            end++;
        if ((size_t)(end - cursor) == len && strncmp(cursor, suite, len) == 0)
            return true;
        cursor = *end ? end + 1 : end;
    }
    return false;
}

static void diagnostic(struct ktest *t, const char *format, va_list args)
{
    char text[200];
    fmt_vsnprintf(text, sizeof(text), format, args);
    log_text("    # %s: %s\n", t->name, text);
}

void ktest_note(struct ktest *t, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    diagnostic(t, format, args);
    va_end(args);
}

static void fail(struct ktest *t, const char *format, ...)
{
    t->failed = true;
    va_list args;
    va_start(args, format);
    diagnostic(t, format, args);
    va_end(args);
}

bool ktest_check(struct ktest *t, bool held, const char *file, int line, const char *expression)
{
    if (!held)
        fail(t, "%s:%d: expected %s", file, line, expression);
    return held;
}

bool ktest_check_eq(struct ktest *t, uint64_t left, uint64_t right, const char *file, int line,
                    const char *left_text, const char *right_text)
{
    if (left != right)
        fail(t, "%s:%d: expected %s == %s, got 0x%lx and 0x%lx", file, line, left_text,
             right_text, left, right);
    return left == right;
}

void ktest_skip(struct ktest *t, const char *reason)
{
    t->skip_reason = reason;
}

static unsigned count_cases(const char *suite)
{
    unsigned count = 0;
    for (const struct ktest_case *c = __ktests_start; c < __ktests_end; c++)
        count += strcmp(c->suite, suite) == 0;
    return count;
}

/* The suites in order of their first case, each once. */
static unsigned list_suites(const char *suites[MAX_SUITES])
{
    unsigned count = 0;
    for (const struct ktest_case *c = __ktests_start; c < __ktests_end; c++) {
        bool known = false;
        for (unsigned i = 0; i < count && !known; i++)
            known = strcmp(suites[i], c->suite) == 0;
        if (!known && suite_selected(c->suite)) {
            if (count == MAX_SUITES)
                kernel_panic("ktest-suites", "more than %d ktest suites", MAX_SUITES);
            suites[count++] = c->suite;
        }
    }
    return count;
}

static bool run_suite(unsigned number, const char *suite, struct totals *totals)
{
    log_text("    KTAP version 1\n    # Subtest: %s\n    1..%u\n", suite, count_cases(suite));
    bool suite_failed = false;
    unsigned index = 0;
    for (const struct ktest_case *c = __ktests_start; c < __ktests_end; c++) {
        if (strcmp(c->suite, suite) != 0)
            continue;
        struct ktest t = {.name = c->name, .failed = false, .skip_reason = NULL};
        c->run(&t);
        index++;
        if (t.failed) {
            log_text("    not ok %u %s\n", index, c->name);
            totals->failed++;
            suite_failed = true;
        } else if (t.skip_reason) {
            log_text("    ok %u %s # SKIP %s\n", index, c->name, t.skip_reason);
            totals->skipped++;
        } else {
            log_text("    ok %u %s\n", index, c->name);
            totals->passed++;
        }
    }
    log_text("%s %u %s\n", suite_failed ? "not ok" : "ok", number, suite);
    return !suite_failed;
}

static bool run_all(void)
{
    const char *suites[MAX_SUITES];
    unsigned suite_count = list_suites(suites);
    struct totals totals = {0, 0, 0};
    log_text("KTAP version 1\n1..%u\n", suite_count);
    for (unsigned i = 0; i < suite_count; i++)
        run_suite(i + 1, suites[i], &totals);
    log_event("kernel", "ktest", "passed=%u failed=%u skipped=%u", totals.passed, totals.failed,
              totals.skipped);
    return totals.failed == 0;
}

void ktest_run_if_asked(void)
{
    if (!ktest_requested())
        return;
    if (run_all())
        kernel_poweroff();
    kernel_poweroff_failed("ktest-failed");
}
