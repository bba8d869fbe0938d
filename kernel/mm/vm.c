/*
 * The kernel's page tables. vm_init() builds them on the boot hart during
 * Main, from what the kernel knows of itself and from what the loader mapped:
 *
 *   kernel image    from the kernel's own linker symbols: text r-x, rodata
 *                   r--, data, TLS template and bss rw-
 *   direct map      copied from the loader's leaves (virtual = physical +
 *                   offset): the loader left out the no-map ranges, which
 *                   BootInfo does not list
 *   per-hart slots  copied from the loader's leaves in each hart's stack and
 *                   TLS block: BootInfo gives their virtual addresses only
 *   device window   the devices handed out so far (devices.c)
 *
 * Every mapping is global and never both writable and executable; nothing
 * maps the lower half. Each hart then switches over (vm_enter), and the
 * loader's tables become free memory.
 *
 * Changes take a lock. Unmapping and protecting flush the range from every
 * hart's TLB, each flushing its own when asked (flush_everywhere). Table
 * pages that vm_unmap leaves empty are kept, not freed.
 */
#include <aubade/cpus.h>
#include <aubade/csr.h>
#include <aubade/log.h>
#include <aubade/memmap.h>
#include <aubade/string.h>

#include "boot/boot.h"
#include "debug/debug.h"
#include "ktest/ktest.h" /* up: the W+X check runs with the ktests */
#include "mm/mm.h"
#include "smp/smp.h"

/* Above this many pages, one flush of everything is cheaper than a flush
 * per page. */
#define FLUSH_ALL_PAGES 64

extern char __kernel_start[], __kernel_rodata_start[], __kernel_writable_start[],
    __kernel_symbols_start[], __kernel_end[];

static struct sv39 kernel_tables;
static struct spinlock tables_lock = SPINLOCK_INIT("kernel-tables");
static bool ready;
/* Without Svpbmt, Sv39 takes cacheability from the platform's PMAs, which
 * make device regions uncached; with it, device pages say so themselves. */
static bool svpbmt;
/* By index in BootInfo's hart list: this hart runs on the kernel's tables. */
static bool entered[BOOTINFO_MAX_HARTS];

static uint64_t alloc_table(void *context)
{
    (void)context;
    uint64_t table = frames_alloc(SV39_PAGE_SIZE, SV39_PAGE_SIZE);
    if (table)
        memset(phys_to_virt(table), 0, SV39_PAGE_SIZE);
    return table;
}

static uint64_t *table_address(void *context, uint64_t phys)
{
    (void)context;
    return phys_to_virt(phys);
}

void vm_activate(const struct sv39 *tables)
{
    uint64_t satp = sv39_satp((tables ? tables : vm_kernel_tables())->root);
    if (csr_read(satp) == satp)
        return;
    csr_write(satp, satp);
    /* One ASID for all: what the last address space left is stale. */
    asm volatile("sfence.vma" ::: "memory");
}

bool vm_tables_create(struct sv39 *tables)
{
    *tables = (struct sv39){.alloc_table = alloc_table, .table_address = table_address};
    tables->root = alloc_table(NULL);
    return tables->root != 0;
}

const struct sv39 *vm_kernel_tables(void)
{
    return &kernel_tables;
}

const char *vm_strerror(int error)
{
    switch (error) {
    case VM_LOWER_HALF:
        return "lower-half";
    case VM_WRITABLE_EXECUTABLE:
        return "writable-and-executable";
    case VM_BAD_PERMISSIONS:
        return "bad-permissions";
    default:
        return sv39_strerror(error);
    }
}

/* Building the tables (vm_init). */

static void map_or_panic(uint64_t virt, uint64_t phys, uint64_t size, uint64_t permissions)
{
    int error = sv39_map(&kernel_tables, virt, phys, size, permissions);
    if (error)
        kernel_panic("vm-map-failed", "mapping 0x%lx-0x%lx to 0x%lx: %s", virt, virt + size, phys,
                     sv39_strerror(error));
}

