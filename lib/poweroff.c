#include <aubade/poweroff.h>
#include <aubade/sbi.h>

#define SIFIVE_TEST_FAIL 0x3333
#define SIFIVE_TEST_EXIT_CODE_SHIFT 16

/* The first enabled "sifive,test0" node, found by walking the tree. */
static int find_test_finisher(const struct fdt *dt, int node)
{
    for (int child = fdt_first_child(dt, node); child >= 0; child = fdt_next_sibling(dt, child)) {
        if (fdt_is_compatible(dt, child, "sifive,test0") && fdt_is_enabled(dt, child))
            return child;
        int found = find_test_finisher(dt, child);
        if (found >= 0)
            return found;
    }
    return FDT_ERR_NOT_FOUND;
}

uintptr_t poweroff_finisher(const struct fdt *dt, mmio_mapper map)
{
    uint64_t base, size;
    int node = dt ? find_test_finisher(dt, fdt_root(dt)) : FDT_ERR_NOT_FOUND;
    if (node < 0 || !fdt_reg(dt, node, 0, &base, &size))
        return 0;
    return map(base, size);
}

noreturn void machine_poweroff(uintptr_t finisher, bool success)
{
    if (!success && finisher)
        mmio_write32(finisher, 1u << SIFIVE_TEST_EXIT_CODE_SHIFT | SIFIVE_TEST_FAIL);
    sbi_shutdown(success ? SBI_RESET_REASON_NONE : SBI_RESET_REASON_FAILURE);
    for (;;)
        asm volatile("wfi");
}
