/*
 * The platform-level interrupt controller (PLIC): device interrupt sources
 * in, one external interrupt line per hart context out. A hart claims the
 * highest-priority pending source of its context, handles it and completes
 * it.
 *
 * A machine may have several: QEMU's virt with two NUMA sockets has one per
 * socket, each with contexts only for its own harts. Each is a chip of its
 * own (irq.h); a hart with no context on any of them is fine until an
 * interrupt is routed to it.
 *
 * Contexts are numbered by the order of the node's interrupts-extended:
 * pair n (the phandle of a hart's riscv,cpu-intc, a cause) is context n.
 * Cause 9 is that hart's supervisor external interrupt, the context the
 * kernel uses; 11 is its machine-mode one, firmware's, never touched. The
 * numbering differs between boards (sifive_u's E51 has only an M context),
 * so nothing here assumes it.
 *
 * T-Head's C9xx PLIC (`thead,c900-plic`) has the same registers, but its
 * gateway does not pass an interrupt's next edge on until the previous one
 * is completed, and it keeps no count of edges: an edge-triggered source is
 * completed before its handler runs, or an edge arriving meanwhile is lost
 * (Linux's PLIC_QUIRK_EDGE_INTERRUPT). Its specifiers have two cells,
 * <source trigger>, trigger as in Linux's IRQ_TYPE_* (1, 2: edge; 4, 8:
 * level). Firmware opens its registers to S-mode (its control register's
 * S_PER bit), as OpenSBI does.
 */
#include <aubade/irqchip.h>
#include <aubade/log.h>
#include <aubade/mmio.h>
#include <aubade/string.h>

#include "boot/boot.h"
#include "debug/debug.h"
#include "dev/dev.h"
#include "mm/mm.h"

#define PLIC_PRIORITY(source) (4ul * (source))
#define PLIC_ENABLE(context, source) (0x2000ul + 0x80ul * (context) + 4ul * ((source) / 32))
#define PLIC_THRESHOLD(context) (0x200000ul + 0x1000ul * (context))
#define PLIC_CLAIM(context) (0x200004ul + 0x1000ul * (context))
#define PLIC_MAX_SOURCES 1024 /* source 0 means "none" */

#define IRQ_TYPE_EDGE_BOTH 3 /* bits 0 and 1: rising, falling */
#define NO_CONTEXT UINT32_MAX

struct plic {
    struct irq_chip chip; /* first: the chip's address is the PLIC's */
    uintptr_t registers;
    uint32_t source_count;  /* riscv,ndev: sources are 1..source_count */
    bool completes_edges_first; /* T-Head's */
    uint32_t *contexts;     /* the S-mode context of each hart, by BootInfo index */
    struct irq_action *actions; /* by source */
    bool *edge;             /* by source: complete before handling (T-Head) */
};

/* Which S-mode context each hart the kernel runs on has, if any, into
 * `contexts` (by BootInfo index). Defers while a named cpu-intc is yet to
 * be probed. */
static enum probe_result find_contexts(const struct fdt *dt, int node, uint32_t *contexts,
                                       uint32_t *supervisor_contexts)
{
    *supervisor_contexts = 0;
    for (uint32_t i = 0; i < boot_info->hart_count; i++)
        contexts[i] = NO_CONTEXT;
    uint64_t hart;
    uint32_t cursor = 0;
    for (uint32_t context = 0;; context++) {
        switch (irq_output_next(dt, node, &cursor, context, &hart)) {
        case IRQ_OUTPUT_END:
            return PROBE_BOUND;
        case IRQ_OUTPUT_DEFER:
            return PROBE_DEFER;
        case IRQ_OUTPUT_OTHER:
            break;
        case IRQ_OUTPUT_SUPERVISOR:
            contexts[percpu_index(hart)] = context;
            ++*supervisor_contexts;
            break;
        }
    }
}

static uint32_t context_of(const struct plic *plic, uint64_t hart)
{
    return plic->contexts[percpu_index(hart)];
}

