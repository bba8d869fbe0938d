/* The live device tree, as the parser and the drivers read it. */
#include <aubade/cpus.h>
#include <aubade/string.h>

#include "boot/boot.h"
#include "dev/dev.h"
#include "ktest/ktest.h"

KTEST(devicetree, cpus_found)
{
    int cpus = fdt_find(&device_tree, "/cpus");
    KTEST_ASSERT(t, cpus >= 0);
    unsigned count = 0;
    for (int cpu = fdt_first_child(&device_tree, cpus); cpu >= 0;
         cpu = fdt_next_sibling(&device_tree, cpu))
        count += fdt_is_compatible(&device_tree, cpu, "riscv");
    KTEST_EXPECT(t, count >= boot_info->hart_count);
}

/* The kernel judges the harts as the loader did: the same lib/cpus.c. */
KTEST(devicetree, bootinfo_harts_are_the_usable_cpu_nodes)
{
    int cpus = fdt_find(&device_tree, "/cpus");
    KTEST_ASSERT(t, cpus >= 0);
    uint32_t usable = 0;
    for (int cpu = fdt_first_child(&device_tree, cpus); cpu >= 0;
         cpu = fdt_next_sibling(&device_tree, cpu))
        usable += cpus_hart_usable(&device_tree, cpu) == CPUS_HART_USABLE;
    KTEST_EXPECT_EQ(t, usable, boot_info->hart_count);
    for (uint32_t i = 0; i < boot_info->hart_count; i++) {
        int cpu = cpus_find_hart(&device_tree, boot_info->harts[i].hart_id);
        KTEST_ASSERT(t, cpu >= 0);
        KTEST_EXPECT_EQ(t, cpus_hart_usable(&device_tree, cpu), CPUS_HART_USABLE);
    }
}

KTEST(devicetree, every_usable_hart_has_a_cpu_intc)
{
    for (uint32_t i = 0; i < boot_info->hart_count; i++) {
        uint64_t hart = boot_info->harts[i].hart_id;
        int cpu = cpus_find_hart(&device_tree, hart);
        KTEST_ASSERT(t, cpu >= 0);
        int intc = fdt_subnode(&device_tree, cpu, "interrupt-controller", 20);
        KTEST_ASSERT(t, intc >= 0);
        KTEST_EXPECT(t, fdt_is_compatible(&device_tree, intc, "riscv,cpu-intc"));
        uint64_t phandle, probed_hart = UINT64_MAX;
        KTEST_ASSERT(t, fdt_prop_u64(&device_tree, intc, "phandle", &phandle));
        KTEST_EXPECT(t, cpu_intc_hart((uint32_t)phandle, &probed_hart));
        KTEST_EXPECT_EQ(t, probed_hart, hart);
    }
}

/* A board whose console is the firmware's (spike: SBI over HTIF) has no UART
 * for the console cases to read: they are skipped there. */
static bool console_is_a_uart(struct ktest *t)
{
    if (log_on_firmware_console())
        ktest_skip(t, "the console is SBI's: no UART");
    return !log_on_firmware_console();
}

/* The interrupt controller of the console's UART: every board's tree gives
 * that one device an interrupt. */
static int console_controller(void)
{
    const char *path = fdt_prop_string(&device_tree, fdt_find(&device_tree, "/chosen"),
                                       "stdout-path");
    struct fdt_irq irq;
    if (path == NULL || !fdt_irq_at(&device_tree, fdt_find(&device_tree, path), 0, &irq))
        return FDT_ERR_NOT_FOUND;
    return irq.parent;
}

KTEST(devicetree, console_controller_is_a_probed_chip)
{
    if (!console_is_a_uart(t))
        return;
    int controller = console_controller();
    KTEST_ASSERT(t, controller >= 0);
    struct irq_chip *chip = irq_chip_of(controller);
    KTEST_ASSERT(t, chip != NULL);
    KTEST_EXPECT_EQ(t, chip->node, controller);
}

/* A PLIC's contexts, an APLIC's delivery controls, an IMSIC's files: each
 * output names a hart's local controller. */
