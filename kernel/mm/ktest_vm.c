/* The kernel's page tables: mapping, protecting, unmapping, devices, and TLB
 * shootdowns. Every case maps its pages in VM_SCRATCH_BASE's gigabyte, which
 * nothing else uses, and leaves it empty. */
#include <aubade/log.h>
#include <aubade/string.h>

#include "boot/boot.h"
#include "ktest/ktest.h"
#include "mm/mm.h"
#include "sched/sched.h"
#include "smp/smp.h"

#define PAGE SV39_PAGE_SIZE
#define TEST_VIRT VM_SCRATCH_BASE

/* A frame of its own, every word holding `pattern`. */
static uint64_t filled_frame(uint64_t pattern)
{
    uint64_t frame = frames_alloc(PAGE, PAGE);
    uint64_t *words = frame ? phys_to_virt(frame) : NULL;
    for (size_t i = 0; words && i < PAGE / sizeof(uint64_t); i++)
        words[i] = pattern;
    return frame;
}

KTEST(vm, mapped_frame_is_the_same_memory_at_both_addresses)
{
    uint64_t frame = filled_frame(0);
    KTEST_ASSERT(t, frame != 0);
    KTEST_ASSERT_EQ(t, vm_map(TEST_VIRT, frame, PAGE, PTE_R | PTE_W), 0);
    volatile uint64_t *mapped = (volatile uint64_t *)TEST_VIRT;
    volatile uint64_t *direct = phys_to_virt(frame);
    mapped[3] = 0x5eed;
    KTEST_EXPECT_EQ(t, direct[3], 0x5eed);
    direct[7] = 0xfeed;
    KTEST_EXPECT_EQ(t, mapped[7], 0xfeed);
    KTEST_EXPECT_EQ(t, vm_unmap(TEST_VIRT, PAGE), 0);
    frames_free(frame, PAGE);
}

KTEST(vm, translate_gives_the_physical_address)
{
    uint64_t frame = filled_frame(0);
    KTEST_ASSERT(t, frame != 0);
    KTEST_ASSERT_EQ(t, vm_map(TEST_VIRT, frame, PAGE, PTE_R), 0);
    uint64_t phys = 0;
    KTEST_EXPECT(t, vm_translate(TEST_VIRT + 0x123, &phys));
    KTEST_EXPECT_EQ(t, phys, frame + 0x123);
    KTEST_EXPECT(t, vm_translate((uintptr_t)&boot_info, &phys));
    KTEST_EXPECT_EQ(t, phys, boot_info->kernel_phys.start +
                                 ((uintptr_t)&boot_info - boot_info->kernel_virt.start));
    KTEST_EXPECT_EQ(t, vm_unmap(TEST_VIRT, PAGE), 0);
    frames_free(frame, PAGE);
}

KTEST(vm, protect_to_read_only_and_back)
{
    uint64_t frame = filled_frame(0x1234);
    KTEST_ASSERT(t, frame != 0);
    KTEST_ASSERT_EQ(t, vm_map(TEST_VIRT, frame, PAGE, PTE_R | PTE_W), 0);
    struct sv39_leaf leaf;

    KTEST_EXPECT_EQ(t, vm_protect(TEST_VIRT, PAGE, PTE_R), 0);
    KTEST_EXPECT(t, vm_lookup(TEST_VIRT, &leaf));
    KTEST_EXPECT_EQ(t, leaf.pte & (PTE_R | PTE_W | PTE_X | PTE_G), PTE_R | PTE_G);
    KTEST_EXPECT_EQ(t, leaf.phys, frame);
    KTEST_EXPECT_EQ(t, *(volatile uint64_t *)TEST_VIRT, 0x1234);

    KTEST_EXPECT_EQ(t, vm_protect(TEST_VIRT, PAGE, PTE_R | PTE_W), 0);
    KTEST_EXPECT(t, vm_lookup(TEST_VIRT, &leaf));
    KTEST_EXPECT_EQ(t, leaf.pte & (PTE_R | PTE_W | PTE_X | PTE_G), PTE_R | PTE_W | PTE_G);
    *(volatile uint64_t *)TEST_VIRT = 0x4321;
    KTEST_EXPECT_EQ(t, *(volatile uint64_t *)phys_to_virt(frame), 0x4321);

    KTEST_EXPECT_EQ(t, vm_unmap(TEST_VIRT, PAGE), 0);
    frames_free(frame, PAGE);
}

