/*
 * In-kernel unit tests. A test case is a function declared with
 *
 *     KTEST(suite, case)
 *     {
 *         KTEST_EXPECT(t, frames_alloc(PAGE, PAGE) != 0);
 *     }
 *
 * in any file under kernel/ktest/. The macro puts a descriptor in the
 * .ktests section; with `ktest` (or `ktest=suite,suite`) on the command line
 * the boot hart runs every case after Late and reports in KTAP version 1.
 * tests/test_ktest.py finds the cases by the same macro in the sources and
 * turns each into a pytest result.
 */
#ifndef KERNEL_KTEST_H
#define KERNEL_KTEST_H

#include <stdbool.h>
#include <stdint.h>

/* One running case: what it has found so far. */
struct ktest {
    const char *name;
    bool failed;
    const char *skip_reason;
};

struct ktest_case {
    const char *suite;
    const char *name;
    void (*run)(struct ktest *t);
};

/* no_reorder keeps the cases in source order, which the report follows. */
#define KTEST(suite, case)                                                                    \
    static void ktest_##suite##_##case(struct ktest *t);                                      \
    static const struct ktest_case ktest_case_##suite##_##case                                \
        __attribute__((used, no_reorder, section(".ktests"), aligned(8))) = {                \
            #suite, #case, ktest_##suite##_##case};                                           \
    static void ktest_##suite##_##case(struct ktest *t)

/* Each records a failure with a diagnostic and returns whether it held. */
bool ktest_check(struct ktest *t, bool held, const char *file, int line, const char *expression);
bool ktest_check_eq(struct ktest *t, uint64_t left, uint64_t right, const char *file, int line,
                    const char *left_text, const char *right_text);

#define KTEST_EXPECT(t, condition) ktest_check(t, (condition), __FILE__, __LINE__, #condition)
#define KTEST_EXPECT_EQ(t, left, right)                                                       \
    ktest_check_eq(t, (uint64_t)(left), (uint64_t)(right), __FILE__, __LINE__, #left, #right)
/* The ASSERT forms end the case when they fail: what follows needs them. */
#define KTEST_ASSERT(t, condition)                                                            \
    do {                                                                                      \
        if (!KTEST_EXPECT(t, condition))                                                      \
            return;                                                                           \
    } while (0)
#define KTEST_ASSERT_EQ(t, left, right)                                                       \
    do {                                                                                      \
        if (!KTEST_EXPECT_EQ(t, left, right))                                                 \
            return;                                                                           \
    } while (0)

/* A diagnostic line under the case, printed whether it passes or not. */
__attribute__((format(printf, 2, 3))) void ktest_note(struct ktest *t, const char *format, ...);
/* The case cannot run here (say why); it is reported as skipped. */
void ktest_skip(struct ktest *t, const char *reason);

/* How many rounds each hart runs in a case that runs every hart at once
 * with interrupts off (smp_call_everywhere): `rounds` on up to
 * KTEST_FULL_HARTS harts, and beyond, the same total shared out. Each
 * hart's share is work with interrupts off, and on a host with fewer cores
 * than harts the harts' shares are run one after another: at 2000 rounds
 * each, 128 vCPUs on two cores kept a hart without a tick for over 10 s,
 * which the lockup watch rightly reports. */
#define KTEST_FULL_HARTS 8
unsigned ktest_rounds_per_hart(unsigned rounds);

/* `ktest` or `ktest=suite,...` is on the command line. */
bool ktest_requested(void);
/* With `ktest` on the command line: runs the cases it selects, then powers
 * off, with status ktest-failed if any failed. */
void ktest_run_if_asked(void);

#endif
