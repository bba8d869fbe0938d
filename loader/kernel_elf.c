/*
 * Checks the embedded kernel ELF before anything is copied from it: the
 * build checked it too (tools/aubade/elfcheck.py), but a payload can be
 * corrupted in flash. The rules are the same; each failure is a panic whose
 * reason names the rule.
 */
#include <aubade/string.h>

#include "loader.h"

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
#define PT_TLS 7

/* The start of the last page of the address space. */
#define LAST_PAGE (0ul - SV39_PAGE_SIZE)

static void check_header(const struct elf64_header *header, uint64_t size)
{
    if (size < sizeof(*header))
        loader_panic("elf-truncated", "payload of %lu bytes is smaller than an ELF header", size);
    if (memcmp(header->ident, "\177ELF", 4) != 0)
        loader_panic("elf-magic", "payload does not start with the ELF magic");
    if (header->ident[4] != ELFCLASS64)
        loader_panic("elf-class", "ELF class %u, expected ELFCLASS64", header->ident[4]);
    if (header->ident[5] != ELFDATA2LSB)
        loader_panic("elf-endianness", "ELF data encoding %u, expected little-endian",
                     header->ident[5]);
    if (header->machine != EM_RISCV)
        loader_panic("elf-machine", "e_machine %u, expected EM_RISCV (243)", header->machine);
    if (header->type != ET_EXEC)
        loader_panic("elf-type", "e_type %u, expected ET_EXEC", header->type);
    if (header->phentsize != sizeof(struct elf64_program_header))
        loader_panic("elf-phentsize", "e_phentsize %u, expected %lu", header->phentsize,
                     sizeof(struct elf64_program_header));
    if (header->phoff % 8 || header->phoff > size ||
        (size - header->phoff) / sizeof(struct elf64_program_header) < header->phnum)
        loader_panic("elf-phoff", "program headers at 0x%lx (%u of them) lie outside the %lu bytes",
                     header->phoff, header->phnum, size);
}

/* Rules for one PT_LOAD, given the one before it (or NULL). */
static void check_load(const struct elf64_program_header *ph, const struct kernel_segment *previous,
                       unsigned index, uint64_t size)
{
    if (ph->vaddr % SV39_PAGE_SIZE || ph->offset % SV39_PAGE_SIZE != ph->vaddr % SV39_PAGE_SIZE)
        loader_panic("elf-misaligned", "segment %u at 0x%lx is not page-aligned", index, ph->vaddr);
    if (ph->filesz > ph->memsz)
        loader_panic("elf-filesz", "segment %u has filesz 0x%lx > memsz 0x%lx", index,
                     ph->filesz, ph->memsz);
    if (ph->offset > size || ph->filesz > size - ph->offset)
        loader_panic("elf-file-range", "segment %u's bytes 0x%lx+0x%lx lie outside the file",
                     index, ph->offset, ph->filesz);
    if ((ph->flags & PF_W) && (ph->flags & PF_X))
        loader_panic("elf-wx", "segment %u at 0x%lx is writable and executable", index,
                     ph->vaddr);
    if (ph->vaddr < DIRECT_MAP_OFFSET)
        loader_panic("elf-lower-half", "segment %u at 0x%lx is not in the kernel's half", index,
                     ph->vaddr);
    /* Its pages must end below 2^64, so that rounding the end up cannot wrap. */
    if (ph->memsz > LAST_PAGE - ph->vaddr)
        loader_panic("elf-wraps", "segment %u at 0x%lx with memsz 0x%lx runs past the top of "
                     "the address space", index, ph->vaddr, ph->memsz);
    if (previous && ph->vaddr < previous->vaddr)
        loader_panic("elf-unsorted", "segment %u at 0x%lx comes after one at 0x%lx", index,
                     ph->vaddr, previous->vaddr);
    if (previous && ph->vaddr < align_up(previous->vaddr + previous->memsz, SV39_PAGE_SIZE))
        loader_panic("elf-overlap", "segment %u at 0x%lx overlaps the one at 0x%lx", index,
                     ph->vaddr, previous->vaddr);
}

static bool segment_contains(const struct kernel_segment *segment, uint64_t vaddr, uint64_t size)
{
    return vaddr >= segment->vaddr && size <= segment->memsz &&
           vaddr - segment->vaddr <= segment->memsz - size;
}