KTEST(vm, unmapped_page_does_not_translate)
{
    uint64_t frame = filled_frame(0);
    KTEST_ASSERT(t, frame != 0);
    KTEST_ASSERT_EQ(t, vm_map(TEST_VIRT, frame, PAGE, PTE_R), 0);
    KTEST_EXPECT_EQ(t, vm_unmap(TEST_VIRT, PAGE), 0);
    uint64_t phys = 0;
    KTEST_EXPECT(t, !vm_translate(TEST_VIRT, &phys));
    KTEST_EXPECT_EQ(t, vm_protect(TEST_VIRT, PAGE, PTE_R), SV39_NOT_MAPPED);
    frames_free(frame, PAGE);
}

KTEST(vm, writable_and_executable_is_refused)
{
    uint64_t frame = filled_frame(0);
    KTEST_ASSERT(t, frame != 0);
    uint64_t phys;
    KTEST_EXPECT_EQ(t, vm_map(TEST_VIRT, frame, PAGE, PTE_R | PTE_W | PTE_X),
                    VM_WRITABLE_EXECUTABLE);
    KTEST_EXPECT(t, !vm_translate(TEST_VIRT, &phys));
    KTEST_ASSERT_EQ(t, vm_map(TEST_VIRT, frame, PAGE, PTE_R | PTE_X), 0);
    KTEST_EXPECT_EQ(t, vm_protect(TEST_VIRT, PAGE, PTE_R | PTE_W | PTE_X),
                    VM_WRITABLE_EXECUTABLE);
    KTEST_EXPECT_EQ(t, vm_protect(TEST_VIRT, PAGE, PTE_W), VM_BAD_PERMISSIONS);
    KTEST_EXPECT_EQ(t, vm_unmap(TEST_VIRT, PAGE), 0);
    frames_free(frame, PAGE);
}

KTEST(vm, lower_half_is_refused)
{
    uint64_t frame = filled_frame(0);
    KTEST_ASSERT(t, frame != 0);
    uint64_t phys;
    KTEST_EXPECT_EQ(t, vm_map(frame, frame, PAGE, PTE_R | PTE_W), VM_LOWER_HALF);
    KTEST_EXPECT(t, !vm_translate(frame, &phys));
    KTEST_EXPECT_EQ(t, vm_protect(frame, PAGE, PTE_R), VM_LOWER_HALF);
    KTEST_EXPECT_EQ(t, vm_unmap(frame, PAGE), VM_LOWER_HALF);
    frames_free(frame, PAGE);
}

/* The console's registers, as the device tree gives them. */
static bool console_registers(uint64_t *base)
{
    const char *path = fdt_prop_string(&device_tree, fdt_find(&device_tree, "/chosen"),
                                       "stdout-path");
    uint64_t size;
    return path && fdt_reg(&device_tree, fdt_find(&device_tree, path), 0, base, &size);
}

static bool in_device_window(uintptr_t virt, uint64_t size)
{
    return virt >= DEVICE_WINDOW && virt - DEVICE_WINDOW + size <= DEVICE_WINDOW_SIZE;
}

/* The registers' address translates to them, as device memory: rw-. */
static void expect_device_mapping(struct ktest *t, uintptr_t virt, uint64_t phys)
{
    struct sv39_leaf leaf;
    if (!KTEST_EXPECT(t, in_device_window(virt, 1) && vm_lookup(virt, &leaf))) {
        ktest_note(t, "0x%lx at 0x%lx: not mapped in the device window", phys, virt);
        return;
    }
    KTEST_EXPECT_EQ(t, leaf.phys + (virt - leaf.virt), phys);
    KTEST_EXPECT_EQ(t, leaf.pte & (PTE_R | PTE_W | PTE_X), PTE_R | PTE_W);
}

