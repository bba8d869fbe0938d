/*
 * kernel_main: the kernel's boot path, top to bottom. The loader has mapped
 * us, given this hart a stack (sp) and a TLS block (tp), and described the
 * machine in BootInfo.
 *
 * Startup runs in three phases, each with a part every hart does for itself
 * (per CPU) and a part the boot hart does for all while the others wait
 * (global):
 *
 *   Early  per CPU: identity, CPU reset state, RNG stream
 *          global:  device tree, console, clock, command line, boot RNG
 *   Main   global:  frame allocator, heap, devices, virtual memory; then
 *          every hart moves onto the kernel's page tables and the loader's
 *          memory is given back
 *   Late   per CPU: traps, timer, interrupt controller, interrupts on
 */
#include <aubade/console.h>
#include <aubade/cpus.h>
#include <aubade/csr.h>
#include <aubade/log.h>
#include <aubade/sbi.h>

#include "driver.h"
#include "irq.h"
#include "kernel.h"
#include "ktest.h"
#include "timer.h"

const struct boot_info *boot_info;
struct fdt device_tree;
uint64_t timebase_hz;
static struct console console;

/* A loader from another revision would hand over a structure we misread:
 * stop before trusting any field but these. */
static void accept_boot_info(const struct boot_info *info)
{
    if (info->magic != BOOTINFO_MAGIC || info->version != BOOTINFO_VERSION ||
        info->size != sizeof(*info))
        kernel_panic("bootinfo-mismatch", "BootInfo version %u size %u, this kernel needs %d/%lu",
                     info->version, info->size, BOOTINFO_VERSION, sizeof(*info));
    boot_info = info;
}

static uint64_t this_hart(void)
{
    return current_hart;
}

/* Early, per CPU: who this hart is, and its CPU state made known. */
static void early_percpu(uint64_t hart_id)
{
    percpu_init(hart_id);
    cpu_reset_state();
}

/* `loglevel=` decides which trace lines reach the console. */
static void set_log_level(void)
{
    const char *name = cmdline_value("loglevel");
    enum log_level level;
    if (name == NULL)
        return;
    if (!log_level_parse(name, &level))
        kernel_panic("bad-cmdline", "loglevel=%s: use error, warn, info or debug", name);
    log_set_level(level);
}

/* Early, global: the device tree, and from it the console and the clock,
 * never a board address; then the command line and the boot's RNG seed. */
static void early_global(void)
{
    int error = fdt_open(&device_tree, phys_to_virt(boot_info->dtb_phys), boot_info->dtb_size);
    if (error)
        kernel_panic("dtb-invalid", "device tree at 0x%lx: %s", boot_info->dtb_phys,
                     fdt_strerror(error));
    console_init(&console, &device_tree, device_map);
    if (!cpus_timebase_hz(&device_tree, &timebase_hz))
        kernel_panic("dtb-no-timebase", "no timebase-frequency in /cpus or its cpu nodes");
    log_init(&console, timebase_hz);
    log_set_cpu(this_hart);
    random_init(boot_info->rng_seed, boot_info->rng_seed_size);
    random_init_hart(current_hart);
    log_event("kernel", "early", "hart=%lu", current_hart);

    cmdline_init(boot_info->cmdline);
    cmdline_log();
    set_log_level();
}

/* Main, on the boot hart while the others wait: the kernel's own memory
 * management, built from what the loader handed over. */
static void main_global(void)
{
    frames_init(boot_info);
    heap_init();
    vm_init();
    vm_enter();
    devices_enumerate();
}

/* The end of Main: every hart on the kernel's page tables, which may be
 * checked now, then the loader's memory (its image and its page tables)
 * comes back. */
static void leave_loader_memory(void)
{
    smp_announce(PHASE_MAIN);
    smp_await_reports(PHASE_MAIN);
    fault_inject_mapping();
    if (ktest_requested() || cmdline_has("debug"))
        vm_check();
    struct reclaimed reclaimed = frames_reclaim_loader();
    log_event("kernel", "reclaim", "bytes=0x%lx ranges=%u", reclaimed.bytes, reclaimed.ranges);
    log_event("kernel", "frames", "free=0x%lx allocated=0x%lx total=0x%lx", frames_free_bytes(),
              frames_allocated_bytes(), frames_total_bytes());
    frames_log_regions();
}

/* Late, per CPU: this hart takes traps and interrupts. */
static void late_percpu(void)
{
    csr_set(sie, SIE_SSIE);
    timer_start_hart();
    irq_start_hart();
    csr_set(sstatus, SSTATUS_SIE);
    log_event("kernel", "late", "hart=%lu", current_hart);
    smp_report(PHASE_LATE);
}

static noreturn void idle(void)
{
    for (;;)
        asm volatile("wfi");
}

noreturn void kernel_main(const struct boot_info *info)
{
    accept_boot_info(info);
    early_percpu(info->boot_hart);
    early_global();
    smp_start_secondaries();
    fault_prepare();

    main_global();
    leave_loader_memory();

    smp_announce(PHASE_LATE);
    late_percpu();
    smp_await_reports(PHASE_LATE);

    fault_inject_here();
    if (ktest_requested())
        ktest_run() ? kernel_poweroff() : kernel_poweroff_failed("ktest-failed");
    if (cmdline_has("poweroff"))
        kernel_poweroff();
    idle();
}

noreturn void secondary_main(uint64_t hart_id)
{
    early_percpu(hart_id);
    /* Too late to be let in, and running on the loader's page tables, which
     * are about to be reclaimed: back to the firmware. */
    if (!smp_arrive()) {
        sbi_hart_stop();
        idle();
    }
    random_init_hart(hart_id);
    log_event("kernel", "early", "hart=%lu", current_hart);
    smp_report_online();

    smp_await(PHASE_MAIN);
    vm_enter();
    smp_report(PHASE_MAIN);

    smp_await(PHASE_LATE);
    late_percpu();

    fault_inject_here();
    idle();
}
