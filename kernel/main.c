/*
 * kernel_main: the kernel's boot path, top to bottom. The loader has mapped
 * us, given this hart a stack (sp) and a TLS block (tp), and described the
 * machine in BootInfo.
 */
#include <aubade/console.h>
#include <aubade/cpus.h>
#include <aubade/log.h>

#include "kernel.h"

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

/* Early: this hart's identity, stack and TLS (per CPU), then the device
 * tree, the console and the clock (global), found from the device tree,
 * never from a board address. Then the other harts do their Early part. */
static void early(void)
{
    percpu_init(boot_info->boot_hart);
    int error = fdt_open(&device_tree, phys_to_virt(boot_info->dtb_phys), boot_info->dtb_size);
    if (error)
        kernel_panic("dtb-invalid", "device tree at 0x%lx: %s", boot_info->dtb_phys,
                     fdt_strerror(error));
    console_init(&console, &device_tree, device_map);
    if (!cpus_timebase_hz(&device_tree, &timebase_hz))
        kernel_panic("dtb-no-timebase", "no timebase-frequency in /cpus or its cpu nodes");
    log_init(&console, timebase_hz);
    log_event("kernel", "early", "hart=%lu", current_hart);

    cmdline_init(boot_info->cmdline);
    cmdline_log();
    smp_start_secondaries();
    fault_prepare();
}

/* Main, on the boot hart while the others wait: the loader's identity map
 * goes, then its memory comes back. */
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
    smp_release_secondaries();

    fault_inject_here();
    if (cmdline_has("poweroff"))
        kernel_poweroff();

    /* Nothing to schedule yet: the boot hart idles like the others. */
    for (;;)
        asm volatile("wfi");
}
