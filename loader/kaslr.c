/*
 * KASLR: where the kernel's image and the harts' stacks and TLS blocks go
 * in the kernel's half, chosen afresh each boot, so that an exploit cannot
 * know the address of a function, a stack or a per-hart variable.
 *
 * What moves, and how far:
 *
 *   kernel image  up from its link address, as far as the last page of the
 *                 address space (2 GiB for the link at 0xffffffff80000000),
 *                 in steps of a page;
 *   per-hart area anywhere in its 32 GiB window (PERCPU_WINDOW_SIZE), in
 *                 steps of a page: the slots keep their order and guards.
 *
 * The direct map does not move: it spans 128 GiB of Sv39's 256 GiB upper
 * half, leaving no room to slide it by more than a bit or two. The heap is
 * in the direct map, its addresses are those of the frames it gets.
 *
 * The randomness comes from the device tree: /chosen/kaslr-seed (Linux's
 * binding, 8 bytes that firmware or U-Boot fills), else /chosen/rng-seed
 * (QEMU's virt gives 32 fresh bytes each boot). SHA-256 of the seed under a
 * label of its own gives the two offsets, so the kernel's random generator,
 * which BootInfo hands the same rng-seed, produces nothing that reveals them.
 * With neither, or `nokaslr` on the command line, the kernel stays at its
 * link address and the log says why. `kaslr.slide=0x...` forces the kernel's
 * slide: to reproduce a crash at the address a report names, and for the
 * tests that boot at the smallest and largest slides.
 */
#include <aubade/log.h>
#include <aubade/sha2.h>
#include <aubade/string.h>

#include "loader.h"

/* Whether `word` is a word of the command line, and its value if it is a
 * `word=value`: *value points after the '=', up to the next blank. */
static bool cmdline_find(const char *line, const char *word, const char **value)
{
    size_t length = strlen(word);
    for (const char *cursor = line; cursor && *cursor;) {
        while (*cursor == ' ' || *cursor == '\t')
            cursor++;
        if (strncmp(cursor, word, length) == 0) {
            char after = cursor[length];
            if (after == '\0' || after == ' ' || after == '\t') {
                *value = NULL;
                return true;
            }
            if (after == '=') {
                *value = cursor + length + 1;
                return true;
            }
        }
        while (*cursor && *cursor != ' ' && *cursor != '\t')
            cursor++;
    }
    return false;
}

/* A 0x-prefixed hexadecimal number up to the next blank, or false. */
static bool parse_hex(const char *text, uint64_t *number)
{
    if (text == NULL || text[0] != '0' || (text[1] != 'x' && text[1] != 'X'))
        return false;
    uint64_t result = 0;
    const char *digit = text + 2;
    for (; *digit && *digit != ' ' && *digit != '\t'; digit++) {
        char c = *digit;
        unsigned value = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                         : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                         : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                                : 16;
        if (value == 16 || result >> 60)
            return false;
        result = result << 4 | value;
    }
    *number = result;
    return digit > text + 2;
}

/* The number of whole bits in a choice among `choices` equally likely ones. */
static unsigned entropy_bits(uint64_t choices)
{
    unsigned bits = 0;
    while (choices >>= 1)
        bits++;
    return bits;
}

/* The kernel's slides are whole pages, which keeps every alignment it has
 * (lib/elf: page-aligned segments, a TLS alignment of a page at most), from
 * 0 to the one that puts its last page just below the address space's last
 * (which lib/elf keeps free, so that rounding an end up cannot wrap). */
static uint64_t kernel_choices(const struct elf_image *kernel)
{
    return ((0ul - ELF_PAGE_SIZE) - kernel->virt_end) / ELF_PAGE_SIZE + 1;
}

/* Room for the most harts there can be: chosen before the harts are read,
 * the base is known when the kernel is mapped and the log says both at once.
 * It costs nothing measurable: 128 slots are 128 MiB of the 32 GiB. */
static uint64_t percpu_choices(void)
{
    return (PERCPU_WINDOW_SIZE - BOOTINFO_MAX_HARTS * PERCPU_SLOT_SIZE) / SV39_PAGE_SIZE + 1;
}

static void from_seed(struct kaslr *kaslr, const struct elf_image *kernel, const uint8_t *seed,
                      uint32_t seed_size)
{
    static const char label[] = "aubade kaslr";
    struct sha256 hash;
    uint8_t digest[SHA256_DIGEST_SIZE];
    sha256_init(&hash);
    sha256_update(&hash, label, sizeof(label));
    sha256_update(&hash, seed, seed_size);
    sha256_final(&hash, digest);
    uint64_t random[2];
    memcpy(random, digest, sizeof(random));

    kaslr->slide = random[0] % kernel_choices(kernel) * ELF_PAGE_SIZE;
    kaslr->percpu_base = PERCPU_BASE + random[1] % percpu_choices() * SV39_PAGE_SIZE;
    kaslr->kernel_bits = entropy_bits(kernel_choices(kernel));
    kaslr->percpu_bits = entropy_bits(percpu_choices());
}

void kaslr_choose(struct kaslr *kaslr, const struct machine *machine,
                  const struct elf_image *kernel)
{
    *kaslr = (struct kaslr){.percpu_base = PERCPU_BASE, .source = "none"};
    const char *value;
    if (cmdline_find(machine->bootargs, "nokaslr", &value)) {
        kaslr->why = "nokaslr";
    } else if (machine->kaslr_seed) {
        from_seed(kaslr, kernel, machine->kaslr_seed, machine->kaslr_seed_size);
        kaslr->source = "kaslr-seed";
    } else if (machine->rng_seed) {
        from_seed(kaslr, kernel, machine->rng_seed, machine->rng_seed_size);
        kaslr->source = "rng-seed";
    } else {
        kaslr->why = "no-seed";
    }

    if (cmdline_find(machine->bootargs, "kaslr.slide", &value)) {
        uint64_t slide;
        if (!parse_hex(value, &slide) || slide % ELF_PAGE_SIZE ||
            slide / ELF_PAGE_SIZE >= kernel_choices(kernel)) {
            /* The value alone, not the rest of the line after it. */
            char word[24] = "";
            for (size_t i = 0; value && i + 1 < sizeof(word) && value[i] && value[i] != ' ' &&
                               value[i] != '\t';
                 i++)
                word[i] = value[i];
            loader_panic("bad-cmdline", "kaslr.slide=%s: want 0x-hex, a multiple of 0x%lx up to 0x%lx",
                         word, ELF_PAGE_SIZE, (kernel_choices(kernel) - 1) * ELF_PAGE_SIZE);
        }
        kaslr->slide = slide;
        kaslr->kernel_bits = 0;
        kaslr->source = "cmdline";
        kaslr->why = NULL;
    }

    if (kaslr->why)
        log_event("loader", "kaslr", "slide=0x0 entropy=0 percpu=0x%lx percpu_entropy=0 "
                                     "source=none why=%s",
                  kaslr->percpu_base, kaslr->why);
    else
        log_event("loader", "kaslr", "slide=0x%lx entropy=%u percpu=0x%lx percpu_entropy=%u "
                                     "source=%s",
                  kaslr->slide, kaslr->kernel_bits, kaslr->percpu_base, kaslr->percpu_bits,
                  kaslr->source);
}
