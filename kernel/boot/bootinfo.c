/*
 * BootInfo: what the loader learned, handed to kernel_main in a0. Nothing in
 * it is trusted until its header says it comes from a loader of this
 * kernel's revision.
 */
#include "boot/boot.h"
#include "debug/debug.h"

const struct boot_info *boot_info;
const struct boot_info *handed_boot_info;

struct boot_region *boot_info_regions(const struct boot_info *info)
{
    /* Not phys_to_virt(): this runs before boot_info is set. */
    return (struct boot_region *)(uintptr_t)(info->regions_phys + info->direct_map_offset);
}

/* Whether [start, end) lies inside one region of the loader's image. */
static bool in_loader_image(const struct boot_info *info, uint64_t start, uint64_t end)
{
    const struct boot_region *regions = boot_info_regions(info);
    for (uint32_t i = 0; i < info->region_count; i++) {
        const struct boot_region *region = &regions[i];
        if (region->kind == BOOT_REGION_LOADER && start >= region->base &&
            end <= region->base + region->size)
            return true;
    }
    return false;
}

void boot_info_accept(void)
{
    const struct boot_info *info = handed_boot_info;
    /* A loader from another revision would hand over a structure we misread:
     * stop before trusting any field but these. */
    if (info->magic != BOOTINFO_MAGIC || info->version != BOOTINFO_VERSION ||
        info->size != sizeof(*info))
        kernel_panic("bootinfo-mismatch", "BootInfo version %u size %u, this kernel needs %d/%lu",
                     info->version, info->size, BOOTINFO_VERSION, sizeof(*info));
    /* The user program is copied from there before the loader's memory is
     * reclaimed: it must be bytes of the loader image, not anything else. */
    const struct boot_range *user = &info->user_elf;
    if (user->start >= user->end || !in_loader_image(info, user->start, user->end))
        kernel_panic("bootinfo-user-elf",
                     "the user program's ELF at 0x%lx-0x%lx is not inside the loader image",
                     user->start, user->end);
    boot_info = info;
}