static void map_kernel_image(void)
{
    const struct boot_range *virt = &boot_info->kernel_virt;
    if ((uintptr_t)__kernel_start != virt->start || (uintptr_t)__kernel_end > virt->end)
        kernel_panic("vm-kernel-layout", "linked at 0x%lx-0x%lx, loaded at 0x%lx-0x%lx",
                     (uintptr_t)__kernel_start, (uintptr_t)__kernel_end, virt->start, virt->end);
    const struct {
        const char *start, *end;
        uint64_t permissions;
    } parts[] = {
        {__kernel_start, __kernel_rodata_start, PTE_R | PTE_X},
        {__kernel_rodata_start, __kernel_writable_start, PTE_R},
        {__kernel_writable_start, __kernel_symbols_start, PTE_R | PTE_W},
        {__kernel_symbols_start, __kernel_end, PTE_R},
    };
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        uintptr_t start = (uintptr_t)parts[i].start, end = (uintptr_t)parts[i].end;
        map_or_panic(start, boot_info->kernel_phys.start + (start - virt->start), end - start,
                     parts[i].permissions | PTE_G);
    }
}

static uint64_t hart_slot_end(const struct boot_percpu *hart)
{
    return hart->tls + align_up(boot_info->tls_template.memsz, SV39_PAGE_SIZE);
}

static bool in_hart_slot(const struct sv39_leaf *leaf)
{
    for (uint32_t i = 0; i < boot_info->hart_count; i++) {
        const struct boot_percpu *hart = &boot_info->harts[i];
        if (leaf->virt >= hart->stack.start && leaf->virt + leaf->size <= hart_slot_end(hart))
            return true;
    }
    return false;
}

/* A leaf of the loader's tables: direct map and hart slots are taken over
 * as data (rw-); the rest is the loader's identity map, the kernel image
 * and the device window, which vm_init maps its own way. */
static void take_over(void *context, const struct sv39_leaf *leaf)
{
    (void)context;
    bool direct = leaf->virt - leaf->phys == boot_info->direct_map_offset;
    if (direct || in_hart_slot(leaf))
        map_or_panic(leaf->virt, leaf->phys, leaf->size, PTE_R | PTE_W | PTE_G);
}

/* Every page of every hart's stack and TLS block came across. */
static void check_hart_slots(void)
{
    for (uint32_t i = 0; i < boot_info->hart_count; i++) {
        const struct boot_percpu *hart = &boot_info->harts[i];
        for (uint64_t page = hart->stack.start; page < hart_slot_end(hart);
             page += SV39_PAGE_SIZE) {
            struct sv39_leaf leaf;
            if (sv39_translate(&kernel_tables, page, &leaf) != SV39_OK)
                kernel_panic("vm-percpu-missing", "hart %lu: 0x%lx is not in the loader's tables",
                             hart->hart_id, page);
        }
    }
}

void vm_init(void)
{
    /* 1. An empty root. */
    if (!vm_tables_create(&kernel_tables))
        kernel_panic("vm-no-memory", "no page for the kernel's root table");
    svpbmt = cpus_all_have_extension(&device_tree, "svpbmt");

    /* 2. The kernel, from its own symbols. */
    map_kernel_image();

    /* 3. The direct map and the hart slots, from the loader's tables. */
    struct sv39 loader_tables = {.root = boot_info->page_table_root,
                                 .table_address = table_address};
    sv39_walk(&loader_tables, take_over, NULL);
    check_hart_slots();

    /* 4. The devices handed out so far, now with just their pages. */
    int error = devices_map_early();
    if (error)
        kernel_panic("vm-map-failed", "device window: %s", vm_strerror(error));

    ready = true;
    log_debug("mm", "tables", "root=0x%lx svpbmt=%u", kernel_tables.root, svpbmt);
}

