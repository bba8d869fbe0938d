/* The interrupt controllers' compatible lists: see <aubade/irqchip.h>. */
#include <aubade/irqchip.h>
#include <aubade/string.h>

const char *const irqchip_plic_compatible[] = {"sifive,plic-1.0.0", "riscv,plic0",
                                               "thead,c900-plic", NULL};
const char *const irqchip_aplic_compatible[] = {"riscv,aplic", NULL};
const char *const irqchip_imsic_compatible[] = {"riscv,imsics", NULL};

static const char *const *const lists[] = {
    irqchip_plic_compatible,
    irqchip_aplic_compatible,
    irqchip_imsic_compatible,
};

const char *irqchip_driver(const struct fdt *dt, int node)
{
    /* A node lists its most specific compatible first: the first one any
     * driver takes is the one it is driven as. */
    const char *compatible;
    for (uint32_t i = 0; (compatible = fdt_prop_string_at(dt, node, "compatible", i)); i++)
        for (size_t list = 0; list < sizeof lists / sizeof lists[0]; list++)
            for (const char *const *entry = lists[list]; *entry; entry++)
                if (strcmp(*entry, compatible) == 0)
                    return *entry;
    return NULL;
}
