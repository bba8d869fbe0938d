/*
 * BootInfo: everything the loader learned, handed to the kernel in a0.
 *
 * One header shared by both stages. The loader fills it in memory that it
 * marks BOOT_REGION_BOOTINFO, and passes its address in the direct map. The
 * kernel checks magic and version before it trusts a single other field: a
 * loader and kernel built from different revisions must not misread each
 * other. Bump BOOTINFO_VERSION on any change of layout or meaning.
 */
#ifndef AUBADE_BOOTINFO_H
#define AUBADE_BOOTINFO_H

#include <stdint.h>

#define BOOTINFO_MAGIC 0x4f464e49544f4f42ul /* "BOOTINFO", little-endian */
#define BOOTINFO_VERSION 5

/* The most harts the kernel runs on: QEMU's virt machine and the OpenSBI
 * it ships serve 128 (OpenSBI 1.1's hart masks have 128 bits), as many as
 * two-socket SG2042 boards have. The loader refuses a tree with more usable
 * harts (reason=dtb-too-many-harts); per-hart tables in the kernel are
 * sized by it. */
#define BOOTINFO_MAX_HARTS 128
#define BOOTINFO_CMDLINE_MAX 512
#define BOOTINFO_RNG_SEED_MAX 64

/* Kinds of physical memory, in the map that covers every DRAM bank. */
enum boot_region_kind {
    BOOT_REGION_USABLE,     /* free for the kernel's frame allocator */
    BOOT_REGION_RESERVED,   /* firmware, /reserved-memory, /memreserve/ */
    BOOT_REGION_DTB,        /* the flattened device tree */
    BOOT_REGION_LOADER,     /* the loader image: reclaimable after handoff */
    BOOT_REGION_KERNEL,     /* the kernel's segments: never reclaimable */
    BOOT_REGION_PAGETABLES, /* the page tables the kernel runs on */
    BOOT_REGION_BOOTINFO,   /* this structure */
    BOOT_REGION_PERCPU,     /* per-hart stacks and TLS blocks */
    BOOT_REGION_ALLOCATED,  /* handed out by the kernel's frame allocator */
    BOOT_REGION_KIND_COUNT,
};

struct boot_region {
    uint64_t base;
    uint64_t size;
    uint32_t kind; /* enum boot_region_kind */
    uint32_t padding;
};

/* A range [start, end) of addresses, virtual or physical as its name says. */
struct boot_range {
    uint64_t start;
    uint64_t end;
};

/* A parked hart's mailbox in the loader's pen (loader/park.c): the hart
 * sleeps until an IPI and jumps, MMU off, to entry with a0 = its hart id
 * and a1 = opaque, as SBI HSM's hart_start would enter it, once entry is
 * not 0. Written opaque first, entry last, then the IPI. */
struct boot_pen {
    uint64_t entry;
    uint64_t opaque;
};

/* Where one hart's kernel stack and TLS block live in the kernel's half. */
struct boot_percpu {
    uint64_t hart_id;
    struct boot_range stack; /* the guard page just below stack.start is unmapped */
    uint64_t tls;            /* value for tp: the start of the hart's TLS block */
    /* Physical address of its struct boot_pen, in loader memory, if the
     * loader parked it; 0 if it is still the firmware's to start. */
    uint64_t pen;
};

/* The kernel's PT_TLS segment: the template each TLS block is copied from. */
struct boot_tls_template {
    uint64_t vaddr;
    uint64_t filesz; /* .tdata, copied */
    uint64_t memsz;  /* .tdata + .tbss; the rest is zeroed */
    uint64_t align;
};

struct boot_info {
    uint64_t magic;
    uint32_t version;
    uint32_t size; /* sizeof(struct boot_info) as the loader saw it */

    uint64_t boot_hart;
    uint64_t dtb_phys;
    uint64_t dtb_size;
    uint64_t direct_map_offset; /* virtual = physical + direct_map_offset */
    uint64_t page_table_root;   /* physical address of the Sv39 root table */

    struct boot_range kernel_phys;
    struct boot_range kernel_virt; /* where it runs: linked + kernel_slide */
    uint64_t kernel_entry;
    uint64_t kernel_slide; /* KASLR's: what the loader added to every address */
    struct boot_tls_template tls_template;
    /* The first user program's ELF, checked: its bytes in the loader image
     * (physical), which the kernel must copy before it reclaims that. */
    struct boot_range user_elf;

    uint32_t region_count;
    uint32_t hart_count;
    /* The memory map: region_count entries at this physical address, as
     * many as the machine needs, in BOOT_REGION_BOOTINFO memory. */
    uint64_t regions_phys;
    struct boot_percpu harts[BOOTINFO_MAX_HARTS];

    uint32_t rng_seed_size;
    uint8_t rng_seed[BOOTINFO_RNG_SEED_MAX];
    char cmdline[BOOTINFO_CMDLINE_MAX];
};

#endif