bool vm_ready(void)
{
    return ready;
}

void vm_enter(void)
{
    /* Announced before the switch: a hart changing the tables from now on
     * flushes this one too (see flush_everywhere). */
    __atomic_store_n(&entered[this_percpu - boot_info->harts], true, __ATOMIC_SEQ_CST);
    csr_write(satp, sv39_satp(kernel_tables.root));
    asm volatile("sfence.vma" ::: "memory");
}

/* Flushing the TLBs. */

static void flush_local(uintptr_t virt, size_t size)
{
    if (size / SV39_PAGE_SIZE > FLUSH_ALL_PAGES) {
        asm volatile("sfence.vma" ::: "memory");
        return;
    }
    for (uintptr_t page = virt; page - virt < size; page += SV39_PAGE_SIZE)
        asm volatile("sfence.vma %0, zero" ::"r"(page) : "memory");
}

static void flush_here(void *argument)
{
    const uintptr_t *range = argument;
    flush_local(range[0], range[1]);
}

/* Every hart on the kernel's tables, this one included, all at once: an
 * smp_call to each, which flushes in its IPI handler (and takes this hart
 * on its own hart for the whole of it: a task moved in between would flush
 * one hart twice and another not at all).
 *
 * Not SBI's remote sfence: OpenSBI 1.1 (QEMU 7.2's) goes through the harts
 * of the mask one at a time, each a round trip the sender waits for in
 * M-mode, so a fence costs harts - 1 round trips back to back, and harts
 * freeing stacks together fence each other for seconds (docs/smp.md). */
static void flush_everywhere(uintptr_t virt, size_t size)
{
    uintptr_t range[2] = {virt, size};
    bool ran[BOOTINFO_MAX_HARTS];
    smp_call_everywhere(flush_here, range, 0, ran);
    for (uint32_t i = 0; i < boot_info->hart_count; i++)
        if (__atomic_load_n(&entered[i], __ATOMIC_SEQ_CST) && !ran[i])
            kernel_panic("vm-flush", "hart %lu runs on the kernel's tables but takes no calls "
                                     "yet: nothing may be unmapped before Late",
                         boot_info->harts[i].hart_id);
}

/* Changing the tables. Stores to them are ordered before the other harts'
 * flushes by the call that asks for them (a release, then an acquire). */

static int check_permissions(unsigned permissions)
{
    if ((permissions & (PTE_W | PTE_X)) == (PTE_W | PTE_X))
        return VM_WRITABLE_EXECUTABLE;
    if ((permissions & ~(unsigned)(PTE_R | PTE_W | PTE_X)) || !(permissions & (PTE_R | PTE_X)) ||
        ((permissions & PTE_W) && !(permissions & PTE_R)))
        return VM_BAD_PERMISSIONS;
    return 0;
}

/* What vm_map and vm_protect refuse before touching the tables. */
static int check_request(uintptr_t virt, unsigned permissions)
{
    return virt < KERNEL_HALF ? VM_LOWER_HALF : check_permissions(permissions);
}

int vm_map(uintptr_t virt, uint64_t phys, size_t size, unsigned permissions)
{
    int error = check_request(virt, permissions);
    if (error)
        return error;
    uint64_t were_enabled = spin_lock_irqsave(&tables_lock);
    error = sv39_map(&kernel_tables, virt, phys, size, permissions | PTE_G);
    spin_unlock_irqrestore(&tables_lock, were_enabled);
    /* Harts may cache an empty entry; this one may have just looked. */
    flush_local(virt, size);
    return error;
}

