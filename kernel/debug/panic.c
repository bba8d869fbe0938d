/*
 * Stopping the machine: an orderly power-off, or a panic that always ends in
 * one complete report and a power-off with failure status.
 *
 * The first hart to panic owns the report (panic_begin):
 *  1. It stops the other harts: an IPI for a hart that takes interrupts, and
 *     for one spinning with interrupts off, the owner itself, which every
 *     spin loop looks at (panic_stop_if_panicking).
 *  2. It waits for them a moment, STOP_WAIT_MS at most: a hart spinning
 *     where it looks at nothing is not waited for.
 *  3. It takes the console over, from a hart that still holds it after
 *     LOG_PATIENCE_MS too: that hart may never let go.
 *  4. It prints the report, names the harts that did not stop, and powers
 *     off (panic_end) through a device found at boot, so that nothing is
 *     mapped, and no lock taken, on the way out.
 * A hart that panics meanwhile prints nothing and stops; the report names it.
 *
 * Every panic, whatever its form, first passes panic_breakpoint() on the
 * hart that panics, before step 1: the one place a debugger breaks to catch
 * them all while the other harts still run and the machine is still on.
 *
 * An orderly power-off takes the machine's end the same way (steps 1 to 3)
 * before it says `kernel: poweroff`: should every way of powering off fail
 * (lib/poweroff.c), the machine halts with every hart stopped, not one
 * hart halted while the others run on and take it for locked up.
 */
#include <aubade/csr.h>
#include <aubade/fmt.h>
#include <aubade/log.h>
#include <aubade/poweroff.h>
#include <aubade/sbi.h>
#include <stdarg.h>

#include "boot/boot.h" /* up: a report names the hart and the tree */
#include "debug/debug.h"
#include "mm/mm.h" /* up: maps the device that powers off */
#include "smp/smp.h" /* up: stops the other harts */

#define STOP_WAIT_MS 500
#define LOG_PATIENCE_MS 500

/* The hart that owns the report: its index in BootInfo's list + 1; 0 while
 * no hart has panicked. */
static uint32_t owner;

enum stop_state { RUNNING, STOPPED, PANICKED };
static uint32_t stop_states[BOOTINFO_MAX_HARTS];
/* Where each stopped hart was: the spin loop that saw the owner, or the
 * handler of the owner's IPI. */
static uintptr_t stopped_at[BOOTINFO_MAX_HARTS];

/* The "sifive,test0" finisher, found while the device tree was opened. */
static uintptr_t finisher;

static uint32_t my_index(void)
{
    /* Before a hart knows itself, only the boot hart runs. */
    return this_percpu ? (uint32_t)(this_percpu - boot_info->harts) : 0;
}

bool panic_in_progress(void)
{
    return __atomic_load_n(&owner, __ATOMIC_ACQUIRE) != 0;
}

static noreturn void stop(enum stop_state why, uintptr_t where)
{
    interrupts_disable();
    stopped_at[my_index()] = where;
    __atomic_store_n(&stop_states[my_index()], why, __ATOMIC_RELEASE);
    /* wfi wakes on any pending interrupt, masked or not: sleep again. The
     * power-off ends it. */
    for (;;)
        asm volatile("wfi");
}

void panic_stop_if_panicking(void)
{
    uint32_t reporter = __atomic_load_n(&owner, __ATOMIC_ACQUIRE);
    if (reporter && reporter != my_index() + 1)
        stop(STOPPED, (uintptr_t)__builtin_return_address(0));
}

static uint64_t time_of_ms(uint64_t ms)
{
    return timebase_hz * ms / 1000;
}

static bool online_other(uint32_t index)
{
    return boot_info && index != my_index() && smp_is_online(boot_info->harts[index].hart_id);
}

static bool all_others_stopped(void)
{
    for (uint32_t i = 0; boot_info && i < boot_info->hart_count; i++)
        if (online_other(i) && __atomic_load_n(&stop_states[i], __ATOMIC_ACQUIRE) == RUNNING)
            return false;
    return true;
}

/* It does nothing, and exists so that a debugger can break on it
 * (`break panic_breakpoint`): every panic calls it once, with the reason its
 * report gives, before anything stops. noipa keeps it a real call GCC can
 * neither inline, clone nor drop, and the asm keeps `reason` in a0 for the
 * debugger to read. */
