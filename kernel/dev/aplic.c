/*
 * The advanced platform-level interrupt controller (APLIC, `riscv,aplic`)
 * of the RISC-V Advanced Interrupt Architecture: wired interrupt sources
 * in, organised in domains. The machine-level domain (firmware's, with
 * `riscv,children` and `riscv,delegate`) hands sources down to the
 * supervisor-level domain, the kernel's; each domain is a node and a
 * register page of its own.
 *
 * A domain delivers in one of two modes:
 *
 *  - direct (QEMU `aia=aplic`): one interrupt delivery control (IDC) per
 *    hart, in the order of the node's interrupts-extended (or by
 *    `riscv,hart-indexes`), raises that hart's external interrupt; the
 *    hart claims the top source from its IDC's claimi register.
 *  - MSI (QEMU `aia=aplic-imsic`, the node has `msi-parent`): a pending
 *    source is written as an MSI into a hart's IMSIC interrupt file
 *    (imsic.c), which raises the interrupt; the target register names the
 *    file (its hart index) and the identity to write. Firmware sets the
 *    MSI address layout (smsiaddrcfg, in the machine-level domain).
 *
 * A domain whose outputs are all machine mode's (the M-level domain, or
 * one whose msi-parent is the M-level IMSIC) is firmware's: the kernel
 * does not touch it, and routing a device to it is irq-hart's panic.
 *
 * Specifiers are <source trigger>, trigger as Linux's IRQ_TYPE_* (1 rising
 * edge, 2 falling edge, 4 high level, 8 low level). A source that firmware
 * did not delegate to this domain reads back as inactive: that is a named
 * panic (irq-not-delegated), not an interrupt that never comes.
 */
#include <aubade/irqchip.h>
#include <aubade/log.h>
#include <aubade/mmio.h>

#include "imsic.h"
#include "boot/boot.h"
#include "debug/debug.h"
#include "dev/dev.h"
#include "mm/mm.h"

#define APLIC_DOMAINCFG 0x0000
#define APLIC_DOMAINCFG_IE (1u << 8) /* interrupts enabled */
#define APLIC_DOMAINCFG_DM (1u << 2) /* delivery mode: MSI */
#define APLIC_SOURCECFG(source) (0x0004ul + 4ul * ((source) - 1))
/* Read: the sources' rectified inputs, a bit each (in_clrip). */
#define APLIC_IN_CLRIP(source) (0x1d00ul + 4ul * ((source) / 32))
#define APLIC_CLRIE(source) (0x1f00ul + 4ul * ((source) / 32))
#define APLIC_SETIENUM 0x1edc
#define APLIC_SETIPNUM_LE 0x2000
#define APLIC_TARGET(source) (0x3004ul + 4ul * ((source) - 1))
#define APLIC_TARGET_HART_SHIFT 18
#define APLIC_TARGET_PRIORITY 1 /* direct mode: the one priority the kernel uses */
#define APLIC_IDC(index) (0x4000ul + 32ul * (index))
#define APLIC_IDC_IDELIVERY 0x00
#define APLIC_IDC_ITHRESHOLD 0x08
#define APLIC_IDC_CLAIMI 0x1c
#define APLIC_CLAIMI_IDENTITY(value) (((value) >> 16) & 0x3ff)
#define APLIC_MAX_SOURCES 1023

/* sourcecfg's source modes, for a source the domain has (not delegated on). */
#define APLIC_SM_EDGE_RISING 4
#define APLIC_SM_EDGE_FALLING 5
#define APLIC_SM_LEVEL_HIGH 6
#define APLIC_SM_LEVEL_LOW 7

#define NO_IDC UINT32_MAX

struct aplic;

struct source {
    struct irq_action action;
    struct aplic *aplic;
    uint32_t number;
    bool level; /* MSI mode: asked again after its handler while still asserted */
};

struct aplic {
    struct irq_chip chip; /* first: the chip's address is the APLIC's */
    uintptr_t registers;
    uint32_t source_count; /* riscv,num-sources */
    struct irq_chip *imsic; /* MSI mode: the IMSIC of msi-parent; NULL in direct mode */
    uint32_t *idcs;         /* direct mode: each hart's IDC by BootInfo index */
    uint32_t *hart_indexes; /* direct mode: the hart index a target names it by, likewise */
    uint32_t outputs;       /* harts the kernel can route to */
    struct source *sources; /* by source number */
};

static uint32_t source_mode(const char *name, uint32_t trigger)
{
    switch (trigger) {
    case 1:
        return APLIC_SM_EDGE_RISING;
    case 2:
        return APLIC_SM_EDGE_FALLING;
    case 4:
        return APLIC_SM_LEVEL_HIGH;
    case 8:
        return APLIC_SM_LEVEL_LOW;
    default:
        kernel_panic("irq-specifier", "%s: trigger type %u is not one edge or one level", name,
                     trigger);
    }
}