int vm_map_device(uintptr_t virt, uint64_t phys, size_t size)
{
    if (virt < KERNEL_HALF)
        return VM_LOWER_HALF;
    if ((virt | phys | size) & (SV39_PAGE_SIZE - 1))
        return SV39_MISALIGNED;
    uint64_t permissions = PTE_R | PTE_W | PTE_G | (svpbmt ? PTE_PBMT_IO : 0);
    int error = 0;
    uint64_t were_enabled = spin_lock_irqsave(&tables_lock);
    /* Step over what is mapped, and map each hole the walk finds with the
     * biggest pages that fit: the window maps a page always to the same
     * physical page, so what is there already is right. */
    for (size_t done = 0; done < size && !error;) {
        struct sv39_leaf found;
        bool mapped = sv39_translate(&kernel_tables, virt + done, &found) == SV39_OK;
        uint64_t next = found.virt + found.size - virt;
        if (!mapped)
            error = sv39_map(&kernel_tables, virt + done, phys + done,
                             (next < size ? next : size) - done, permissions);
        done = next;
    }
    spin_unlock_irqrestore(&tables_lock, were_enabled);
    flush_local(virt, size);
    return error;
}

int vm_unmap(uintptr_t virt, size_t size)
{
    if (virt < KERNEL_HALF)
        return VM_LOWER_HALF;
    uint64_t were_enabled = spin_lock_irqsave(&tables_lock);
    int error = sv39_unmap(&kernel_tables, virt, size);
    spin_unlock_irqrestore(&tables_lock, were_enabled);
    if (error)
        return error;
    flush_everywhere(virt, size);
    return 0;
}

int vm_protect(uintptr_t virt, size_t size, unsigned permissions)
{
    int error = check_request(virt, permissions);
    if (error)
        return error;
    uint64_t were_enabled = spin_lock_irqsave(&tables_lock);
    error = sv39_protect(&kernel_tables, virt, size, permissions | PTE_G);
    spin_unlock_irqrestore(&tables_lock, were_enabled);
    if (error)
        return error;
    flush_everywhere(virt, size);
    return 0;
}

bool vm_lookup(uintptr_t virt, struct sv39_leaf *leaf)
{
    uint64_t were_enabled = spin_lock_irqsave(&tables_lock);
    int error = sv39_translate(&kernel_tables, virt, leaf);
    spin_unlock_irqrestore(&tables_lock, were_enabled);
    return error == SV39_OK;
}

bool vm_translate(uintptr_t virt, uint64_t *phys)
{
    struct sv39_leaf leaf;
    if (!vm_lookup(virt, &leaf))
        return false;
    *phys = leaf.phys + (virt - leaf.virt);
    return true;
}

/* The self-check. */

struct findings {
    unsigned leaves, wx, identity;
    struct sv39_leaf first_wx, first_identity;
};

static void inspect(void *context, const struct sv39_leaf *leaf)
{
    struct findings *findings = context;
    findings->leaves++;
    if ((leaf->pte & (PTE_W | PTE_X)) == (PTE_W | PTE_X) && findings->wx++ == 0)
        findings->first_wx = *leaf;
    if (leaf->virt < KERNEL_HALF && findings->identity++ == 0)
        findings->first_identity = *leaf;
}

void vm_check(void)
{
    if (!ktest_requested() && !cmdline_has("debug"))
        return;
    struct findings findings = {0};
    uint64_t were_enabled = spin_lock_irqsave(&tables_lock);
    sv39_walk(&kernel_tables, inspect, &findings);
    spin_unlock_irqrestore(&tables_lock, were_enabled);
    if (findings.wx)
        kernel_panic("vm-wx", "range=0x%lx-0x%lx is writable and executable (%u such pages)",
                     findings.first_wx.virt, findings.first_wx.virt + findings.first_wx.size,
                     findings.wx);
    if (findings.identity)
        kernel_panic("vm-identity", "range=0x%lx-0x%lx is mapped in the lower half (%u pages)",
                     findings.first_identity.virt,
                     findings.first_identity.virt + findings.first_identity.size,
                     findings.identity);
    log_event("mm", "check", "leaves=%u wx=0 identity=0", findings.leaves);
}
