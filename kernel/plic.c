/*
 * The platform-level interrupt controller (PLIC): device interrupt sources
 * in, one external interrupt line per hart context out. A hart claims the
 * highest-priority pending source of its context, handles it and completes
 * it.
 *
 * Contexts are numbered by the order of the node's interrupts-extended:
 * pair n (the phandle of a hart's riscv,cpu-intc, a cause) is context n.
 * Cause 9 is that hart's supervisor external interrupt, the context the
 * kernel uses; 11 is its machine-mode one, firmware's, never touched. The
 * numbering differs between boards (sifive_u's E51 has only an M context),
 * so nothing here assumes it.
 */
#include <aubade/csr.h>
#include <aubade/log.h>
#include <aubade/mmio.h>

#include "cpu_intc.h"
#include "driver.h"
#include "interrupts.h"
#include "irq.h"
#include "kernel.h"

#define PLIC_PRIORITY(source) (4ul * (source))
#define PLIC_ENABLE(context, source) (0x2000ul + 0x80ul * (context) + 4ul * ((source) / 32))
#define PLIC_THRESHOLD(context) (0x200000ul + 0x1000ul * (context))
#define PLIC_CLAIM(context) (0x200004ul + 0x1000ul * (context))
#define PLIC_MAX_SOURCES 1024 /* source 0 means "none" */

#define CAUSE_SUPERVISOR_EXTERNAL 9
#define NO_CONTEXT UINT32_MAX

struct irq_action {
    irq_handler handler;
    void *context;
};

static int plic_node = FDT_ERR_NOT_FOUND;
static uintptr_t registers;
static uint32_t source_count; /* riscv,ndev: sources are 1..source_count */
/* The S-mode context of each hart, by its index in BootInfo. */
static uint32_t contexts[BOOTINFO_MAX_HARTS];
static struct irq_action actions[PLIC_MAX_SOURCES];

static uint32_t hart_index(uint64_t hart_id)
{
    return (uint32_t)(percpu_of(hart_id) - boot_info->harts);
}

/* Which context each hart the kernel runs on has; every online hart needs
 * one. Defers while a named cpu-intc is yet to be probed. */
static enum probe_result find_contexts(const struct fdt *dt, int node)
{
    uint32_t len;
    const uint8_t *cells = fdt_prop(dt, node, "interrupts-extended", &len);
    if (cells == NULL || len == 0 || len % 8)
        kernel_panic("dtb-plic", "%s: interrupts-extended is missing or not <phandle cause> pairs",
                     fdt_name(dt, node));
    for (uint32_t i = 0; i < boot_info->hart_count; i++)
        contexts[i] = NO_CONTEXT;
    for (uint32_t context = 0; context < len / 8; context++) {
        uint32_t phandle = fdt_be32(cells + 8 * context);
        uint32_t cause = fdt_be32(cells + 8 * context + 4);
        uint64_t hart;
        if (!cpu_intc_hart(phandle, &hart)) {
            int intc = fdt_by_phandle(dt, phandle);
            if (intc >= 0 && fdt_is_compatible(dt, intc, "riscv,cpu-intc"))
                return PROBE_DEFER;
            kernel_panic("dtb-plic", "%s: interrupts-extended names phandle %u, no riscv,cpu-intc",
                         fdt_name(dt, node), phandle);
        }
        if (cause == CAUSE_SUPERVISOR_EXTERNAL && percpu_of(hart))
            contexts[hart_index(hart)] = context;
    }
    for (uint32_t i = 0; i < boot_info->hart_count; i++)
        if (contexts[i] == NO_CONTEXT && smp_is_online(boot_info->harts[i].hart_id))
            kernel_panic("dtb-plic", "%s: interrupts-extended has no S-mode context for hart %lu",
                         fdt_name(dt, node), boot_info->harts[i].hart_id);
    return PROBE_BOUND;
}

static enum probe_result plic_probe(const struct fdt *dt, int node)
{
    if (plic_node >= 0)
        kernel_panic("dtb-plic", "%s: a second PLIC, and one is all the kernel drives",
                     fdt_name(dt, node));
    uint64_t base, size, sources;
    if (!fdt_reg(dt, node, 0, &base, &size))
        kernel_panic("dtb-plic", "%s: reg is missing or malformed", fdt_name(dt, node));
    if (!fdt_prop_u64(dt, node, "riscv,ndev", &sources) || sources == 0 ||
        sources >= PLIC_MAX_SOURCES)
        kernel_panic("dtb-plic", "%s: riscv,ndev is missing or not 1-%d", fdt_name(dt, node),
                     PLIC_MAX_SOURCES - 1);
    if (find_contexts(dt, node) == PROBE_DEFER)
        return PROBE_DEFER;
    registers = device_map(base, size);
    if (registers == 0)
        kernel_panic("dtb-plic", "%s: reg 0x%lx+0x%lx cannot be mapped", fdt_name(dt, node), base,
                     size);
    plic_node = node;
    source_count = (uint32_t)sources;

    /* Firmware may have left sources enabled: none reaches the kernel
     * until a driver registers it. */
    for (uint32_t i = 0; i < boot_info->hart_count; i++)
        for (uint32_t source = 0; source <= source_count && contexts[i] != NO_CONTEXT; source += 32)
            mmio_write32(registers + PLIC_ENABLE(contexts[i], source), 0);
    log_debug("plic", "found", "sources=%u harts=%u", source_count, boot_info->hart_count);
    return PROBE_BOUND;
}

DRIVER(plic, plic_probe, "sifive,plic-1.0.0", "riscv,plic0");

int irq_controller(void)
{
    return plic_node;
}

enum irq_result irq_register(int controller, uint32_t source, uint64_t hart, irq_handler handler,
                             void *context)
{
    if (plic_node < 0 || controller != plic_node)
        return IRQ_NO_CONTROLLER;
    if (source == 0 || source > source_count)
        kernel_panic("irq-source", "source %u is not one of the PLIC's 1-%u", source,
                     source_count);
    if (actions[source].handler)
        kernel_panic("irq-source", "source %u is taken already", source);
    if (percpu_of(hart) == NULL || contexts[hart_index(hart)] == NO_CONTEXT)
        kernel_panic("irq-hart", "source %u for hart %lu, which has no PLIC context", source,
                     hart);
    actions[source] = (struct irq_action){handler, context};
    uintptr_t enable = registers + PLIC_ENABLE(contexts[hart_index(hart)], source);
    mmio_write32(registers + PLIC_PRIORITY(source), 1);
    mmio_write32(enable, mmio_read32(enable) | 1u << (source % 32));
    return IRQ_REGISTERED;
}

void irq_start_hart(void)
{
    if (plic_node < 0)
        return; /* a machine without a PLIC has no device interrupts to take */
    mmio_write32(registers + PLIC_THRESHOLD(contexts[hart_index(current_hart)]), 0);
    csr_set(sie, SIE_SEIE);
}

void external_interrupt(void)
{
    uintptr_t claim = registers + PLIC_CLAIM(contexts[hart_index(current_hart)]);
    for (uint32_t source; (source = mmio_read32(claim)) != 0;) {
        const struct irq_action *action = &actions[source];
        if (action->handler == NULL)
            kernel_panic("unexpected-irq", "PLIC source %u, which no driver registered", source);
        action->handler(action->context);
        mmio_write32(claim, source);
    }
}