KTEST(vm, device_map_gives_the_same_address_twice)
{
    uint64_t base;
    if (!console_registers(&base)) {
        ktest_skip(t, "no console in the device tree");
        return;
    }
    /* Mapped in Early by the console, then again by its input driver. */
    uintptr_t first = device_map(base, 8);
    expect_device_mapping(t, first, base);
    KTEST_EXPECT_EQ(t, device_map(base, 8), first);
    KTEST_EXPECT_EQ(t, device_map(base + 4, 4), first + 4);
}

KTEST(vm, device_map_reuses_a_range_for_registers_inside_it)
{
    /* Far above DRAM and any device on the boards QEMU models; mapped, never
     * touched. A new range, then registers inside it, then others. */
    const uint64_t base = 0x3ff00000000;
    uintptr_t virt = device_map(base, 0x3000);
    KTEST_ASSERT(t, virt != 0);
    expect_device_mapping(t, virt + 0x2ff8, base + 0x2ff8);
    KTEST_EXPECT_EQ(t, device_map(base, 0x3000), virt);
    KTEST_EXPECT_EQ(t, device_map(base + 0x1010, 0x10), virt + 0x1010);
    uintptr_t next = device_map(base + 0x3000, 0x1000);
    KTEST_EXPECT(t, next != 0 && (next < virt || next >= virt + 0x3000));
    expect_device_mapping(t, next, base + 0x3000);
}

KTEST(vm, device_map_reaches_registers_far_above_64_gib)
{
    /* TH1520's UART, SG2042's, and the last page below 2^56: translated,
     * never touched. */
    static const uint64_t registers[] = {0xffe7014000, 0x7040000000, (1ul << 56) - 0x1000};
    for (unsigned i = 0; i < sizeof(registers) / sizeof(registers[0]); i++) {
        uintptr_t virt = device_map(registers[i], 0x100);
        if (!KTEST_EXPECT(t, virt != 0))
            ktest_note(t, "0x%lx was not mapped", registers[i]);
        else
            expect_device_mapping(t, virt + 0xf8, registers[i] + 0xf8);
    }
}

KTEST(vm, device_map_refuses_what_it_cannot_map)
{
    /* Past 56 bits no page-table entry reaches; more than the window holds. */
    KTEST_EXPECT_EQ(t, device_map(1ul << 56, 8), 0);
    KTEST_EXPECT_EQ(t, device_map((1ul << 56) - 0x1000, 0x2000), 0);
    KTEST_EXPECT_EQ(t, device_map(0x4000000000, DEVICE_WINDOW_SIZE + SV39_PAGE_SIZE), 0);
}

KTEST(vm, device_map_uses_megapages_where_aligned)
{
    /* Below DRAM on every board; mapped, never touched. */
    const uint64_t base = 0x7fc00000;
    uintptr_t virt = device_map(base, 2 * SV39_MEGAPAGE_SIZE);
    KTEST_ASSERT(t, virt != 0);
    struct sv39_leaf leaf;
    for (uint64_t offset = 0; offset < 2 * SV39_MEGAPAGE_SIZE; offset += SV39_MEGAPAGE_SIZE) {
        KTEST_ASSERT(t, vm_lookup(virt + offset, &leaf));
        KTEST_EXPECT_EQ(t, leaf.size, SV39_MEGAPAGE_SIZE);
        KTEST_EXPECT_EQ(t, leaf.phys, base + offset);
        KTEST_EXPECT_EQ(t, leaf.pte & (PTE_R | PTE_W | PTE_X), PTE_R | PTE_W);
    }
}

struct remote_read {
    const volatile uint64_t *address;
    uint64_t value;
};

static void read_on_this_hart(void *argument)
{
    struct remote_read *read = argument;
    read->value = *read->address;
}

/* Another hart caches the translation by reading the page; after an unmap
 * and a map of another frame at the same address it must read the new one. */
