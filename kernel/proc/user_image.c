/*
 * The first user program (user_image.h). The loader checked it in place and
 * BootInfo says where its bytes are; those bytes are in the loader's image,
 * which frames_reclaim_loader() gives back, so they are copied first. The
 * copy is checked again: the rules are the ones every process's program must
 * follow, and the kernel trusts only what it checked itself.
 */
#include "boot/boot.h"
#include "debug/debug.h"
#include "mm/mm.h"
#include "proc/proc.h"

#include <aubade/log.h>
#include <aubade/string.h>


static struct elf_image image;

void user_image_init(void)
{
    const struct boot_range *bytes = &boot_info->user_elf;
    uint64_t size = bytes->end - bytes->start; /* non-empty: boot_info_accept() saw to it */
    uint64_t phys = frames_alloc(size, SV39_PAGE_SIZE);
    if (phys == 0)
        kernel_panic("out-of-memory", "no 0x%lx bytes for the user program's ELF", size);
    uint8_t *copy = phys_to_virt(phys);
    memcpy(copy, phys_to_virt(bytes->start), size);

    struct elf_error error;
    if (!elf_parse(&image, copy, size, &elf_user_rules, &error))
        kernel_panic(error.reason, "user program: %s", error.detail);
    log_event("kernel", "program", "entry=0x%lx segments=%u bytes=0x%lx", image.entry,
              image.segment_count, image.size);
}

const struct elf_image *user_image(void)
{
    return &image;
}
