#include <aubade/fmt.h>
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
    char text[200];
    va_list args;
    va_start(args, detail);
    fmt_vsnprintf(text, sizeof(text), detail, args);
    va_end(args);
    log_event("loader", "panic", "reason=%s", reason);
    log_text("loader: %s\n", text);
    machine_poweroff(panic_dt, mmio_identity, false);
}
