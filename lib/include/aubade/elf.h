/*
 * ELF executables in memory: parsed and checked against a set of rules,
 * then described, so that whoever loads one (the loader for the kernel and
 * the user program, the kernel for the user program) copies and maps what
 * it is told without checking again.
 *
 * The build checks the same rules on the host (tools/aubade/elfcheck.py);
 * they are checked again here because bytes can be corrupted between the
 * two. A broken rule is not a panic here: the caller learns the rule's
 * reason word ("elf-overlap") and a detail, and decides what to do.
 */
#ifndef AUBADE_ELF_H
#define AUBADE_ELF_H

#include <stdbool.h>
#include <stdint.h>

#define ELF_PAGE_SIZE 4096ul
/* More PT_LOAD segments than this are refused (elf-too-many-segments). */
#define ELF_MAX_SEGMENTS 8

/* p_flags */
#define PF_X 1u
#define PF_W 2u
#define PF_R 4u

/* One program header, as much of it as loading needs. */
struct elf_segment {
    uint64_t vaddr;
    uint64_t memsz;
    uint64_t offset; /* of its file bytes in the ELF */
    uint64_t filesz;
    uint32_t flags;  /* PF_R, PF_W, PF_X */
};

/* What an executable may be: the kernel and a user program differ in where
 * they live and in whether they have thread-local storage. */
struct elf_rules {
    uint64_t start;           /* no PT_LOAD below this address */
    uint64_t end;             /* every PT_LOAD ends at or below this one */
    const char *below_start;  /* reason word for a PT_LOAD below start */
    const char *past_end;     /* reason word for a PT_LOAD past end */
    uint64_t tls_max;         /* the largest PT_TLS memsz; 0: no PT_TLS at all */
};

/* A checked executable. Pointers are into the bytes it was parsed from. */
struct elf_image {
    const uint8_t *file;
    uint64_t size;
    uint64_t entry; /* inside an executable segment */
    uint32_t segment_count;
    /* PT_LOAD segments, sorted by vaddr, page-aligned, never overlapping
     * once rounded to pages, never writable and executable, their file
     * bytes inside the file. */
    struct elf_segment segments[ELF_MAX_SEGMENTS];
    bool has_tls;
    struct elf_segment tls; /* its file bytes inside a PT_LOAD's file bytes */
    uint64_t tls_align;     /* a power of two up to a page */
    uint64_t virt_start;    /* the page-aligned span of all segments */
    uint64_t virt_end;
};

/* Why an ELF was refused: a reason word for the boot log's `reason=` and a
 * sentence that names the segment and the values. */
struct elf_error {
    const char *reason;
    char detail[160];
};

/* A user program (user/): the lower half from its second page (page 0 stays
 * unmapped, so that a null pointer faults) up to where the kernel puts the
 * program's stack, with no thread-local storage. */
#define ELF_USER_START ELF_PAGE_SIZE
#define ELF_USER_END 0x3f00000000ul
extern const struct elf_rules elf_user_rules;

/* Checks the `size` bytes at `file` against `rules`: true, with *image
 * describing them, or false, with *error saying which rule they break. */
bool elf_parse(struct elf_image *image, const uint8_t *file, uint64_t size,
               const struct elf_rules *rules, struct elf_error *error);

/* "r-x" and the like, for the boot log. */
const char *elf_permissions(uint32_t flags);

#endif
