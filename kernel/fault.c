/*
 * fault=NAME on the command line makes the kernel fail on purpose, so that
 * the tests can see each fault path report and power off:
 *
 *   null            the boot hart loads from address 0
 *   wx              the boot hart stores into its own text
 *   stack-overflow  one secondary hart (the boot hart if it is alone)
 *                   recurses until it runs into its stack's guard page
 *   heap-overflow   the boot hart writes past the end of a 24-byte heap
 *                   object and frees it (caught with `scons debug=1`)
 *   heap-double-free  the boot hart frees a heap object twice (likewise)
 */
#include <aubade/string.h>

#include "kernel.h"

enum fault {
    FAULT_NONE,
    FAULT_NULL,
    FAULT_WX,
    FAULT_STACK_OVERFLOW,
    FAULT_HEAP_OVERFLOW,
    FAULT_HEAP_DOUBLE_FREE,
};

static const char *const fault_names[] = {
    [FAULT_NULL] = "null",
    [FAULT_WX] = "wx",
    [FAULT_STACK_OVERFLOW] = "stack-overflow",
    [FAULT_HEAP_OVERFLOW] = "heap-overflow",
    [FAULT_HEAP_DOUBLE_FREE] = "heap-double-free",
};

static enum fault requested;
static uint64_t faulting_hart;

void fault_prepare(void)
{
    const char *name = cmdline_value("fault");
    if (name == NULL)
        return;
    for (enum fault f = FAULT_NULL; f <= FAULT_HEAP_DOUBLE_FREE; f++)
        if (strcmp(name, fault_names[f]) == 0)
            requested = f;
    if (requested == FAULT_NONE)
        kernel_panic("bad-cmdline", "fault=%s is not a known fault; known: null, wx, "
                                    "stack-overflow, heap-overflow, heap-double-free", name);
    faulting_hart = requested == FAULT_STACK_OVERFLOW ? smp_last_secondary() : current_hart;
}

/* Deep enough to pass any stack; the volatile frame and the work after the
 * call keep the compiler from turning the recursion into a loop. */
static uint64_t recurse(uint64_t depth)
{
    volatile uint8_t frame[256];
    frame[depth % sizeof(frame)] = (uint8_t)depth;
    if (depth == UINT64_MAX)
        return 0;
    return recurse(depth + 1) + frame[depth % sizeof(frame)];
}

void fault_inject_here(void)
{
    if (requested == FAULT_NONE || current_hart != faulting_hart)
        return;
    /* Addresses go through volatiles, so the compiler emits the access it
     * could otherwise prove wrong and drop. */
    volatile uintptr_t address = 0;
    uint8_t *object;
    switch (requested) {
    case FAULT_NULL:
        (void)*(volatile uint64_t *)address;
        break;
    case FAULT_WX:
        address = (uintptr_t)fault_inject_here;
        *(volatile uint32_t *)address = 0;
        break;
    case FAULT_STACK_OVERFLOW:
        recurse(0);
        break;
    case FAULT_HEAP_OVERFLOW:
        /* 0: the redzone's canary has no zero byte, so this always shows. */
        object = kmalloc(24);
        address = (uintptr_t)object + 24;
        *(volatile uint8_t *)address = 0;
        kfree(object);
        break;
    case FAULT_HEAP_DOUBLE_FREE:
        object = kmalloc(24);
        kfree(object);
        kfree(object);
        break;
    case FAULT_NONE:
        break;
    }
    kernel_panic("fault-missed", "fault=%s did not fault", fault_names[requested]);
}