__attribute__((noipa)) void panic_breakpoint(const char *reason)
{
    asm volatile("" ::"r"(reason) : "memory");
}

/* Steps 1 to 3, for a panic and for the orderly power-off alike. */
static void take_the_end(void)
{
    interrupts_disable();
    uint32_t expected = 0;
    if (!__atomic_compare_exchange_n(&owner, &expected, my_index() + 1, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        /* A fault in this hart's own report: it is as complete as it got.
         * Another hart's panic: that hart reports, this one stops and is
         * named in the report's last line. */
        if (expected == my_index() + 1)
            machine_poweroff(NULL, finisher, false);
        stop(PANICKED, (uintptr_t)__builtin_return_address(0));
    }
    for (uint32_t i = 0; boot_info && i < boot_info->hart_count; i++)
        if (online_other(i))
            sbi_send_ipi(boot_info->harts[i].hart_id);
    uint64_t give_up = read_time() + time_of_ms(STOP_WAIT_MS);
    while (!all_others_stopped() && read_time() < give_up)
        ;
    log_take_over(time_of_ms(LOG_PATIENCE_MS));
}

void panic_begin(const char *reason)
{
    interrupts_disable();
    panic_breakpoint(reason);
    take_the_end();
}

/* The harts in `state`, as a list for the report's last line. */
static void list_harts(char *text, size_t size, enum stop_state state)
{
    static uint64_t ids[BOOTINFO_MAX_HARTS]; /* only the panic's owner gets here */
    uint32_t count = 0;
    for (uint32_t i = 0; boot_info && i < boot_info->hart_count; i++)
        if (online_other(i) && __atomic_load_n(&stop_states[i], __ATOMIC_ACQUIRE) == state)
            ids[count++] = boot_info->harts[i].hart_id;
    if (count == 0)
        fmt_snprintf(text, size, "none");
    else
        fmt_id_list(text, size, ids, count);
}

/* One line a stopped hart: where it was when it saw the owner. */
static void log_where_stopped(void)
{
    for (uint32_t i = 0; boot_info && i < boot_info->hart_count; i++) {
        if (!online_other(i) || __atomic_load_n(&stop_states[i], __ATOMIC_ACQUIRE) != STOPPED)
            continue;
        char where[SYMBOL_TEXT_SIZE];
        symbol_describe(where, sizeof(where), stopped_at[i]);
        log_text("  hart %lu stopped in %s\n", boot_info->harts[i].hart_id, where);
    }
}

void panic_end(void)
{
    log_where_stopped();
    /* Static: at BOOTINFO_MAX_HARTS they would take 8 KiB of a stack that
     * may be the 4 KiB trap stack. Only the panic's owner gets here. */
    static char stopped[BOOTINFO_MAX_HARTS * 21], panicked[sizeof(stopped)],
        running[sizeof(stopped)];
    list_harts(stopped, sizeof(stopped), STOPPED);
    list_harts(panicked, sizeof(panicked), PANICKED);
    list_harts(running, sizeof(running), RUNNING);
    log_text("  other harts: stopped %s; panicked too %s; did not stop %s\n", stopped, panicked,
             running);
    machine_poweroff("kernel", finisher, false);
}

void kernel_panic(const char *reason, const char *detail, ...)
{
    panic_begin(reason);
    log_event("kernel", "panic", "reason=%s hart=%lu", reason, current_hart);
    va_list args;
    va_start(args, detail);
    log_vdetail(detail, args);
    va_end(args);
    /* From here: frame 0 is kernel_panic, frame 1 the code that called it. */
    backtrace_log((uintptr_t)kernel_panic, (uintptr_t)__builtin_frame_address(0),
                  (uintptr_t)__builtin_return_address(0));
    panic_end();
}

void poweroff_prepare(void)
{
    finisher = poweroff_finisher(&device_tree, device_map);
}

static noreturn void power_off(const char *status, bool success)
{
    take_the_end(); /* steps 1 to 3: the machine's end is this hart's */
    log_event("kernel", "poweroff", "status=%s", status);
    machine_poweroff("kernel", finisher, success);
}

void kernel_poweroff(void)
{
    power_off("ok", true);
}

void kernel_poweroff_failed(const char *status)
{
    power_off(status, false);
}

void poweroff_if_asked(void)
{
    if (cmdline_has("poweroff"))
        kernel_poweroff();
}
