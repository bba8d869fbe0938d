/*
 * Prints what lib/fdt.c's fdt_irq_at() and lib/irqchip.c's irqchip_driver()
 * make of a device tree, built for the host by tests/tools/test_fdt_irq.py:
 *
 *     print_irqs FILE.dtb PATH...
 *
 * For each node PATH, one line per interrupt, then where the list ended:
 *
 *     /bus/child 0 parent=two-cell driver=riscv,aplic cells=10,4
 *     /bus/child end=2
 */
#include <stdio.h>
#include <stdlib.h>

#include <aubade/fdt.h>
#include <aubade/irqchip.h>

static void print_node(const struct fdt *dt, const char *path)
{
    int node = fdt_find(dt, path);
    if (node < 0) {
        printf("%s missing\n", path);
        return;
    }
    uint32_t index = 0;
    for (struct fdt_irq irq; fdt_irq_at(dt, node, index, &irq); index++) {
        const char *driver = irqchip_driver(dt, irq.parent);
        printf("%s %u parent=%s driver=%s cells=", path, index, fdt_name(dt, irq.parent),
               driver ? driver : "none");
        for (uint32_t i = 0; i < irq.cell_count; i++)
            printf(i ? ",%u" : "%u", irq.cells[i]);
        printf("\n");
    }
    printf("%s end=%u\n", path, index);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: print_irqs FILE.dtb PATH...\n");
        return 2;
    }
    FILE *file = fopen(argv[1], "rb");
    static unsigned char blob[1 << 20];
    size_t size = file ? fread(blob, 1, sizeof blob, file) : 0;
    struct fdt dt;
    int error = fdt_open(&dt, blob, size);
    if (error) {
        fprintf(stderr, "%s: %s\n", argv[1], fdt_strerror(error));
        return 1;
    }
    for (int i = 2; i < argc; i++)
        print_node(&dt, argv[i]);
    return 0;
}