KTEST(devicetree, controller_outputs_name_cpu_intc_nodes)
{
    if (!console_is_a_uart(t))
        return;
    int controller = console_controller();
    KTEST_ASSERT(t, controller >= 0);
    struct fdt_irq output;
    for (uint32_t cursor = 0; fdt_irq_next(&device_tree, controller, &cursor, &output);) {
        KTEST_EXPECT_EQ(t, output.cell_count, 1u);
        KTEST_EXPECT(t, fdt_is_compatible(&device_tree, output.parent, "riscv,cpu-intc"));
        const char *type = fdt_prop_string(&device_tree, fdt_parent(&device_tree, output.parent),
                                           "device_type");
        KTEST_EXPECT(t, type && strcmp(type, "cpu") == 0);
    }
}

KTEST(devicetree, console_node_is_matched_to_the_console_driver)
{
    if (!console_is_a_uart(t))
        return;
    int chosen = fdt_find(&device_tree, "/chosen");
    const char *path = fdt_prop_string(&device_tree, chosen, "stdout-path");
    KTEST_ASSERT(t, path != NULL);
    int node = fdt_find(&device_tree, path);
    KTEST_ASSERT(t, node >= 0);
    const struct driver *driver = driver_for_node(&device_tree, node);
    KTEST_ASSERT(t, driver != NULL);
    KTEST_EXPECT(t, strcmp(driver->name, "console") == 0);
}

KTEST(devicetree, no_compatible_is_listed_by_two_drivers)
{
    for (const struct driver *a = __drivers_start; a < __drivers_end; a++)
        for (const char *const *x = a->compatible; *x; x++)
            for (const struct driver *b = a; b < __drivers_end; b++)
                for (const char *const *y = b == a ? x + 1 : b->compatible; *y; y++)
                    if (!KTEST_EXPECT(t, strcmp(*x, *y) != 0))
                        ktest_note(t, "%s: drivers %s and %s", *x, a->name, b->name);
}

KTEST(devicetree, chosen_holds_the_command_line)
{
    int chosen = fdt_find(&device_tree, "/chosen");
    KTEST_ASSERT(t, chosen >= 0);
    KTEST_EXPECT_EQ(t, fdt_find(&device_tree, "/chosen/"), chosen);
    const char *bootargs = fdt_prop_string(&device_tree, chosen, "bootargs");
    KTEST_ASSERT(t, bootargs != NULL);
    KTEST_EXPECT(t, strcmp(bootargs, boot_info->cmdline) == 0);
    KTEST_EXPECT_EQ(t, fdt_find(&device_tree, "/chosen/no-such-node"), FDT_ERR_NOT_FOUND);
    KTEST_EXPECT_EQ(t, fdt_find(&device_tree, "no-such-alias"), FDT_ERR_NOT_FOUND);
}

/* Reads past a property's end find nothing, and no value is read as
 * another type it does not fit. */
KTEST(devicetree, property_bounds)
{
    if (!console_is_a_uart(t))
        return;
    int controller = console_controller();
    KTEST_ASSERT(t, controller >= 0);
    uint32_t count = 0;
    while (fdt_prop_string_at(&device_tree, controller, "compatible", count))
        count++;
    KTEST_EXPECT(t, count >= 1 && count <= 4);
    KTEST_EXPECT(t, fdt_prop_string_at(&device_tree, controller, "compatible", count + 1) == NULL);
    uint64_t value, base, size;
    KTEST_EXPECT(t, fdt_reg(&device_tree, controller, 0, &base, &size));
    KTEST_EXPECT(t, !fdt_reg(&device_tree, controller, 64, &base, &size));
    /* interrupts-extended is cells, no string; compatible is strings, no number. */
    KTEST_EXPECT(t, fdt_prop_string(&device_tree, controller, "interrupts-extended") == NULL);
    uint32_t len;
    KTEST_ASSERT(t, fdt_prop(&device_tree, controller, "compatible", &len) != NULL);
    KTEST_EXPECT(t, (len != 4 && len != 8) == !fdt_prop_u64(&device_tree, controller, "compatible",
                                                             &value));
    KTEST_EXPECT(t, fdt_prop(&device_tree, controller, "no-such-property", NULL) == NULL);
}
