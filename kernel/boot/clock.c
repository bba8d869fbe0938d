/*
 * The clock every hart's time CSR counts: its rate from the device tree's
 * /cpus, and conversions from microseconds into its units.
 */
#include <aubade/cpus.h>

#include "boot/boot.h"
#include "debug/debug.h"

#define US_PER_SECOND 1000000

uint64_t timebase_hz;

void clock_init(void)
{
    if (!cpus_timebase_hz(&device_tree, &timebase_hz))
        kernel_panic("dtb-no-timebase", "no timebase-frequency in /cpus or its cpu nodes");
}

uint64_t clock_us_to_ticks(uint64_t us, uint64_t hz)
{
    /* us * hz / 10^6 rounded up, in 64-bit steps (a 128-bit division would
     * need libgcc): with us = q 10^6 + r and hz = a 10^6 + b, it is
     * q hz + r a + r b / 10^6, where only the last term has a fraction and
     * r b < 10^12 cannot overflow. Any other step that overflows means the
     * count does not fit. */
    uint64_t q = us / US_PER_SECOND, r = us % US_PER_SECOND;
    uint64_t a = hz / US_PER_SECOND, b = hz % US_PER_SECOND;
    uint64_t whole, part, ticks;
    if (__builtin_mul_overflow(q, hz, &whole) || __builtin_mul_overflow(r, a, &part) ||
        __builtin_add_overflow(whole, part, &ticks) ||
        __builtin_add_overflow(ticks, (r * b + US_PER_SECOND - 1) / US_PER_SECOND, &ticks))
        return UINT64_MAX;
    return ticks;
}

uint64_t clock_deadline_after(uint64_t now, uint64_t us)
{
    uint64_t deadline;
    if (__builtin_add_overflow(now, clock_us_to_ticks(us, timebase_hz), &deadline))
        return UINT64_MAX;
    return deadline;
}
