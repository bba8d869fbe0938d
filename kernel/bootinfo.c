/*
 * BootInfo: what the loader learned, handed to kernel_main in a0. Nothing in
 * it is trusted until its header says it comes from a loader of this
 * kernel's revision.
 */
#include "kernel.h"

const struct boot_info *boot_info;
const struct boot_info *handed_boot_info;

void boot_info_accept(void)
{
    const struct boot_info *info = handed_boot_info;
    /* A loader from another revision would hand over a structure we misread:
     * stop before trusting any field but these. */
    if (info->magic != BOOTINFO_MAGIC || info->version != BOOTINFO_VERSION ||
        info->size != sizeof(*info))
        kernel_panic("bootinfo-mismatch", "BootInfo version %u size %u, this kernel needs %d/%lu",
                     info->version, info->size, BOOTINFO_VERSION, sizeof(*info));
    boot_info = info;
}
