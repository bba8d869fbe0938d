/*
 * The hart-local interrupt controller ("riscv,cpu-intc"): the software,
 * timer and external interrupt lines sie and sip control, one per hart, a
 * child of its cpu node. Other controllers name a hart by this node's
 * phandle (the PLIC's interrupts-extended), so the driver keeps which hart
 * each phandle is.
 */
#include <aubade/bootinfo.h>

#include "debug/debug.h"
#include "dev/dev.h"

struct local_controller {
    uint32_t phandle;
    uint64_t hart_id;
};

/* Every cpu node has one, the harts the kernel does not run on (monitor
 * cores) too; as many as the harts BootInfo can describe is plenty. */
#define MAX_CONTROLLERS BOOTINFO_MAX_HARTS

static struct local_controller controllers[MAX_CONTROLLERS];
static unsigned controller_count;

static enum probe_result cpu_intc_probe(const struct fdt *dt, int node)
{
    uint64_t phandle, hart_id;
    int cpu = fdt_parent(dt, node);
    if (!fdt_prop_u64(dt, node, "phandle", &phandle))
        kernel_panic("dtb-cpu-intc", "%s has no phandle: nothing can name it",
                     fdt_name(dt, node));
    if (!fdt_prop_u64(dt, cpu, "reg", &hart_id))
        kernel_panic("dtb-cpu-intc", "the cpu node of %s has no reg (its hart id)",
                     fdt_name(dt, node));
    if (controller_count == MAX_CONTROLLERS)
        kernel_panic("dtb-cpu-intc", "more than %d riscv,cpu-intc nodes", MAX_CONTROLLERS);
    controllers[controller_count++] = (struct local_controller){(uint32_t)phandle, hart_id};
    return PROBE_BOUND;
}

DRIVER(cpu_intc, cpu_intc_probe, "riscv,cpu-intc");

bool cpu_intc_hart(uint32_t phandle, uint64_t *hart_id)
{
    for (unsigned i = 0; i < controller_count; i++) {
        if (controllers[i].phandle == phandle) {
            *hart_id = controllers[i].hart_id;
            return true;
        }
    }
    return false;
}
