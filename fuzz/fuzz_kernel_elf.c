/*
 * Fuzz target: the loader's check of the kernel ELF it carries
 * (loader/check_elf.c, lib/elf.c), built for the host by tools/fuzz.
 *
 * The input is the kernel ELF: libFuzzer hands it over in a heap buffer of
 * exactly its size, so AddressSanitizer catches any read past its end, as
 * the board would read past the payload into whatever follows it in flash.
 *
 * kernel_elf_check() either panics with a reason (harness.c checks the
 * reason) or describes the ELF. When it accepts one, the description must
 * be safe to act on: loader/address_space.c copies each segment's file
 * bytes and the TLS template without further checks, maps the segments'
 * span and jumps to the entry. check_accepted() holds the description to
 * what those steps assume, so an ELF that passes the check but would make
 * them misbehave is a crash too.
 *
 * Seeds (made by tools/fuzz): the built kernel, without debug information.
 */
#include <stddef.h>
#include <stdint.h>

#include "harness.h"
#include "loader.h"

struct check {
    const uint8_t *file;
    uint64_t size;
    struct elf_image kernel;
};

static void check_kernel(void *context)
{
    struct check *check = context;
    kernel_elf_check(&check->kernel, check->file, check->size);
}

/* Are [offset, offset + len) file bytes inside the file's `size` bytes? */
static bool file_range_inside(uint64_t offset, uint64_t len, uint64_t size)
{
    return offset <= size && len <= size - offset;
}

/* The page-aligned end of a segment's memory, or 0 if that wraps past 2^64. */
static uint64_t segment_end(const struct elf_segment *segment)
{
    uint64_t end = segment->vaddr + segment->memsz;
    if (end < segment->vaddr || end > UINT64_MAX - (SV39_PAGE_SIZE - 1))
        return 0;
    return align_up(end, SV39_PAGE_SIZE);
}

static void check_segment(const struct elf_image *kernel, uint32_t index, uint64_t size)
{
    const struct elf_segment *segment = &kernel->segments[index];
    /* map_kernel() copies filesz bytes from the file at offset. */
    if (!file_range_inside(segment->offset, segment->filesz, size))
        fuzz_fail("accepted segment %u: file bytes 0x%lx+0x%lx outside the 0x%lx-byte file",
                  index, segment->offset, segment->filesz, size);
    if (segment->filesz > segment->memsz)
        fuzz_fail("accepted segment %u: filesz 0x%lx > memsz 0x%lx", index, segment->filesz,
                  segment->memsz);
    if ((segment->flags & PF_W) && (segment->flags & PF_X))
        fuzz_fail("accepted segment %u: writable and executable", index);
    if (segment->vaddr % SV39_PAGE_SIZE || segment->vaddr < DIRECT_MAP_OFFSET)
        fuzz_fail("accepted segment %u at 0x%lx: not a page in the upper half", index,
                  segment->vaddr);
    uint64_t end = segment_end(segment);
    if (end == 0)
        fuzz_fail("accepted segment %u: 0x%lx+0x%lx wraps past the top of the address space",
                  index, segment->vaddr, segment->memsz);
    /* map_kernel() maps [virt_start, virt_end) as one block, each segment
     * at its offset inside it. */
    if (segment->vaddr < kernel->virt_start || end > kernel->virt_end)
        fuzz_fail("accepted segment %u: 0x%lx-0x%lx outside the span 0x%lx-0x%lx", index,
                  segment->vaddr, end, kernel->virt_start, kernel->virt_end);
    if (index > 0 && segment->vaddr < segment_end(&kernel->segments[index - 1]))
        fuzz_fail("accepted segment %u at 0x%lx: overlaps or precedes segment %u", index,
                  segment->vaddr, index - 1);
}

/* Does the segment's file image hold the TLS template's bytes, at the
 * template's own address? .tdata is part of a PT_LOAD's file bytes. */
static bool holds_tls_template(const struct elf_segment *segment,
                               const struct elf_segment *tls)
{
    return tls->vaddr >= segment->vaddr && tls->offset >= segment->offset &&
           tls->vaddr - segment->vaddr == tls->offset - segment->offset &&
           file_range_inside(tls->offset - segment->offset, tls->filesz, segment->filesz);
}

static void check_tls(const struct elf_image *kernel)
{
    const struct elf_segment *tls = &kernel->tls;
    /* map_percpu() zeroes a block of memsz bytes (rounded up to a page) and
     * copies filesz bytes of the template into it. */
    if (tls->filesz > tls->memsz)
        fuzz_fail("accepted TLS template: filesz 0x%lx > memsz 0x%lx", tls->filesz, tls->memsz);
    if (kernel->tls_align == 0 || (kernel->tls_align & (kernel->tls_align - 1)))
        fuzz_fail("accepted TLS alignment 0x%lx: not a power of two", kernel->tls_align);
    if (tls->filesz == 0)
        return; /* a .tbss-only template copies nothing */
    for (uint32_t i = 0; i < kernel->segment_count; i++)
        if (holds_tls_template(&kernel->segments[i], tls))
            return;
    fuzz_fail("accepted TLS template 0x%lx+0x%lx (file 0x%lx): not in any PT_LOAD's file bytes",
              tls->vaddr, tls->filesz, tls->offset);
}

static void check_accepted(const struct elf_image *kernel, uint64_t size)
{
    if (kernel->segment_count == 0 || kernel->segment_count > ELF_MAX_SEGMENTS)
        fuzz_fail("accepted with %u segments", kernel->segment_count);
    if (kernel->virt_start >= kernel->virt_end || kernel->virt_start % SV39_PAGE_SIZE ||
        kernel->virt_end % SV39_PAGE_SIZE)
        fuzz_fail("accepted span 0x%lx-0x%lx: empty, reversed or not page-aligned",
                  kernel->virt_start, kernel->virt_end);
    bool entry_inside = false;
    for (uint32_t i = 0; i < kernel->segment_count; i++) {
        const struct elf_segment *segment = &kernel->segments[i];
        check_segment(kernel, i, size);
        entry_inside |= (segment->flags & PF_X) && kernel->entry >= segment->vaddr &&
                        kernel->entry - segment->vaddr < segment->memsz;
    }
    if (!entry_inside)
        fuzz_fail("accepted entry 0x%lx: not inside an executable segment", kernel->entry);
    if (kernel->has_tls)
        check_tls(kernel);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct check check = {.file = data, .size = size};
    if (fuzz_run(check_kernel, &check) == NULL)
        check_accepted(&check.kernel, size);
    return 0;
}
