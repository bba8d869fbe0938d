/*
 * fault=NAME on the command line makes the kernel fail on purpose, so that
 * the tests can see each fault path report and power off:
 *
 *   null            the boot hart loads from address 0
 *   wx              the boot hart stores into its own text
 *   stack-overflow  one secondary hart (the boot hart if it is alone)
 *                   recurses until it runs into its stack's guard page
 *   illegal         the boot hart executes an illegal instruction
 *   misaligned      the boot hart does an atomic add on an odd address
 *   vm-wx           a writable and executable page is planted in the
 *                   kernel's tables, behind vm_map's back, for vm_check
 *                   (with `debug` on the command line) to find
 *   heap-overflow   the boot hart writes past the end of a 24-byte heap
 *                   object and frees it (caught with `scons debug=1`)
 *   heap-double-free  the boot hart frees a heap object twice (likewise)
 *   panic-every-hart  every online hart panics at the same instant: one
 *                   report, one power-off
 *   lockup          one secondary hart (the boot hart if it is alone) spins
 *                   with interrupts off for ever, for another's lockup watch
 *   lock-recursion  the boot hart takes a spinlock it holds (caught with
 *                   `scons debug=1`)
 */
#include <aubade/csr.h>
#include <aubade/fmt.h>
#include <aubade/log.h>
#include <aubade/string.h>

#include "boot/boot.h" /* up: faults are planted in every part they test */
#include "debug/debug.h"
#include "mm/mm.h" /* up: fault=vm-wx maps a bad page */
#include "smp/smp.h" /* up: fault=lock-recursion locks */

enum fault {
    FAULT_NONE,
    FAULT_NULL,
    FAULT_WX,
    FAULT_STACK_OVERFLOW,
    FAULT_ILLEGAL,
    FAULT_MISALIGNED,
    FAULT_HEAP_OVERFLOW,
    FAULT_HEAP_DOUBLE_FREE,
    FAULT_VM_WX,
    FAULT_PANIC_EVERY_HART,
    FAULT_LOCKUP,
    FAULT_LOCK_RECURSION,
};

static const char *const fault_names[] = {
    [FAULT_NULL] = "null",
    [FAULT_WX] = "wx",
    [FAULT_STACK_OVERFLOW] = "stack-overflow",
    [FAULT_ILLEGAL] = "illegal",
    [FAULT_MISALIGNED] = "misaligned",
    [FAULT_HEAP_OVERFLOW] = "heap-overflow",
    [FAULT_HEAP_DOUBLE_FREE] = "heap-double-free",
    [FAULT_VM_WX] = "vm-wx",
    [FAULT_PANIC_EVERY_HART] = "panic-every-hart",
    [FAULT_LOCKUP] = "lockup",
    [FAULT_LOCK_RECURSION] = "lock-recursion",
};

#define FAULT_COUNT (sizeof(fault_names) / sizeof(fault_names[0]))

static enum fault requested;
static uint64_t faulting_hart;

void fault_prepare(void)
{
    const char *name = cmdline_value("fault");
    if (name == NULL)
        return;
    for (enum fault f = FAULT_NULL; f < FAULT_COUNT; f++)
        if (strcmp(name, fault_names[f]) == 0)
            requested = f;
    if (requested == FAULT_NONE) {
        char known[200];
        size_t length = 0;
        for (enum fault f = FAULT_NULL; f < FAULT_COUNT; f++)
            length += fmt_snprintf(known + length, sizeof(known) - length, "%s%s",
                                   f == FAULT_NULL ? "" : ", ", fault_names[f]);
        kernel_panic("bad-cmdline", "fault=%s is not a known fault; known: %s", name, known);
    }
    bool on_a_secondary = requested == FAULT_STACK_OVERFLOW || requested == FAULT_LOCKUP;
    faulting_hart = on_a_secondary ? smp_last_secondary() : current_hart;
}

/* fault=panic-every-hart: each online hart waits for the others (1 s at
 * most), then all panic together. */
static uint32_t harts_ready_to_panic;

