/*
 * The kernel's parts. Their init functions (void f(void)) are called from the
 * generated init table, in the order the *.init files work out.
 */
#ifndef KERNEL_H
#define KERNEL_H

#include <aubade/bootinfo.h>
#include <aubade/fdt.h>
#include <aubade/sv39.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdnoreturn.h>

/* BootInfo (bootinfo.c): as kernel_main got it, then checked and kept. */
extern const struct boot_info *handed_boot_info;
extern const struct boot_info *boot_info;
void boot_info_accept(void);
/* BootInfo's memory map (region_count entries), through the direct map. */
struct boot_region *boot_info_regions(const struct boot_info *info);

/* The device tree (devicetree.c) and the clock it gives. */
extern struct fdt device_tree;
extern uint64_t timebase_hz;
void devicetree_open(void);
void clock_init(void);
/* Microseconds in time-CSR units (timer.c), here beside the clock they
 * count in. Rounded up, so that a wait is never shorter than asked; what
 * does not fit in 64 bits is UINT64_MAX, a time the CSR never passes. */
uint64_t timer_us_to_ticks(uint64_t us, uint64_t hz);
/* The time-CSR value `us` microseconds after `now`, UINT64_MAX if that is
 * past the CSR's range: a sleep until then lasts forever. */
uint64_t timer_deadline_after(uint64_t now, uint64_t us);

/* The boot log on the device tree's console (log_start.c). */
void log_start(void);
void log_level_from_cmdline(void);

/* Per-hart state (percpu.c): one copy per hart, through tp. */
extern _Thread_local uint64_t current_hart;
extern _Thread_local const struct boot_percpu *this_percpu;
const struct boot_percpu *percpu_of(uint64_t hart_id);
/* The hart's Early per-CPU work: its identity, stack bounds and TLS. */
void percpu_init(void);
/* Every online hart's TLS block holds that hart's own id. */
void percpu_check_tls(void);

/* A hart's state as the kernel wants it (cpu.c): Early, per CPU. */
void cpu_reset_state(void);

/* Random numbers (random.c): the boot seed, then one stream per hart. */
void random_init(void);
void random_init_hart(void);
uint64_t random_u64(void);

/* The other harts (smp.c). */
/* The boot hart starts the others and waits until each is online or late. */
void smp_start_harts(void);
/* A hart's first step once it knows itself: a hart too late to be let in
 * stops here. */
void smp_hart_arrive(void);
/* `kernel: early`: this hart's Early work is done; it counts from now on. */
void smp_hart_online(void);
/* Every online hart waits here until all have arrived. */
void smp_barrier(void);
/* Late: this hart runs what smp_call asks of it. */
void smp_take_calls(void);
/* Runs function(argument) on a hart past Late, in its interrupt handler (or
 * here, with interrupts off, if it is this hart), and waits until it
 * returns; false if that hart is not there. */
bool smp_call(uint64_t hart_id, void (*function)(void *argument), void *argument);
/* Runs function on every hart past Late, this one included, and returns
 * once all have: at once on up to 16 harts, on more in rounds of 16 (the
 * calls wait on the caller's stack), so a function must not wait for
 * another hart's call to start. The hart at index i of BootInfo's list gets
 * arguments + i * size, and ran[i] says whether it ran. Returns how many
 * harts did. */
unsigned smp_call_everywhere(void (*function)(void *argument), void *arguments, size_t size,
                             bool ran[BOOTINFO_MAX_HARTS]);
bool smp_is_online(uint64_t hart_id);
/* The last online hart other than the boot hart, or the boot hart. */
uint64_t smp_last_secondary(void);

/* Physical memory seen through the direct map. */
static inline void *phys_to_virt(uint64_t phys)
{
    return (void *)(uintptr_t)(phys + boot_info->direct_map_offset);
}

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
/* With `debug` or `ktest` on the command line: panics on a writable and
 * executable page or any lower-half mapping (`mm: check`). */
void vm_check(void);

/* The kernel heap (heap.c): objects of any size, 16-byte aligned, from any
 * hart. kfree(NULL) does nothing. */
void heap_init(void);
void *kmalloc(size_t size);
void *kzalloc(size_t size); /* zeroed */
void kfree(void *pointer);

/* The command line (cmdline.c), from BootInfo; `kernel: cmdline`. */
void cmdline_init(void);
bool cmdline_has(const char *word);
/* The value of `key=value`, or NULL. */
const char *cmdline_value(const char *key);

/* Deliberate faults for testing the fault paths (fault.c). */
void fault_prepare(void);
/* Before vm_check: plants the bad mapping fault=vm-wx asks for. */
void fault_inject_mapping(void);
void fault_inject_here(void);

/* Reading addresses (symbols.c): the kernel function that holds `address`,
 * with `*offset` set to how far into it, or NULL (and *offset untouched). */
const char *symbol_name(uintptr_t address, uintptr_t *offset);
/* `function+0xoff` for the address, or the address in hex: for a report's
 * one line. */
#define SYMBOL_TEXT_SIZE 80
void symbol_describe(char *text, size_t size, uintptr_t address);
/* The call chain after a panic report (backtrace.c), from the frame that was
 * running at `pc` with frame pointer `fp` and return address register `ra`. */
void backtrace_log(uintptr_t pc, uintptr_t fp, uintptr_t ra);

/* Stopping (panic.c). */
/* A report of a fatal error, owned by the first hart that panics: `kernel:
 * panic reason=...`, the detail, a backtrace, then the power-off. */
__attribute__((format(printf, 2, 3))) noreturn void kernel_panic(const char *reason,
                                                                const char *detail, ...);
/* A panic report of another form: panic_begin() returns only on the hart
 * that owns the report (any other stops there), which prints it and ends
 * with panic_end(): the other harts' fate, then the power-off with failure
 * status. */
void panic_begin(void);
noreturn void panic_end(void);
/* Whether some hart has panicked (or is powering off: it takes the end of
 * the machine the same way). */
bool panic_in_progress(void);
/* Every spin loop calls this: once another hart has panicked, this one
 * stops here for good. */
void panic_stop_if_panicking(void);
/* Early, boot hart: finds the device that powers off with a failure status,
 * while mapping it is still safe. */
void poweroff_prepare(void);
/* Orderly shutdown: the other harts stopped, `kernel: poweroff status=ok`,
 * and QEMU exits 0; if no way of powering off works, `kernel: halt
 * reason=poweroff-failed` and every hart stays stopped. */
noreturn void kernel_poweroff(void);
/* Orderly shutdown after a failure found without a panic: `status=WORD`. */
noreturn void kernel_poweroff_failed(const char *status);
/* With `poweroff` on the command line: kernel_poweroff(). */
void poweroff_if_asked(void);

/* The lockup watch (lockup.c), from each tick: this hart shows it ticks,
 * and reports the hart it watches if that one has stopped ticking. */
void lockup_tick(uintptr_t interrupted_pc);
/* The most ticks a watcher has taken while the hart it watches took none,
 * and how many make a lockup: for the ktests, which report how close a
 * boot came. */
uint64_t lockup_longest_silence(void);
uint32_t lockup_threshold_ticks(void);

/* Late (trap.c): this hart takes interrupts; `kernel: late`. */
void interrupts_start(void);

#endif
