/*
 * kernel_main: the kernel's boot path, top to bottom. The loader has mapped
 * us, given this hart a stack (sp) and a TLS block (tp), and described the
 * machine in BootInfo.
 */
#include <aubade/console.h>
#include <aubade/cpus.h>
#include <aubade/log.h>

#include "kernel.h"

/* Starts as HART_UNKNOWN in the TLS template (.tdata), so that seeing that
 * value in early() proves the loader copied the template into our block. */
#define HART_UNKNOWN UINT64_MAX
_Thread_local uint64_t current_hart = HART_UNKNOWN;
const struct boot_info *boot_info;
struct fdt device_tree;
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

/* Early: this hart's identity, then the device tree, the console and the
 * clock, found from the device tree, never from a board address. */
static void early(void)
{
    if (current_hart != HART_UNKNOWN)
        kernel_panic("tls-template", "this hart's TLS block is not a copy of the template");
    current_hart = boot_info->boot_hart;
    int error = fdt_open(&device_tree, phys_to_virt(boot_info->dtb_phys), boot_info->dtb_size);
    if (error)
        kernel_panic("dtb-invalid", "device tree at 0x%lx: %s", boot_info->dtb_phys,
                     fdt_strerror(error));
    console_init(&console, &device_tree, device_map);
    uint64_t timebase_hz;
    if (!cpus_timebase_hz(&device_tree, &timebase_hz))
        kernel_panic("dtb-no-timebase", "no timebase-frequency in /cpus or its cpu nodes");
    log_init(&console, timebase_hz);
    log_event("kernel", "early", "hart=%lu", current_hart);

    cmdline_init(boot_info->cmdline);
    cmdline_log();
}

/* Main: the loader's identity map goes, then its memory comes back. */
static void main_phase(void)
{
    unmap_lower_half();
    struct reclaimed reclaimed = frames_init(boot_info);
    log_event("kernel", "reclaim", "bytes=0x%lx ranges=%u", reclaimed.bytes, reclaimed.ranges);
    log_event("kernel", "frames", "free=0x%lx total=0x%lx", frames_free_bytes(),
              frames_total_bytes());
    frames_log_regions();
}

noreturn void kernel_main(const struct boot_info *info)
{
    accept_boot_info(info);
    early();
    main_phase();

    fault_inject(cmdline_value("fault"));
    if (cmdline_has("poweroff"))
        kernel_poweroff();

    /* Nothing to schedule yet: the boot hart idles. */
    for (;;)
        asm volatile("wfi");
}
