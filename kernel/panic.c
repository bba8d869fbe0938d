#include <aubade/log.h>
#include <aubade/poweroff.h>
#include <stdarg.h>

#include "kernel.h"

void kernel_panic(const char *reason, const char *detail, ...)
{
    log_event("kernel", "panic", "reason=%s hart=%lu", reason, current_hart);
    va_list args;
    va_start(args, detail);
    log_vdetail(detail, args);
    va_end(args);
    /* From here: frame 0 is kernel_panic, frame 1 the code that called it. */
    backtrace_log((uintptr_t)kernel_panic, (uintptr_t)__builtin_frame_address(0),
                  (uintptr_t)__builtin_return_address(0));
    kernel_halt_failed();
}

/* Before BootInfo is checked there is no device tree to find devices in. */
static const struct fdt *known_device_tree(void)
{
    return device_tree.blob ? &device_tree : NULL;
}

void kernel_halt_failed(void)
{
    machine_poweroff(known_device_tree(), device_map, false);
}

void kernel_poweroff(void)
{
    log_event("kernel", "poweroff", "status=ok");
    machine_poweroff(known_device_tree(), device_map, true);
}

void kernel_poweroff_failed(const char *status)
{
    log_event("kernel", "poweroff", "status=%s", status);
    kernel_halt_failed();
}

void poweroff_if_asked(void)
{
    if (cmdline_has("poweroff"))
        kernel_poweroff();
}
