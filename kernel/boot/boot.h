/*
 * Boot: what the loader handed over and what each hart knows of itself.
 *
 * BootInfo, the device tree and the clock it gives, the command line, this
 * hart's identity (its per-CPU state, reached through tp), the state its
 * CSRs are put in, and random numbers. All of it is set up in Early
 * (boot.init) and read, never changed, by everything after.
 */
#ifndef KERNEL_BOOT_H
#define KERNEL_BOOT_H

#include <aubade/bootinfo.h>
#include <aubade/fdt.h>
#include <stdbool.h>
#include <stdint.h>

/* BootInfo (bootinfo.c): as kernel_main got it, then checked and kept. */
extern const struct boot_info *handed_boot_info;
extern const struct boot_info *boot_info;
void boot_info_accept(void);
/* BootInfo's memory map (region_count entries), through the direct map. */
struct boot_region *boot_info_regions(const struct boot_info *info);

/* The device tree (devicetree.c) and the clock it gives (clock.c). */
extern struct fdt device_tree;
extern uint64_t timebase_hz;
void devicetree_open(void);
void clock_init(void);
/* Microseconds in time-CSR units, rounded up, so that a wait is never
 * shorter than asked; what does not fit in 64 bits is UINT64_MAX, a time
 * the CSR never passes. */
uint64_t clock_us_to_ticks(uint64_t us, uint64_t hz);
/* The time-CSR value `us` microseconds after `now`, UINT64_MAX if that is
 * past the CSR's range: a sleep until then lasts forever. */
uint64_t clock_deadline_after(uint64_t now, uint64_t us);

/* Per-hart state (percpu.c): one copy per hart, through tp. */
extern _Thread_local uint64_t current_hart;
extern _Thread_local const struct boot_percpu *this_percpu;
const struct boot_percpu *percpu_of(uint64_t hart_id);
/* The place of a hart percpu_of finds in BootInfo's list, which per-hart
 * tables share. */
uint32_t percpu_index(uint64_t hart_id);
/* The hart's Early per-CPU work: its identity, stack bounds and TLS. */
void percpu_init(void);

/* A hart's state as the kernel wants it (cpu.c): Early, per CPU. */
void cpu_reset_state(void);

/* Random numbers (random.c): the boot seed, then one stream per hart. */
void random_init(void);
void random_init_hart(void);
uint64_t random_u64(void);

/* Physical memory seen through the direct map the loader built. */
static inline void *phys_to_virt(uint64_t phys)
{
    return (void *)(uintptr_t)(phys + boot_info->direct_map_offset);
}

/* The command line (cmdline.c), from BootInfo; `kernel: cmdline`. */
void cmdline_init(void);
bool cmdline_has(const char *word);
/* The value of `key=value`, or NULL. */
const char *cmdline_value(const char *key);

#endif
