/*
 * ELF executables checked in memory: see <aubade/elf.h>. The rules are
 * those of tools/aubade/elfcheck.py, which the build applies first; each
 * broken rule has its own reason word, which the loader's panic line and the
 * tests use.
 */
#include <aubade/elf.h>
#include <aubade/fmt.h>
#include <aubade/memmap.h>
#include <aubade/string.h>
#include <stdarg.h>

struct elf64_header {
    uint8_t ident[16];
    uint16_t type;
    uint16_t machine;
    uint32_t version;
    uint64_t entry;
    uint64_t phoff;
    uint64_t shoff;
    uint32_t flags;
    uint16_t ehsize;
    uint16_t phentsize;
    uint16_t phnum;
    uint16_t shentsize;
    uint16_t shnum;
    uint16_t shstrndx;
};

struct elf64_program_header {
    uint32_t type;
    uint32_t flags;
    uint64_t offset;
    uint64_t vaddr;
    uint64_t paddr;
    uint64_t filesz;
    uint64_t memsz;
    uint64_t align;
};

#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define ET_EXEC 2
#define EM_RISCV 243
#define PT_LOAD 1
#define PT_DYNAMIC 2
#define PT_INTERP 3
#define PT_TLS 7

const struct elf_rules elf_user_rules = {
    .start = ELF_USER_START,
    .end = ELF_USER_END,
    .below_start = "elf-page-zero",
    .past_end = "elf-upper-half",
    .tls_max = 0,
};

/* Records why the ELF is refused; returns false for the caller to return. */
__attribute__((format(printf, 3, 4))) static bool refuse(struct elf_error *error,
                                                         const char *reason,
                                                         const char *detail, ...)
{
    error->reason = reason;
    va_list args;
    va_start(args, detail);
    fmt_vsnprintf(error->detail, sizeof(error->detail), detail, args);
    va_end(args);
    return false;
}

static bool check_header(const struct elf64_header *header, uint64_t size,
                         struct elf_error *error)
{
    if (size < sizeof(*header))
        return refuse(error, "elf-truncated", "%lu bytes are fewer than an ELF header", size);
    if (memcmp(header->ident, "\177ELF", 4) != 0)
        return refuse(error, "elf-magic", "it does not start with the ELF magic");
    if (header->ident[4] != ELFCLASS64)
        return refuse(error, "elf-class", "ELF class %u, expected ELFCLASS64", header->ident[4]);
    if (header->ident[5] != ELFDATA2LSB)
        return refuse(error, "elf-endianness", "ELF data encoding %u, expected little-endian",
                      header->ident[5]);
    if (header->machine != EM_RISCV)
        return refuse(error, "elf-machine", "e_machine %u, expected EM_RISCV (243)",
                      header->machine);
    if (header->type != ET_EXEC)
        return refuse(error, "elf-type", "e_type %u, expected ET_EXEC", header->type);
    if (header->phentsize != sizeof(struct elf64_program_header))
        return refuse(error, "elf-phentsize", "e_phentsize %u, expected %lu", header->phentsize,
                      sizeof(struct elf64_program_header));
    if (header->phoff % 8 || header->phoff > size ||
        (size - header->phoff) / sizeof(struct elf64_program_header) < header->phnum)
        return refuse(error, "elf-phoff",
                      "program headers at 0x%lx (%u of them) lie outside the %lu bytes",
                      header->phoff, header->phnum, size);
    return true;
}

/* Rules for one PT_LOAD, given the one before it (or NULL). */
static bool check_load(const struct elf64_program_header *ph, const struct elf_segment *previous,
                       unsigned index, uint64_t size, const struct elf_rules *rules,
                       struct elf_error *error)
{
    if (ph->vaddr % ELF_PAGE_SIZE || ph->offset % ELF_PAGE_SIZE != ph->vaddr % ELF_PAGE_SIZE)
        return refuse(error, "elf-misaligned", "segment %u at 0x%lx is not page-aligned", index,
                      ph->vaddr);
    if (ph->filesz > ph->memsz)
        return refuse(error, "elf-filesz", "segment %u has filesz 0x%lx > memsz 0x%lx", index,
                      ph->filesz, ph->memsz);
    if (ph->offset > size || ph->filesz > size - ph->offset)
        return refuse(error, "elf-file-range",
                      "segment %u's bytes 0x%lx+0x%lx lie outside the file", index, ph->offset,
                      ph->filesz);
    if ((ph->flags & PF_W) && (ph->flags & PF_X))
        return refuse(error, "elf-wx", "segment %u at 0x%lx is writable and executable", index,
                      ph->vaddr);
    if (ph->vaddr < rules->start)
        return refuse(error, rules->below_start, "segment %u at 0x%lx lies below 0x%lx", index,
                      ph->vaddr, rules->start);
    /* Its pages must end by rules->end, which is page-aligned, so that
     * rounding the end up cannot wrap either. */
    if (ph->vaddr > rules->end || ph->memsz > rules->end - ph->vaddr)
        return refuse(error, rules->past_end,
                      "segment %u at 0x%lx with memsz 0x%lx runs past 0x%lx", index, ph->vaddr,
                      ph->memsz, rules->end);
    if (previous && ph->vaddr < previous->vaddr)
        return refuse(error, "elf-unsorted", "segment %u at 0x%lx comes after one at 0x%lx",
                      index, ph->vaddr, previous->vaddr);
    if (previous && ph->vaddr < align_up(previous->vaddr + previous->memsz, ELF_PAGE_SIZE))
        return refuse(error, "elf-overlap", "segment %u at 0x%lx overlaps the one at 0x%lx",
                      index, ph->vaddr, previous->vaddr);
    return true;
}

