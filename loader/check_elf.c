/*
 * The ELFs the loader carries, checked before anything is copied from them:
 * the build checked them too (tools/aubade/elfcheck.py), but a payload can
 * be corrupted in flash. The rules are lib/elf's; a broken one is a panic
 * whose reason names it.
 */
#include "loader.h"

/* The kernel lives in the upper half, its pages below the last one (so that
 * rounding an end up cannot wrap), and its TLS template must fit the block
 * each hart's slot has for it. */
static const struct elf_rules kernel_rules = {
    .start = DIRECT_MAP_OFFSET,
    .end = 0ul - ELF_PAGE_SIZE,
    .below_start = "elf-lower-half",
    .past_end = "elf-wraps",
    .tls_max = KERNEL_TLS_MAX,
};

static void check(struct elf_image *image, const char *what, const uint8_t *file, uint64_t size,
                  const struct elf_rules *rules)
{
    struct elf_error error;
    if (!elf_parse(image, file, size, rules, &error))
        loader_panic(error.reason, "%s: %s", what, error.detail);
}

void kernel_elf_check(struct elf_image *kernel, const uint8_t *file, uint64_t size)
{
    check(kernel, "kernel", file, size, &kernel_rules);
}

void user_elf_check(struct elf_image *user, const uint8_t *file, uint64_t size)
{
    check(user, "user program", file, size, &elf_user_rules);
}