/* In MSI mode, the IMSIC runs this for the source's identity. A level
 * source still asserted after its handler is made pending again (setipnum),
 * as the AIA advises: in MSI mode its pending bit does not follow the wire.
 * Only if its input (in_clrip) is still high: QEMU 7.2 makes a level source
 * pending on setipnum whatever its wire says, and a handler that had done
 * its work (the console's transmit ring, once drained) came back for ever. */
static void msi_arrived(void *context)
{
    const struct source *source = context;
    source->action.handler(source->action.context);
    uintptr_t inputs = source->aplic->registers + APLIC_IN_CLRIP(source->number);
    if (source->level && mmio_read32(inputs) & 1u << (source->number % 32))
        mmio_write32(source->aplic->registers + APLIC_SETIPNUM_LE, source->number);
}

/* Where the target register sends the source for `hart`: false if this
 * domain cannot reach it. */
static bool target_for(struct aplic *aplic, struct source *source, uint64_t hart,
                       uint32_t *target)
{
    if (aplic->imsic == NULL) {
        if (aplic->outputs == 0 || aplic->idcs[percpu_index(hart)] == NO_IDC)
            return false;
        *target = aplic->hart_indexes[percpu_index(hart)] << APLIC_TARGET_HART_SHIFT |
                  APLIC_TARGET_PRIORITY;
        return true;
    }
    uint32_t identity, hart_index;
    if (aplic->outputs == 0 ||
        !imsic_route(aplic->imsic, hart, (struct irq_action){msi_arrived, source}, &identity,
                     &hart_index))
        return false;
    *target = hart_index << APLIC_TARGET_HART_SHIFT | identity;
    return true;
}

static bool aplic_route(struct irq_chip *chip, const struct fdt_irq *irq, uint64_t hart,
                        struct irq_action action)
{
    struct aplic *aplic = (struct aplic *)chip;
    const char *name = fdt_name(&device_tree, chip->node);
    if (irq->cell_count != 2)
        kernel_panic("irq-specifier", "%s: #interrupt-cells %u, not <source trigger>", name,
                     irq->cell_count);
    uint32_t number = irq->cells[0];
    if (number == 0 || number > aplic->source_count)
        kernel_panic("irq-source", "%s: source %u is not one of 1-%u", name, number,
                     aplic->source_count);
    struct source *source = &aplic->sources[number];
    if (source->action.handler)
        kernel_panic("irq-source", "%s: source %u is taken already", name, number);
    uint32_t mode = source_mode(name, irq->cells[1]);
    uint32_t target;
    if (!target_for(aplic, source, hart, &target))
        return false;
    *source = (struct source){action, aplic, number,
                              mode == APLIC_SM_LEVEL_HIGH || mode == APLIC_SM_LEVEL_LOW};
    mmio_write32(aplic->registers + APLIC_SOURCECFG(number), mode);
    if (mmio_read32(aplic->registers + APLIC_SOURCECFG(number)) != mode)
        kernel_panic("irq-not-delegated",
                     "%s: source %u is not this domain's: firmware did not delegate it", name,
                     number);
    mmio_write32(aplic->registers + APLIC_TARGET(number), target);
    mmio_write32(aplic->registers + APLIC_SETIENUM, number);
    return true;
}

static void aplic_start_hart(struct irq_chip *chip)
{
    struct aplic *aplic = (struct aplic *)chip;
    if (aplic->outputs == 0 || aplic->idcs[percpu_index(current_hart)] == NO_IDC)
        return;
    uintptr_t idc = aplic->registers + APLIC_IDC(aplic->idcs[percpu_index(current_hart)]);
    mmio_write32(idc + APLIC_IDC_ITHRESHOLD, 0); /* every priority may interrupt */
    mmio_write32(idc + APLIC_IDC_IDELIVERY, 1);
}

static void aplic_take(struct irq_chip *chip)
{
    struct aplic *aplic = (struct aplic *)chip;
    if (aplic->outputs == 0 || aplic->idcs[percpu_index(current_hart)] == NO_IDC)
        return;
    uintptr_t claimi = aplic->registers + APLIC_IDC(aplic->idcs[percpu_index(current_hart)]) +
                       APLIC_IDC_CLAIMI;
    for (uint32_t number; (number = APLIC_CLAIMI_IDENTITY(mmio_read32(claimi))) != 0;) {
        bool known = number <= aplic->source_count;
        irq_dispatch(chip, known ? &aplic->sources[number].action : &(struct irq_action){0},
                     number);
    }
}

/* Direct mode: the IDC of each hart the kernel runs on, from the node's
 * outputs. Defers while a named cpu-intc is yet to be probed. */
