/*
 * Powering the machine off, by each way there is, in turn:
 *
 *  1. The `sifive,test0` finisher, if the tree has one (QEMU's virt): a
 *     test device that ends QEMU at once with the status, the only way to
 *     give it an exit code (SBI has none).
 *  2. SBI System Reset, if the firmware has it.
 *  3. The legacy SBI shutdown, only on firmware without System Reset.
 *     OpenSBI's legacy call reaches the same devices as System Reset, and
 *     where none of them shuts the machine down (QEMU's sifive_u) it stops
 *     the hart in M-mode for good without a word: so it is never tried
 *     after System Reset has said no.
 *
 * A way that works does not return. If every one returns, the machine is
 * still on: the console says so, in the boot log's grammar, and the hart
 * halts with interrupts off instead of pretending it powered off.
 */
#include <aubade/csr.h>
#include <aubade/log.h>
#include <aubade/poweroff.h>
#include <aubade/sbi.h>

#define SIFIVE_TEST_FAIL 0x3333
#define SIFIVE_TEST_PASS 0x5555
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

noreturn void machine_poweroff(const char *component, uintptr_t finisher, bool success)
{
    /* 1. The finisher. */
    if (finisher)
        mmio_write32(finisher, success ? SIFIVE_TEST_PASS
                                       : 1u << SIFIVE_TEST_EXIT_CODE_SHIFT | SIFIVE_TEST_FAIL);
    /* 2. System Reset, or 3. the legacy call. */
    const char *system_reset = "absent", *legacy = "not-tried";
    if (sbi_has_system_reset()) {
        system_reset = sbi_error_name(
            sbi_system_shutdown(success ? SBI_RESET_REASON_NONE : SBI_RESET_REASON_FAILURE));
    } else {
        sbi_legacy_shutdown();
        legacy = "returned";
    }
    /* Still on. */
    if (component)
        log_event(component, "halt", "reason=poweroff-failed finisher=%s srst=%s legacy=%s",
                  finisher ? "no-effect" : "none", system_reset, legacy);
    csr_clear(sstatus, SSTATUS_SIE);
    csr_write(sie, 0);
    /* wfi wakes on an interrupt pending, enabled or not: sleep again. */
    for (;;)
        asm volatile("wfi");
}