KTEST(vm, unmap_flushes_the_other_harts)
{
    uint64_t old_frame = filled_frame(0x01d), new_frame = filled_frame(0x2e3);
    KTEST_ASSERT(t, old_frame != 0 && new_frame != 0);
    unsigned others = 0;
    for (uint32_t i = 0; i < boot_info->hart_count; i++) {
        uint64_t hart = boot_info->harts[i].hart_id;
        if (hart == current_hart || !smp_is_online(hart))
            continue;
        others++;
        struct remote_read read = {(const volatile uint64_t *)TEST_VIRT, 0};
        KTEST_ASSERT_EQ(t, vm_map(TEST_VIRT, old_frame, PAGE, PTE_R), 0);
        KTEST_EXPECT(t, smp_call(hart, read_on_this_hart, &read));
        KTEST_EXPECT_EQ(t, read.value, 0x01d);

        KTEST_ASSERT_EQ(t, vm_unmap(TEST_VIRT, PAGE), 0);
        KTEST_ASSERT_EQ(t, vm_map(TEST_VIRT, new_frame, PAGE, PTE_R), 0);
        KTEST_EXPECT(t, smp_call(hart, read_on_this_hart, &read));
        if (!KTEST_EXPECT_EQ(t, read.value, 0x2e3))
            ktest_note(t, "hart %lu", hart);
        KTEST_EXPECT_EQ(t, vm_unmap(TEST_VIRT, PAGE), 0);
    }
    frames_free(old_frame, PAGE);
    frames_free(new_frame, PAGE);
    if (others == 0)
        ktest_skip(t, "only one hart online");
}

/* Every online hart at once maps, reads and unmaps a page of its own, many
 * times: each unmap flushes every other hart while those flush it, the
 * storm of remote fences that freeing many task stacks at once makes. No
 * hart may read another frame's word, and none may stop for good (the
 * lockup watch would report it). */

#define STORM_ROUNDS 150
#define STORM_WAIT_MS 20000

struct storm {
    uint64_t finished, wrong_reads, failed_calls;
};

static struct storm storm;

static void flush_storm(void *argument)
{
    uintptr_t virt = (uintptr_t)argument;
    uint64_t frames[2] = {filled_frame(virt), filled_frame(~virt)};
    for (unsigned round = 0; frames[0] && frames[1] && round < STORM_ROUNDS; round++) {
        uint64_t frame = frames[round % 2], expected = round % 2 ? ~virt : virt;
        if (vm_map(virt, frame, PAGE, PTE_R) != 0) {
            __atomic_fetch_add(&storm.failed_calls, 1, __ATOMIC_RELAXED);
            break;
        }
        if (*(volatile uint64_t *)virt != expected)
            __atomic_fetch_add(&storm.wrong_reads, 1, __ATOMIC_RELAXED);
        if (vm_unmap(virt, PAGE) != 0) {
            __atomic_fetch_add(&storm.failed_calls, 1, __ATOMIC_RELAXED);
            break;
        }
    }
    for (unsigned i = 0; i < 2; i++)
        if (frames[i])
            frames_free(frames[i], PAGE);
    __atomic_fetch_add(&storm.finished, 1, __ATOMIC_RELEASE);
}

KTEST(vm, unmaps_on_every_hart_at_once)
{
    storm = (struct storm){0};
    uint64_t tasks = 0;
    for (uint32_t i = 0; i < boot_info->hart_count; i++) {
        if (!smp_is_online(boot_info->harts[i].hart_id))
            continue;
        uintptr_t virt = TEST_VIRT + (1 + i) * PAGE;
        struct task *task = task_create("storm", flush_storm, (void *)virt);
        KTEST_ASSERT(t, task != NULL);
        task->pinned = true;
        task->hart = i;
        task_start(task);
        tasks++;
    }
    uint64_t give_up = read_time() + timebase_hz * STORM_WAIT_MS / 1000;
    while (__atomic_load_n(&storm.finished, __ATOMIC_ACQUIRE) < tasks && read_time() < give_up)
        sched_sleep_us(2000);
    KTEST_ASSERT_EQ(t, storm.finished, tasks);
    KTEST_EXPECT_EQ(t, storm.failed_calls, 0);
    KTEST_EXPECT_EQ(t, storm.wrong_reads, 0);
    ktest_note(t, "%lu harts, %u unmaps each", tasks, STORM_ROUNDS);
}
