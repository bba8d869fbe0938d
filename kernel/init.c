/*
 * Running the generated init table: each call timed, and with
 * `initcall_debug` on the command line reported in the contract's grammar,
 *
 *     init: call token=heap fn=heap_init hart=0 us=12
 *
 * The first calls run before there is a console or a command line to ask:
 * those are kept (they all run on the boot hart, alone) and reported when
 * init_trace_start() learns whether to.
 */
#include <aubade/log.h>

#include "boot/boot.h"
#include "init.h"

#define EARLY_CALLS 32

enum trace_state {
    TRACE_UNDECIDED,
    TRACE_OFF,
    TRACE_ON,
};

struct early_call {
    unsigned index;
    uint64_t ticks;
};

/* Decided by the boot hart before it starts any other. */
static enum trace_state trace_state;
static struct early_call early_calls[EARLY_CALLS];
static unsigned early_count, early_lost;

/* How long each of the boot hart's calls took, for the shell's `initlist`.
 * Until a hart knows itself (identity), only the boot hart runs. */
#define RECORDED_CALLS 128
static uint64_t boot_hart_ticks[RECORDED_CALLS];

/* The group this hart's calls are in, for the `init: group` trace. */
static _Thread_local const char *current_group;

static void report(unsigned index, uint64_t hart, uint64_t ticks)
{
    log_event("init", "call", "token=%s fn=%s hart=%lu us=%lu", init_tokens[index].token,
              init_tokens[index].function, hart, ticks * 1000000 / timebase_hz);
}

uint64_t init_call_begin(unsigned index)
{
    if (init_tokens[index].group != current_group) {
        current_group = init_tokens[index].group;
        log_debug("init", "group", "name=%s", current_group);
    }
    return read_time();
}

void init_call_end(unsigned index, uint64_t start)
{
    uint64_t ticks = read_time() - start;
    if (index < RECORDED_CALLS && (current_hart == UINT64_MAX || current_hart == boot_info->boot_hart))
        boot_hart_ticks[index] = ticks;
    if (trace_state == TRACE_ON)
        report(index, current_hart, ticks);
    else if (trace_state == TRACE_UNDECIDED && early_count < EARLY_CALLS)
        early_calls[early_count++] = (struct early_call){index, ticks};
    else if (trace_state == TRACE_UNDECIDED)
        early_lost++;
}

void init_trace_start(void)
{
    trace_state = cmdline_has("initcall_debug") ? TRACE_ON : TRACE_OFF;
    if (trace_state == TRACE_OFF)
        return;
    for (unsigned i = 0; i < early_count; i++)
        report(early_calls[i].index, boot_info->boot_hart, early_calls[i].ticks);
    if (early_lost)
        log_warn("init", "untraced", "calls=%u", early_lost);
}

uint64_t init_call_us(unsigned index)
{
    return index < RECORDED_CALLS ? boot_hart_ticks[index] * 1000000 / timebase_hz : 0;
}
