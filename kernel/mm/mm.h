/*
 * Memory: physical frames, the kernel's page tables, the kernel heap, and
 * the window device registers are mapped in.
 */
#ifndef KERNEL_MM_H
#define KERNEL_MM_H

#include <aubade/sv39.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Device registers (devices.c): mapped on first use at an address of the
 * device window, the same address for registers asked for again; phys may
 * be anywhere below 2^56. The virtual address of phys, or 0 if it cannot
 * be mapped (an error line says why). */
#define DEVICE_WINDOW 0xfffffff000000000ul
#define DEVICE_WINDOW_SIZE (62 * SV39_GIGAPAGE_SIZE) /* up to the kernel image's gigapages */
uintptr_t device_map(uint64_t phys, uint64_t size);
/* vm_init: maps the devices handed out before it into the kernel's tables. */
int devices_map_early(void);

/* The physical frame allocator (frames.c). */
/* Takes over BootInfo's memory map: free memory becomes allocatable. */
void frames_init(void);
/* Once no hart runs on the loader's page tables: its image and tables come
 * back (`kernel: reclaim`), and the memory map is reported. */
void frames_reclaim_loader(void);
/* `size` bytes (rounded up to pages) aligned to `align` (a power of two),
 * physically contiguous, or 0. */
uint64_t frames_alloc(uint64_t size, uint64_t align);
void frames_free(uint64_t phys, uint64_t size);
/* Whether [phys, phys + size) is memory the allocator hands out. */
bool frames_owns(uint64_t phys, uint64_t size);
uint64_t frames_free_bytes(void);
/* Handed out and not yet given back. */
uint64_t frames_allocated_bytes(void);
uint64_t frames_total_bytes(void);

/* The kernel's page tables (vm.c). */
#define KERNEL_HALF 0xffffffc000000000ul /* the first address of the upper half */
/* 1 GiB that nothing maps: the ktests and fault=vm-wx map pages here. */
#define VM_SCRATCH_BASE 0xffffffe800000000ul
#define VM_SCRATCH_SIZE SV39_GIGAPAGE_SIZE

/* Errors: lib/sv39's (enum sv39_error) and these. */
enum vm_error {
    VM_LOWER_HALF = -16,          /* virt is not in the kernel's half */
    VM_WRITABLE_EXECUTABLE = -17, /* W^X: never both */
    VM_BAD_PERMISSIONS = -18,     /* not PTE_R/W/X, none of R and X, or W without R */
};

/* Main, boot hart, after frames_init: builds the kernel's tables. */
void vm_init(void);
/* True once vm_init has run. */
bool vm_ready(void);
/* This hart leaves the loader's tables for the kernel's. */
void vm_enter(void);
/* Maps, unmaps, re-protects a page-aligned range of the kernel's half;
 * permissions are PTE_R/W/X (every mapping is global). 0 or an error. */
int vm_map(uintptr_t virt, uint64_t phys, size_t size, unsigned permissions);
int vm_unmap(uintptr_t virt, size_t size);
int vm_protect(uintptr_t virt, size_t size, unsigned permissions);
/* Maps device registers rw- (and uncached through Svpbmt where the harts
 * have it); parts of the range mapped already are left as they are. */
int vm_map_device(uintptr_t virt, uint64_t phys, size_t size);
bool vm_translate(uintptr_t virt, uint64_t *phys);
/* The leaf that maps virt, with its bits. */
bool vm_lookup(uintptr_t virt, struct sv39_leaf *leaf);
const char *vm_strerror(int error);
/* The kernel's tables as lib/sv39 sees them, for code that must go behind
 * vm_map's back (fault=vm-wx); nothing else touches them without the lock. */
const struct sv39 *vm_kernel_tables(void);
/* An empty set of tables for another address space (a process's), whose
 * tables come from the frame allocator like the kernel's; false if there
 * is no frame for the root. */
bool vm_tables_create(struct sv39 *tables);
/* This hart runs on `tables` from now on, the kernel's if NULL (a switch
 * between tasks of different address spaces). */
void vm_activate(const struct sv39 *tables);
/* With `debug` or `ktest` on the command line: panics on a writable and
 * executable page or any lower-half mapping (`mm: check`). */
void vm_check(void);

/* The kernel heap (heap.c): objects of any size, 16-byte aligned, from any
 * hart. kfree(NULL) does nothing. */
void heap_init(void);
void *kmalloc(size_t size);
void *kzalloc(size_t size); /* zeroed */
void kfree(void *pointer);

#endif
