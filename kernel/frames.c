/*
 * The physical frame allocator. It keeps the memory map the loader handed
 * over and allocates by claiming free regions of it, first fit, so its cost
 * grows with the number of regions, not of pages. The loader's own memory
 * becomes free here; the kernel image, the device tree, reserved ranges and
 * the page tables we run on keep their kinds and are never handed out.
 */
#include <aubade/log.h>
#include <aubade/memmap.h>
#include <aubade/spinlock.h>
#include <aubade/string.h>

#include "kernel.h"

static struct memmap physical;
static struct spinlock physical_lock; /* every hart allocates */

void frames_init(const struct boot_info *info)
{
    if (info->region_count > BOOTINFO_MAX_REGIONS)
        kernel_panic("bootinfo-regions", "%u memory regions, at most %d", info->region_count,
                     BOOTINFO_MAX_REGIONS);
    physical.count = info->region_count;
    memcpy(physical.regions, info->regions, info->region_count * sizeof(info->regions[0]));
}

struct reclaimed frames_reclaim_loader(void)
{
    struct reclaimed reclaimed = {0, 0};
    spin_lock(&physical_lock);
    for (uint32_t i = 0; i < physical.count; i++) {
        uint32_t kind = physical.regions[i].kind;
        if (kind == BOOT_REGION_LOADER || kind == BOOT_REGION_PAGETABLES) {
            reclaimed.bytes += physical.regions[i].size;
            reclaimed.ranges++;
        }
    }
    memmap_convert(&physical, 0, UINT64_MAX, BOOT_REGION_LOADER, BOOT_REGION_USABLE);
    memmap_convert(&physical, 0, UINT64_MAX, BOOT_REGION_PAGETABLES, BOOT_REGION_USABLE);
    spin_unlock(&physical_lock);
    return reclaimed;
}

uint64_t frames_alloc(uint64_t size, uint64_t align)
{
    spin_lock(&physical_lock);
    uint64_t phys = memmap_alloc(&physical, size, align, BOOT_REGION_ALLOCATED);
    spin_unlock(&physical_lock);
    return phys;
}

void frames_free(uint64_t phys, uint64_t size)
{
    spin_lock(&physical_lock);
    memmap_convert(&physical, phys, size, BOOT_REGION_ALLOCATED, BOOT_REGION_USABLE);
    spin_unlock(&physical_lock);
}

uint64_t frames_free_bytes(void)
{
    spin_lock(&physical_lock);
    uint64_t bytes = memmap_bytes(&physical, BOOT_REGION_USABLE);
    spin_unlock(&physical_lock);
    return bytes;
}

uint64_t frames_total_bytes(void)
{
    uint64_t total = 0;
    for (uint32_t i = 0; i < physical.count; i++)
        if (physical.regions[i].kind != BOOT_REGION_RESERVED)
            total += physical.regions[i].size;
    return total;
}

void frames_log_regions(void)
{
    for (uint32_t i = 0; i < physical.count; i++) {
        const struct boot_region *region = &physical.regions[i];
        log_event("kernel", "region", "range=0x%lx-0x%lx kind=%s", region->base,
                  region->base + region->size, boot_region_kind_name(region->kind));
    }
}