/* The TLS template's initial bytes (.tdata) must be file bytes of this
 * segment: the loader copies them from the payload into every TLS block. */
static bool holds_tls_template(const struct kernel_segment *segment,
                               const struct kernel_segment *tls)
{
    if (tls->vaddr < segment->vaddr)
        return false;
    uint64_t at = tls->vaddr - segment->vaddr;
    if (tls->filesz == 0)
        return at <= segment->memsz; /* .tbss only: nothing to copy */
    return at <= segment->filesz && tls->filesz <= segment->filesz - at &&
           tls->offset - segment->offset == at;
}

void kernel_elf_check(struct kernel_elf *kernel, const uint8_t *file, uint64_t size)
{
    const struct elf64_header *header = (const struct elf64_header *)file;
    check_header(header, size);
    *kernel = (struct kernel_elf){.file = file, .entry = header->entry};

    const struct elf64_program_header *table =
        (const struct elf64_program_header *)(file + header->phoff);
    for (unsigned i = 0; i < header->phnum; i++) {
        const struct elf64_program_header *ph = &table[i];
        struct kernel_segment segment = {ph->vaddr, ph->memsz, ph->offset, ph->filesz, ph->flags};
        if (ph->type == PT_TLS) {
            if (kernel->has_tls)
                loader_panic("elf-tls-count", "more than one PT_TLS segment");
            kernel->has_tls = true;
            kernel->tls = segment;
            kernel->tls_align = ph->align ? ph->align : 1;
        }
        if (ph->type != PT_LOAD)
            continue; /* PT_RISCV_ATTRIBUTES and the like describe, they do not load */
        if (kernel->segment_count == KERNEL_MAX_SEGMENTS)
            loader_panic("elf-too-many-segments", "more than %d PT_LOAD segments",
                         KERNEL_MAX_SEGMENTS);
        check_load(ph, kernel->segment_count ? &kernel->segments[kernel->segment_count - 1] : NULL,
                   i, size);
        kernel->segments[kernel->segment_count++] = segment;
    }
    if (kernel->segment_count == 0)
        loader_panic("elf-no-load", "no PT_LOAD segment");

    const struct kernel_segment *last = &kernel->segments[kernel->segment_count - 1];
    kernel->virt_start = kernel->segments[0].vaddr;
    kernel->virt_end = align_up(last->vaddr + last->memsz, SV39_PAGE_SIZE);

    bool tls_inside = !kernel->has_tls;
    bool entry_inside = false;
    for (unsigned i = 0; i < kernel->segment_count; i++) {
        const struct kernel_segment *segment = &kernel->segments[i];
        tls_inside |= kernel->has_tls && holds_tls_template(segment, &kernel->tls);
        entry_inside |= (segment->flags & PF_X) && segment_contains(segment, kernel->entry, 1);
    }
    if (kernel->has_tls && kernel->tls.filesz > kernel->tls.memsz)
        loader_panic("elf-tls-filesz", "PT_TLS filesz 0x%lx > memsz 0x%lx", kernel->tls.filesz,
                     kernel->tls.memsz);
    if (kernel->has_tls && kernel->tls.memsz > KERNEL_TLS_MAX)
        loader_panic("elf-tls-size", "a PT_TLS of 0x%lx bytes does not fit the 0x%lx of a "
                     "per-CPU slot", kernel->tls.memsz, KERNEL_TLS_MAX);
    if (!tls_inside)
        loader_panic("elf-tls-outside",
                     "the PT_TLS template at 0x%lx is not in the file bytes of a PT_LOAD",
                     kernel->tls.vaddr);
    /* TLS blocks start on a page boundary: any power of two up to a page holds. */
    if (kernel->has_tls &&
        ((kernel->tls_align & (kernel->tls_align - 1)) || kernel->tls_align > SV39_PAGE_SIZE))
        loader_panic("elf-tls-align",
                     "PT_TLS alignment 0x%lx is not a power of two up to a page",
                     kernel->tls_align);
    if (!entry_inside)
        loader_panic("elf-entry", "entry 0x%lx is not inside an executable segment",
                     kernel->entry);
}

const char *segment_permissions(uint32_t flags)
{
    static const char *const names[8] = {"---", "--x", "-w-", "-wx", "r--", "r-x", "rw-", "rwx"};
    return names[(flags & PF_R ? 4 : 0) | (flags & PF_W ? 2 : 0) | (flags & PF_X ? 1 : 0)];
}
