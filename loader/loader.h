/*
 * The loader's steps, in the order loader_main() takes them. Each file of
 * the loader does one of them; this header is the table of contents.
 */
#ifndef LOADER_H
#define LOADER_H

#include <aubade/bootinfo.h>
#include <aubade/elf.h>
#include <aubade/fdt.h>
#include <aubade/memmap.h>
#include <aubade/sv39.h>
#include <stdbool.h>
#include <stdnoreturn.h>

/* Where the loader puts things in the kernel's half of the address space. */
#define DIRECT_MAP_OFFSET 0xffffffc000000000ul /* virtual = physical + offset */
#define DIRECT_MAP_LIMIT 0x2000000000ul        /* 128 GiB of physical space */
#define PERCPU_BASE 0xffffffe000000000ul       /* one slot per hart from here... */
#define PERCPU_SLOT_SIZE 0x100000ul            /* guard page, stack, TLS block */
/* ...or from a random page of this window (kaslr.c), which ends where the
 * kernel's scratch gigabyte begins (VM_SCRATCH_BASE, kernel/mm/mm.h). */
#define PERCPU_WINDOW_SIZE 0x800000000ul
#define KERNEL_STACK_SIZE 0x10000ul
#define GUARD_PAGE_SIZE 0x1000ul
/* What is left of a slot for the TLS block. */
#define KERNEL_TLS_MAX (PERCPU_SLOT_SIZE - GUARD_PAGE_SIZE - KERNEL_STACK_SIZE)

/* What the loader holds from the tree, each refused by name when exceeded
 * (reason=dtb-too-many-banks, dtb-too-many-reserved). Real boards have one
 * to four banks and a dozen reserved ranges; SoCs with many coprocessors
 * carve out a few dozen. The memory map has no such limit: it grows. */
#define MAX_MEMORY_BANKS 16
#define MAX_RESERVED_RANGES 128

/* What the device tree says about the machine (devicetree.c). */
struct reserved_range {
    uint64_t base;
    uint64_t size;
    const char *what; /* "reserved-memory", "memreserve", "dtb", "loader" */
    enum boot_region_kind kind;
    const char *node; /* the /reserved-memory child's name, or NULL */
    bool no_map;      /* must not even be mapped: firmware protects it */
};

struct machine {
    struct fdt dt;
    uint64_t dtb_phys;
    uint64_t boot_hart;
    uint64_t timebase_hz;
    uint32_t bank_count;
    struct boot_region banks[MAX_MEMORY_BANKS];
    uint32_t reserved_count;
    struct reserved_range reserved[MAX_RESERVED_RANGES];
    uint32_t hart_count;
    uint64_t harts[BOOTINFO_MAX_HARTS];
    const char *bootargs;
    const uint8_t *rng_seed;
    uint32_t rng_seed_size;
    const uint8_t *kaslr_seed;
    uint32_t kaslr_seed_size;
};

void machine_read_timebase(struct machine *machine);
void machine_read_memory(struct machine *machine);
void machine_read_reserved(struct machine *machine);
void machine_read_harts(struct machine *machine);
void machine_read_chosen(struct machine *machine);

/* The other harts, started into the loader's pen (start.S) to sleep until
 * the kernel wakes them: `loader: parked` (park.c). pen_of: the mailbox of
 * machine->harts[index] for BootInfo, or 0 if it was not parked. */
void park_other_harts(const struct machine *machine);
uint64_t pen_of(uint32_t index);

/* The payload (payload_header.c): the ELFs the loader carries, as the build packed
 * them (tools/aubade/payload.py), once its digest (and, with a key built in,
 * its signature) holds, and the kernel's relocation table. The time base
 * makes the `us=` of its lines. */
struct payload {
    const uint8_t *kernel;
    uint64_t kernel_size;
    const uint8_t *user; /* the first user program */
    uint64_t user_size;
    /* u32 offsets from the kernel's first page of the u64s to add the
     * slide to (tools/aubade/kreloc.py) */
    const uint32_t *relocations;
    uint64_t relocation_count;
};

void payload_open(struct payload *payload, uint64_t timebase_hz);

/* The two ELFs checked with lib/elf's rules (check_elf.c): each described,
 * or a panic with reason=elf-... */
void kernel_elf_check(struct elf_image *kernel, const uint8_t *file, uint64_t size);
void user_elf_check(struct elf_image *user, const uint8_t *file, uint64_t size);

/* Where the kernel and the harts' blocks go this boot (kaslr.c). */
struct kaslr {
    uint64_t slide;       /* added to every kernel address: 0 or pages */
    uint64_t percpu_base; /* the first hart's slot */
    unsigned kernel_bits; /* entropy of the slide, in whole bits */
    unsigned percpu_bits;
    const char *source;   /* "kaslr-seed", "rng-seed", "cmdline" or "none" */
    const char *why;      /* why there is no slide, or NULL */
};

/* After machine_read_chosen: `loader: kaslr`. */
void kaslr_choose(struct kaslr *kaslr, const struct machine *machine,
                  const struct elf_image *kernel);

/* The kernel's address space (address_space.c). */
struct address_space {
    struct memmap *memory; /* page tables are claimed from here */
    uint64_t root;
};

void address_space_init(struct address_space *space, struct memmap *memory);
void map_loader_identity(struct address_space *space);
/* Copies the segments to one physical block, adds the slide to the
 * addresses the relocations name, and maps each segment, slid, with its
 * rights. */
void map_kernel(struct address_space *space, const struct elf_image *kernel,
                const struct payload *payload, uint64_t slide, struct boot_info *info);
void map_direct(struct address_space *space, const struct machine *machine);
/* A guarded stack and a TLS block for every hart, from `base`; after
 * map_kernel, whose relocated TLS template each block starts as. */
void map_percpu(struct address_space *space, const struct machine *machine, uint64_t base,
                struct boot_info *info);

/* With the MMU off, device registers are at their physical address. */
uintptr_t mmio_identity(uint64_t phys, uint64_t size);

/* Handing over (start.S). */
noreturn void enter_kernel(uint64_t satp, uint64_t entry, uint64_t boot_info, uint64_t stack,
                           uint64_t thread_pointer);

/* Stopping with a reason (panic.c). */
__attribute__((format(printf, 2, 3))) noreturn void loader_panic(const char *reason,
                                                                const char *detail, ...);
void panic_set_device_tree(const struct fdt *dt);

/* Linker-script symbols. */
extern char __loader_start[], __loader_text_end[], __loader_data_start[], __loader_end[];
extern const uint8_t payload_start[], payload_end[];

#endif