static noreturn void panic_with_every_hart(void)
{
    /* With interrupts off, so that the first hart's call to stop cannot
     * reach the others before they panic too. */
    interrupts_disable();
    uint32_t online = 0;
    for (uint32_t i = 0; i < boot_info->hart_count; i++)
        online += smp_is_online(boot_info->harts[i].hart_id);
    __atomic_add_fetch(&harts_ready_to_panic, 1, __ATOMIC_ACQ_REL);
    uint64_t give_up = read_time() + timebase_hz;
    while (__atomic_load_n(&harts_ready_to_panic, __ATOMIC_ACQUIRE) < online &&
           read_time() < give_up)
        ;
    kernel_panic("panic-every-hart", "hart %lu panicked with every other online hart",
                 current_hart);
}

/* What fault=lock-recursion takes twice. */
static struct spinlock fault_lock = SPINLOCK_INIT("fault");

/* What the misaligned atomic aims at: mapped and writable, so that only
 * its alignment can fault. */
static uint64_t misaligned_target[2];

/* Deep enough to pass any stack; the volatile frame and the work after the
 * call keep the compiler from turning the recursion into a loop. */
static uint64_t recurse(uint64_t depth)
{
    volatile uint8_t frame[256];
    frame[depth % sizeof(frame)] = (uint8_t)depth;
    if (depth == UINT64_MAX)
        return 0;
    return recurse(depth + 1) + frame[depth % sizeof(frame)];
}

void fault_inject_mapping(void)
{
    if (requested != FAULT_VM_WX)
        return;
    /* Straight through lib/sv39, which maps what vm_map would refuse. */
    uint64_t frame = frames_alloc(SV39_PAGE_SIZE, SV39_PAGE_SIZE);
    int error = frame ? sv39_map(vm_kernel_tables(), VM_SCRATCH_BASE + VM_SCRATCH_SIZE - SV39_PAGE_SIZE,
                                 frame, SV39_PAGE_SIZE, PTE_R | PTE_W | PTE_X | PTE_G)
                      : SV39_NO_MEMORY;
    if (error)
        kernel_panic("fault-missed", "fault=vm-wx could not plant its page: %s",
                     sv39_strerror(error));
}

void fault_inject_here(void)
{
    if (requested == FAULT_PANIC_EVERY_HART)
        panic_with_every_hart();
    if (requested == FAULT_NONE || current_hart != faulting_hart)
        return;
    /* Addresses go through volatiles, so the compiler emits the access it
     * could otherwise prove wrong and drop. */
    volatile uintptr_t address = 0;
    uint8_t *object;
    switch (requested) {
    case FAULT_NULL:
        (void)*(volatile uint64_t *)address;
        break;
    case FAULT_WX:
        address = (uintptr_t)fault_inject_here;
        *(volatile uint32_t *)address = 0;
        break;
    case FAULT_STACK_OVERFLOW:
        recurse(0);
        break;
    case FAULT_ILLEGAL:
        /* The 32-bit unimp (a write to the read-only cycle CSR), not the
         * compressed one, whose bits are all zero: the report must show
         * instruction bits that prove they were read. */
        asm volatile(".option push\n.option norvc\nunimp\n.option pop");
        break;
    case FAULT_MISALIGNED:
        /* An atomic, not a plain load: OpenSBI carries out a misaligned
         * load for the kernel, but not a misaligned AMO, which reaches the
         * kernel as a misaligned fault: load-misaligned on QEMU 7.2 (the
         * AMO's read faults first), store-misaligned where it is the write. */
        address = (uintptr_t)misaligned_target + 1;
        asm volatile("amoadd.d zero, %1, (%0)" ::"r"(address), "r"(1ul) : "memory");
        break;
    case FAULT_HEAP_OVERFLOW:
        /* 0: the redzone's canary has no zero byte, so this always shows. */
        object = kmalloc(24);
        address = (uintptr_t)object + 24;
        *(volatile uint8_t *)address = 0;
        kfree(object);
        break;
    case FAULT_HEAP_DOUBLE_FREE:
        object = kmalloc(24);
        kfree(object);
        kfree(object);
        break;
    case FAULT_LOCKUP:
        interrupts_disable();
        for (;;)
            ;
    case FAULT_LOCK_RECURSION:
        spin_lock(&fault_lock);
        spin_lock(&fault_lock);
        break;
    case FAULT_VM_WX: /* planted earlier: vm_check should have found it */
    case FAULT_PANIC_EVERY_HART:
    case FAULT_NONE:
        break;
    }
    kernel_panic("fault-missed", "fault=%s did not fault", fault_names[requested]);
}
