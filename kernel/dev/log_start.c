/*
 * The boot log moves from the firmware's console to the UART the device tree
 * names, with timestamps from the tree's clock and the hart on every line.
 */
#include <aubade/console.h>
#include <aubade/log.h>

#include "boot/boot.h"
#include "debug/debug.h"
#include "dev/dev.h"
#include "mm/mm.h"

static struct console console;
static bool on_firmware_console;

static uint64_t this_hart(void)
{
    return current_hart;
}

void log_start(void)
{
    on_firmware_console = !console_init(&console, &device_tree, device_map);
    log_init(&console, timebase_hz);
    log_set_cpu(this_hart);
}

bool log_on_firmware_console(void)
{
    return on_firmware_console;
}

void log_queue_output(const struct console_queue *queue)
{
    /* Read by console_write under the log lock: a line is either all
     * polled or all queued, and a polled one is out before any queued. */
    __atomic_store_n(&console.queue, queue, __ATOMIC_RELEASE);
}

/* `loglevel=` decides which trace lines reach the console. */
void log_level_from_cmdline(void)
{
    const char *name = cmdline_value("loglevel");
    enum log_level level;
    if (name == NULL)
        return;
    if (!log_level_parse(name, &level))
        kernel_panic("bad-cmdline", "loglevel=%s: use error, warn, info or debug", name);
    log_set_level(level);
}