static enum probe_result find_idcs(const struct fdt *dt, struct aplic *aplic)
{
    uint32_t len;
    const uint8_t *indexes = fdt_prop(dt, aplic->chip.node, "riscv,hart-indexes", &len);
    for (uint32_t i = 0; i < boot_info->hart_count; i++)
        aplic->idcs[i] = NO_IDC;
    uint64_t hart;
    uint32_t cursor = 0;
    for (uint32_t idc = 0;; idc++) {
        enum irq_output output = irq_output_next(dt, aplic->chip.node, &cursor, idc, &hart);
        if (output == IRQ_OUTPUT_END)
            return PROBE_BOUND;
        if (output == IRQ_OUTPUT_DEFER)
            return PROBE_DEFER;
        if (output == IRQ_OUTPUT_SUPERVISOR) {
            uint32_t i = percpu_index(hart);
            aplic->idcs[i] = idc;
            aplic->hart_indexes[i] = indexes && len > 4 * idc ? fdt_be32(indexes + 4 * idc) : idc;
            aplic->outputs++;
        }
    }
}

/* MSI mode: the IMSIC of msi-parent, once probed; its S-level files are
 * this domain's outputs. */
static enum probe_result find_imsic(const struct fdt *dt, struct aplic *aplic, uint32_t phandle)
{
    int parent = fdt_by_phandle(dt, phandle);
    aplic->imsic = irq_chip_of(parent);
    if (aplic->imsic == NULL) {
        if (parent >= 0 && irqchip_driver(dt, parent) && fdt_is_enabled(dt, parent))
            return PROBE_DEFER;
        kernel_panic("dtb-aplic", "%s: msi-parent is no IMSIC the kernel drives",
                     fdt_name(dt, aplic->chip.node));
    }
    aplic->outputs = imsic_file_count(aplic->imsic);
    return PROBE_BOUND;
}

static enum probe_result aplic_probe(const struct fdt *dt, int node)
{
    uint64_t base, size, sources;
    if (!fdt_reg(dt, node, 0, &base, &size))
        kernel_panic("dtb-aplic", "%s: reg is missing or malformed", fdt_name(dt, node));
    if (!fdt_prop_u64(dt, node, "riscv,num-sources", &sources) || sources == 0 ||
        sources > APLIC_MAX_SOURCES)
        kernel_panic("dtb-aplic", "%s: riscv,num-sources is missing or not 1-%d",
                     fdt_name(dt, node), APLIC_MAX_SOURCES);
    struct aplic *aplic = kzalloc(sizeof *aplic);
    uint32_t *idcs = kmalloc(boot_info->hart_count * sizeof *idcs);
    uint32_t *hart_indexes = kmalloc(boot_info->hart_count * sizeof *hart_indexes);
    struct source *table = kzalloc((sources + 1) * sizeof *table);
    if (!aplic || !idcs || !hart_indexes || !table)
        kernel_panic("out-of-memory", "%s: no memory for the APLIC's tables", fdt_name(dt, node));
    *aplic = (struct aplic){
        .chip = {.name = "aplic", .node = node, .route = aplic_route},
        .source_count = (uint32_t)sources,
        .idcs = idcs,
        .hart_indexes = hart_indexes,
        .sources = table,
    };
    uint64_t msi_parent;
    enum probe_result found = fdt_prop_u64(dt, node, "msi-parent", &msi_parent)
                                  ? find_imsic(dt, aplic, (uint32_t)msi_parent)
                                  : find_idcs(dt, aplic);
    if (found == PROBE_DEFER) {
        kfree(table), kfree(hart_indexes), kfree(idcs), kfree(aplic);
        return PROBE_DEFER;
    }
    if (aplic->imsic == NULL) {
        aplic->chip.start_hart = aplic_start_hart;
        aplic->chip.take = aplic_take;
    }
    if (aplic->outputs > 0) {
        aplic->registers = device_map(base, size);
        if (aplic->registers == 0)
            kernel_panic("dtb-aplic", "%s: reg 0x%lx+0x%lx cannot be mapped", fdt_name(dt, node),
                         base, size);
        /* Off while firmware's leftovers are cleared: no source is enabled
         * until a driver routes it. */
        uint32_t mode = aplic->imsic ? APLIC_DOMAINCFG_DM : 0;
        mmio_write32(aplic->registers + APLIC_DOMAINCFG, mode);
        for (uint32_t number = 0; number <= aplic->source_count; number += 32)
            mmio_write32(aplic->registers + APLIC_CLRIE(number), UINT32_MAX);
        mmio_write32(aplic->registers + APLIC_DOMAINCFG, mode | APLIC_DOMAINCFG_IE);
        if ((mmio_read32(aplic->registers + APLIC_DOMAINCFG) & APLIC_DOMAINCFG_DM) != mode)
            kernel_panic("aplic-mode", "%s: the domain does not deliver in %s mode",
                         fdt_name(dt, node), aplic->imsic ? "MSI" : "direct");
    }
    irq_chip_add(&aplic->chip);
    log_debug("aplic", "found", "node=%s sources=%u mode=%s harts=%u", fdt_name(dt, node),
              aplic->source_count, aplic->imsic ? "msi" : "direct", aplic->outputs);
    return PROBE_BOUND;
}

DRIVER_LIST(aplic, aplic_probe, irqchip_aplic_compatible);