static bool segment_contains(const struct elf_segment *segment, uint64_t vaddr, uint64_t size)
{
    return vaddr >= segment->vaddr && size <= segment->memsz &&
           vaddr - segment->vaddr <= segment->memsz - size;
}

/* The TLS template's initial bytes (.tdata) must be file bytes of this
 * segment: the loader copies them from the file into every TLS block. */
static bool holds_tls_template(const struct elf_segment *segment, const struct elf_segment *tls)
{
    if (tls->vaddr < segment->vaddr)
        return false;
    uint64_t at = tls->vaddr - segment->vaddr;
    if (tls->filesz == 0)
        return at <= segment->memsz; /* .tbss only: nothing to copy */
    return at <= segment->filesz && tls->filesz <= segment->filesz - at &&
           tls->offset - segment->offset == at;
}

/* Every program header in table order: PT_LOADs checked and kept, the
 * PT_TLS kept, anything that needs a dynamic linker refused. */
static bool read_program_headers(struct elf_image *image, const struct elf64_header *header,
                                 const struct elf_rules *rules, struct elf_error *error)
{
    const struct elf64_program_header *table =
        (const struct elf64_program_header *)(image->file + header->phoff);
    for (unsigned i = 0; i < header->phnum; i++) {
        const struct elf64_program_header *ph = &table[i];
        struct elf_segment segment = {ph->vaddr, ph->memsz, ph->offset, ph->filesz, ph->flags};
        if (ph->type == PT_INTERP || ph->type == PT_DYNAMIC)
            return refuse(error, "elf-dynamic",
                          "segment %u asks for dynamic linking; only static executables load",
                          i);
        if (ph->type == PT_TLS) {
            if (rules->tls_max == 0)
                return refuse(error, "elf-tls-unsupported",
                              "segment %u is a PT_TLS; this program may have none", i);
            if (image->has_tls)
                return refuse(error, "elf-tls-count", "more than one PT_TLS segment");
            image->has_tls = true;
            image->tls = segment;
            image->tls_align = ph->align ? ph->align : 1;
        }
        if (ph->type != PT_LOAD)
            continue; /* PT_RISCV_ATTRIBUTES and the like describe, they do not load */
        if (image->segment_count == ELF_MAX_SEGMENTS)
            return refuse(error, "elf-too-many-segments", "more than %d PT_LOAD segments",
                          ELF_MAX_SEGMENTS);
        const struct elf_segment *previous =
            image->segment_count ? &image->segments[image->segment_count - 1] : NULL;
        if (!check_load(ph, previous, i, image->size, rules, error))
            return false;
        image->segments[image->segment_count++] = segment;
    }
    if (image->segment_count == 0)
        return refuse(error, "elf-no-load", "no PT_LOAD segment");
    return true;
}

static bool check_tls(const struct elf_image *image, const struct elf_rules *rules,
                      struct elf_error *error)
{
    const struct elf_segment *tls = &image->tls;
    bool inside = false;
    for (unsigned i = 0; i < image->segment_count; i++)
        inside |= holds_tls_template(&image->segments[i], tls);
    if (tls->filesz > tls->memsz)
        return refuse(error, "elf-tls-filesz", "PT_TLS filesz 0x%lx > memsz 0x%lx", tls->filesz,
                      tls->memsz);
    if (tls->memsz > rules->tls_max)
        return refuse(error, "elf-tls-size", "a PT_TLS of 0x%lx bytes is larger than 0x%lx",
                      tls->memsz, rules->tls_max);
    if (!inside)
        return refuse(error, "elf-tls-outside",
                      "the PT_TLS template at 0x%lx is not in the file bytes of a PT_LOAD",
                      tls->vaddr);
    /* TLS blocks start on a page boundary: any power of two up to a page holds. */
    if ((image->tls_align & (image->tls_align - 1)) || image->tls_align > ELF_PAGE_SIZE)
        return refuse(error, "elf-tls-align",
                      "PT_TLS alignment 0x%lx is not a power of two up to a page",
                      image->tls_align);
    return true;
}

bool elf_parse(struct elf_image *image, const uint8_t *file, uint64_t size,
               const struct elf_rules *rules, struct elf_error *error)
{
    const struct elf64_header *header = (const struct elf64_header *)file;
    if (!check_header(header, size, error))
        return false;
    *image = (struct elf_image){.file = file, .size = size, .entry = header->entry};
    if (!read_program_headers(image, header, rules, error))
        return false;

    const struct elf_segment *last = &image->segments[image->segment_count - 1];
    image->virt_start = image->segments[0].vaddr;
    image->virt_end = align_up(last->vaddr + last->memsz, ELF_PAGE_SIZE);

    if (image->has_tls && !check_tls(image, rules, error))
        return false;
    bool entry_inside = false;
    for (unsigned i = 0; i < image->segment_count; i++) {
        const struct elf_segment *segment = &image->segments[i];
        entry_inside |= (segment->flags & PF_X) && segment_contains(segment, image->entry, 1);
    }
    if (!entry_inside)
        return refuse(error, "elf-entry", "entry 0x%lx is not inside an executable segment",
                      image->entry);
    return true;
}

const char *elf_permissions(uint32_t flags)
{
    static const char *const names[8] = {"---", "--x", "-w-", "-wx", "r--", "r-x", "rw-", "rwx"};
    return names[(flags & PF_R ? 4 : 0) | (flags & PF_W ? 2 : 0) | (flags & PF_X ? 1 : 0)];
}
