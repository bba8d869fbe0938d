/*
 * The device tree the loader passed on: the one description of the machine.
 * No board address is known to the kernel; everything comes from here.
 */
#include <aubade/cpus.h>

#include "kernel.h"

struct fdt device_tree;
uint64_t timebase_hz;

void devicetree_open(void)
{
    int error = fdt_open(&device_tree, phys_to_virt(boot_info->dtb_phys), boot_info->dtb_size);
    if (error)
        kernel_panic("dtb-invalid", "device tree at 0x%lx: %s", boot_info->dtb_phys,
                     fdt_strerror(error));
}

void clock_init(void)
{
    if (!cpus_timebase_hz(&device_tree, &timebase_hz))
        kernel_panic("dtb-no-timebase", "no timebase-frequency in /cpus or its cpu nodes");
}
