#include <aubade/log.h>
#include <aubade/poweroff.h>
#include <stdarg.h>

#include "loader.h"

static const struct fdt *panic_dt;

void panic_set_device_tree(const struct fdt *dt)
{
    panic_dt = dt;
}

void loader_panic(const char *reason, const char *detail, ...)
{
    log_event("loader", "panic", "reason=%s", reason);
    va_list args;
    va_start(args, detail);
    log_vdetail(detail, args);
    va_end(args);
    machine_poweroff("loader", poweroff_finisher(panic_dt, mmio_identity), false);
}
