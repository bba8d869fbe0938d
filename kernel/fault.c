/* fault=NAME on the command line makes the kernel fail on purpose, so that
 * the tests can see each fault path report and power off. */
#include <aubade/string.h>

#include "kernel.h"

void fault_inject(const char *fault)
{
    if (fault == NULL)
        return;
    if (strcmp(fault, "null") == 0) {
        /* Through a volatile, so the compiler emits the load it would
         * otherwise be free to drop. */
        volatile uintptr_t address = 0;
        (void)*(volatile uint64_t *)address;
    }
    kernel_panic("bad-cmdline", "fault=%s is not a known fault; known: null", fault);
}
