/*
 * The first user program's ELF, as the kernel keeps it: copied out of the
 * loader's image (which the kernel reclaims) into frames of its own, and
 * checked with lib/elf's rules for a user program. What builds a process's
 * address space reads its segments here: each PT_LOAD's vaddr, memsz, its
 * filesz bytes at `file + offset`, and its PF_R/W/X flags, page-aligned and
 * never writable and executable.
 */
#ifndef KERNEL_USER_IMAGE_H
#define KERNEL_USER_IMAGE_H

#include <aubade/elf.h>

/* Init call (user_image.init): the copy, checked; `kernel: program`. */
void user_image_init(void);

/* The checked ELF: its bytes, entry and PT_LOAD segments. Valid from the
 * init call on, and never freed or changed. */
const struct elf_image *user_image(void);

#endif