static bool plic_route(struct irq_chip *chip, const struct fdt_irq *irq, uint64_t hart,
                       struct irq_action action)
{
    struct plic *plic = (struct plic *)chip;
    const char *name = fdt_name(&device_tree, chip->node);
    if (irq->cell_count != 1 && irq->cell_count != 2)
        kernel_panic("irq-specifier", "%s: #interrupt-cells %u, not <source> or <source trigger>",
                     name, irq->cell_count);
    uint32_t source = irq->cells[0];
    if (source == 0 || source > plic->source_count)
        kernel_panic("irq-source", "%s: source %u is not one of 1-%u", name, source,
                     plic->source_count);
    if (plic->actions[source].handler)
        kernel_panic("irq-source", "%s: source %u is taken already", name, source);
    uint32_t context = context_of(plic, hart);
    if (context == NO_CONTEXT)
        return false;
    plic->actions[source] = action;
    plic->edge[source] = plic->completes_edges_first && irq->cell_count == 2 &&
                         (irq->cells[1] & IRQ_TYPE_EDGE_BOTH);
    uintptr_t enable = plic->registers + PLIC_ENABLE(context, source);
    mmio_write32(plic->registers + PLIC_PRIORITY(source), 1);
    mmio_write32(enable, mmio_read32(enable) | 1u << (source % 32));
    return true;
}

static void plic_start_hart(struct irq_chip *chip)
{
    struct plic *plic = (struct plic *)chip;
    uint32_t context = context_of(plic, current_hart);
    if (context != NO_CONTEXT)
        mmio_write32(plic->registers + PLIC_THRESHOLD(context), 0);
}

static void plic_take(struct irq_chip *chip)
{
    struct plic *plic = (struct plic *)chip;
    uint32_t context = context_of(plic, current_hart);
    if (context == NO_CONTEXT)
        return;
    uintptr_t claim = plic->registers + PLIC_CLAIM(context);
    for (uint32_t source; (source = mmio_read32(claim)) != 0;) {
        /* A source past riscv,ndev is the hardware's lie: no action of ours. */
        bool known = source <= plic->source_count;
        bool edge = known && plic->edge[source];
        if (edge)
            mmio_write32(claim, source);
        irq_dispatch(chip, known ? &plic->actions[source] : &(struct irq_action){0}, source);
        if (!edge)
            mmio_write32(claim, source);
    }
}

static enum probe_result plic_probe(const struct fdt *dt, int node)
{
    uint64_t base, size, sources;
    if (!fdt_reg(dt, node, 0, &base, &size))
        kernel_panic("dtb-plic", "%s: reg is missing or malformed", fdt_name(dt, node));
    if (!fdt_prop_u64(dt, node, "riscv,ndev", &sources) || sources == 0 ||
        sources >= PLIC_MAX_SOURCES)
        kernel_panic("dtb-plic", "%s: riscv,ndev is missing or not 1-%d", fdt_name(dt, node),
                     PLIC_MAX_SOURCES - 1);
    uint32_t *contexts = kmalloc(boot_info->hart_count * sizeof *contexts);
    if (contexts == NULL)
        kernel_panic("out-of-memory", "%s: no memory for the PLIC's tables", fdt_name(dt, node));
    uint32_t supervisor_contexts;
    if (find_contexts(dt, node, contexts, &supervisor_contexts) == PROBE_DEFER) {
        kfree(contexts);
        return PROBE_DEFER;
    }
    struct plic *plic = kzalloc(sizeof *plic);
    struct irq_action *actions = kzalloc((sources + 1) * sizeof *actions);
    bool *edge = kzalloc((sources + 1) * sizeof *edge);
    if (!plic || !actions || !edge)
        kernel_panic("out-of-memory", "%s: no memory for the PLIC's tables", fdt_name(dt, node));
    *plic = (struct plic){
        .chip = {.name = "plic",
                 .node = node,
                 .route = plic_route,
                 .start_hart = plic_start_hart,
                 .take = plic_take},
        .source_count = (uint32_t)sources,
        .completes_edges_first = strcmp(irqchip_driver(dt, node), "thead,c900-plic") == 0,
        .contexts = contexts,
        .actions = actions,
        .edge = edge,
    };
    /* Firmware's alone (machine-mode contexts only): the kernel neither maps
     * it nor routes to it; routing a device here is irq-hart's panic. */
    if (supervisor_contexts > 0) {
        plic->registers = device_map(base, size);
        if (plic->registers == 0)
            kernel_panic("dtb-plic", "%s: reg 0x%lx+0x%lx cannot be mapped", fdt_name(dt, node),
                         base, size);
        /* Firmware may have left sources enabled: none reaches the kernel
         * until a driver registers it. */
        for (uint32_t i = 0; i < boot_info->hart_count; i++)
            for (uint32_t source = 0; source <= sources && contexts[i] != NO_CONTEXT; source += 32)
                mmio_write32(plic->registers + PLIC_ENABLE(contexts[i], source), 0);
    }
    irq_chip_add(&plic->chip);
    log_debug("plic", "found", "node=%s sources=%u contexts=%u", fdt_name(dt, node),
              plic->source_count, supervisor_contexts);
    return PROBE_BOUND;
}

DRIVER_LIST(plic, plic_probe, irqchip_plic_compatible);
