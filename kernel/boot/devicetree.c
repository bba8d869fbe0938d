/*
 * The device tree the loader passed on: the one description of the machine.
 * No board address is known to the kernel; everything comes from here.
 */
#include <aubade/cpus.h>

#include "boot/boot.h"
#include "debug/debug.h"

struct fdt device_tree;

void devicetree_open(void)
{
    int error = fdt_open(&device_tree, phys_to_virt(boot_info->dtb_phys), boot_info->dtb_size);
    if (error)
        kernel_panic("dtb-invalid", "device tree at 0x%lx: %s", boot_info->dtb_phys,
                     fdt_strerror(error));
}
