/*
 * Device interrupts, whatever the controller: see irq.h.
 *
 * The chips are few (one per PLIC or APLIC domain, one per IMSIC), added
 * in Main on the boot hart and only read after that, so the list needs no
 * lock. A hart's external interrupt asks each chip in turn: a chip with no
 * context for that hart (the PLIC of another NUMA socket) answers at once.
 */
#include <aubade/csr.h>
#include <aubade/irqchip.h>
#include <aubade/log.h>

#include "boot/boot.h"
#include "debug/debug.h"
#include "dev/dev.h"
#include "smp/smp.h"
#include "trap/trap.h"

#define MAX_CHIPS 16
#define CAUSE_SUPERVISOR_EXTERNAL 9

static struct irq_chip *chips[MAX_CHIPS];
static unsigned chip_count;

void irq_chip_add(struct irq_chip *chip)
{
    if (chip_count == MAX_CHIPS)
        kernel_panic("too-many-irq-chips", "%s: more than %d interrupt controllers",
                     fdt_name(&device_tree, chip->node), MAX_CHIPS);
    chips[chip_count++] = chip;
}

struct irq_chip *irq_chip_of(int node)
{
    for (unsigned i = 0; i < chip_count; i++)
        if (chips[i]->node == node)
            return chips[i];
    return NULL;
}

enum irq_output irq_output_next(const struct fdt *dt, int node, uint32_t *cursor, uint32_t index,
                                uint64_t *hart)
{
    struct fdt_irq output;
    if (!fdt_irq_next(dt, node, cursor, &output))
        return IRQ_OUTPUT_END;
    uint64_t phandle;
    if (output.cell_count != 1 || !fdt_is_compatible(dt, output.parent, "riscv,cpu-intc") ||
        !fdt_prop_u64(dt, output.parent, "phandle", &phandle))
        kernel_panic("dtb-irq-output", "%s: interrupts-extended entry %u is not <cpu-intc cause>",
                     fdt_name(dt, node), index);
    if (!cpu_intc_hart((uint32_t)phandle, hart))
        return IRQ_OUTPUT_DEFER;
    if (output.cells[0] != CAUSE_SUPERVISOR_EXTERNAL || percpu_of(*hart) == NULL)
        return IRQ_OUTPUT_OTHER;
    return IRQ_OUTPUT_SUPERVISOR;
}

enum irq_result irq_register(const struct fdt *dt, int node, uint32_t index, uint64_t hart,
                             irq_handler handler, void *context)
{
    struct fdt_irq irq;
    if (!fdt_irq_at(dt, node, index, &irq))
        kernel_panic("irq-specifier",
                     "%s: interrupt %u is not in interrupts or interrupts-extended, or does not "
                     "fit its controller's #interrupt-cells",
                     fdt_name(dt, node), index);
    struct irq_chip *chip = irq_chip_of(irq.parent);
    if (chip == NULL) {
        /* Its driver may just not have probed yet; without one it never will. */
        if (irqchip_driver(dt, irq.parent) && fdt_is_enabled(dt, irq.parent))
            return IRQ_NO_CONTROLLER;
        const char *compatible = fdt_prop_string_at(dt, irq.parent, "compatible", 0);
        kernel_panic("irq-no-driver", "%s: its interrupt controller %s (%s) has no driver",
                     fdt_name(dt, node), fdt_name(dt, irq.parent),
                     compatible ? compatible : "no compatible");
    }
    if (chip->route == NULL)
        kernel_panic("irq-specifier", "%s: %s %s takes MSIs, not wired interrupts",
                     fdt_name(dt, node), chip->name, fdt_name(dt, chip->node));
    struct irq_action action = {handler, context};
    uint64_t target = hart == IRQ_ANY_HART ? boot_info->boot_hart : hart;
    bool routed = percpu_of(target) && chip->route(chip, &irq, target, action);
    for (uint32_t i = 0; !routed && hart == IRQ_ANY_HART && i < boot_info->hart_count; i++) {
        target = boot_info->harts[i].hart_id;
        routed = smp_is_online(target) && chip->route(chip, &irq, target, action);
    }
    if (!routed && hart == IRQ_ANY_HART)
        kernel_panic("irq-hart", "%s: %s %s has no S-mode context for any online hart",
                     fdt_name(dt, node), chip->name, fdt_name(dt, chip->node));
    if (!routed)
        kernel_panic("irq-hart", "%s: interrupt for hart %lu, which has no S-mode context on %s %s",
                     fdt_name(dt, node), hart, chip->name, fdt_name(dt, chip->node));
    log_debug("irq", "route", "node=%s chip=%s hart=%lu", fdt_name(dt, node),
              fdt_name(dt, chip->node), target);
    return IRQ_REGISTERED;
}

void irq_dispatch(const struct irq_chip *chip, const struct irq_action *action, uint32_t line)
{
    if (action->handler == NULL)
        kernel_panic("unexpected-irq", "%s %s: line %u, which no driver registered", chip->name,
                     fdt_name(&device_tree, chip->node), line);
    action->handler(action->context);
}

void irq_start_hart(void)
{
    for (unsigned i = 0; i < chip_count; i++)
        if (chips[i]->start_hart)
            chips[i]->start_hart(chips[i]);
    /* A machine without a controller has no device interrupts to take. */
    if (chip_count > 0)
        csr_set(sie, SIE_SEIE);
}

void external_interrupt(void)
{
    for (unsigned i = 0; i < chip_count; i++)
        if (chips[i]->take)
            chips[i]->take(chips[i]);
}
