#include <aubade/cpus.h>
#include <aubade/string.h>

bool cpus_timebase_hz(const struct fdt *dt, uint64_t *hz)
{
    int cpus = fdt_subnode(dt, fdt_root(dt), "cpus", 4);
    if (fdt_prop_u64(dt, cpus, "timebase-frequency", hz) && *hz)
        return true;
    for (int cpu = fdt_first_child(dt, cpus); cpu >= 0; cpu = fdt_next_sibling(dt, cpu))
        if (fdt_prop_u64(dt, cpu, "timebase-frequency", hz) && *hz)
            return true;
    return false;
}

/* Multi-letter extensions follow the single letters, each after a '_':
 * "rv64imafdc_zicsr_svpbmt". */
static bool isa_string_has(const char *isa, const char *extension)
{
    size_t len = strlen(extension);
    for (const char *cursor = strchr(isa, '_'); cursor; cursor = strchr(cursor + 1, '_'))
        if (strncmp(cursor + 1, extension, len) == 0 &&
            (cursor[1 + len] == '_' || cursor[1 + len] == '\0'))
            return true;
    return false;
}

bool cpus_hart_has_extension(const struct fdt *dt, int cpu, const char *extension)
{
    /* riscv,isa-extensions, where present, is the list to believe; riscv,isa
     * is the older form. */
    if (fdt_prop(dt, cpu, "riscv,isa-extensions", NULL)) {
        const char *listed;
        for (uint32_t i = 0; (listed = fdt_prop_string_at(dt, cpu, "riscv,isa-extensions", i));
             i++)
            if (strcmp(listed, extension) == 0)
                return true;
        return false;
    }
    const char *isa = fdt_prop_string(dt, cpu, "riscv,isa");
    return isa && isa_string_has(isa, extension);
}

static bool has_device_type_cpu(const struct fdt *dt, int cpu)
{
    const char *type = fdt_prop_string(dt, cpu, "device_type");
    return type && strcmp(type, "cpu") == 0;
}

/* The base ISA: riscv,isa-base ("rv64i") in the bindings since Linux 6.6,
 * which come with riscv,isa-extensions and may drop riscv,isa; else the
 * older riscv,isa string's prefix ("rv64imafdc_..."). */
static enum cpus_hart_verdict base_isa(const struct fdt *dt, int cpu)
{
    const char *base = fdt_prop_string(dt, cpu, "riscv,isa-base");
    if (base)
        return strcmp(base, "rv64i") == 0 ? CPUS_HART_USABLE : CPUS_HART_NOT_RV64;
    const char *isa = fdt_prop_string(dt, cpu, "riscv,isa");
    if (isa == NULL)
        return CPUS_HART_NO_ISA;
    return strncmp(isa, "rv64", 4) == 0 ? CPUS_HART_USABLE : CPUS_HART_NOT_RV64;
}

/* Paging with Sv39, which every Sv48 or Sv57 MMU can also do. */
static bool has_sv39(const struct fdt *dt, int cpu)
{
    const char *mmu = fdt_prop_string(dt, cpu, "mmu-type");
    return mmu && (strcmp(mmu, "riscv,sv39") == 0 || strcmp(mmu, "riscv,sv48") == 0 ||
                   strcmp(mmu, "riscv,sv57") == 0);
}

/* T-Head's C906, C910 and C920 (Allwinner D1, TH1520, SG2042) predate
 * Svpbmt: with MAEE set, which their firmware does, PTE bits 59-63 are
 * T-Head's own memory attributes, and a PTE with them clear (all of ours)
 * makes memory strongly ordered and uncached, where LR/SC fault. Linux
 * patches its page tables for them (errata "THEAD_MAE", chosen by
 * marchid/mimpid 0). Later cores (the C908 of the K230, the C920v2 of the
 * SG2044) implement standard Svpbmt and list it: those are fine. The tree
 * holds no marchid, so the compatible and the ISA list decide. */
static bool needs_vendor_page_attributes(const struct fdt *dt, int cpu)
{
    static const char *const cores[] = {"thead,c906", "thead,c908", "thead,c910", "thead,c920"};
    for (size_t i = 0; i < sizeof(cores) / sizeof(cores[0]); i++)
        if (fdt_is_compatible(dt, cpu, cores[i]))
            return !cpus_hart_has_extension(dt, cpu, "svpbmt");
    return false;
}

enum cpus_hart_verdict cpus_hart_usable(const struct fdt *dt, int cpu)
{
    uint64_t hart_id, size;
    enum cpus_hart_verdict isa;
    if (!has_device_type_cpu(dt, cpu))
        return CPUS_HART_NOT_CPU;
    if (!fdt_is_enabled(dt, cpu))
        return CPUS_HART_DISABLED;
    if (!fdt_reg(dt, cpu, 0, &hart_id, &size))
        return CPUS_HART_NO_HART_ID;
    if ((isa = base_isa(dt, cpu)) != CPUS_HART_USABLE)
        return isa;
    /* Monitor cores without an MMU, like the E51 on SiFive's FU540, have no
     * mmu-type: they are left to the firmware. */
    if (!has_sv39(dt, cpu))
        return CPUS_HART_NO_MMU;
    if (needs_vendor_page_attributes(dt, cpu))
        return CPUS_HART_VENDOR_PAGE_ATTRIBUTES;
    return CPUS_HART_USABLE;
}

const char *cpus_hart_verdict_name(enum cpus_hart_verdict verdict)
{
    static const char *const names[CPUS_HART_VERDICT_COUNT] = {
        [CPUS_HART_USABLE] = "usable",
        [CPUS_HART_NOT_CPU] = "not-cpu",
        [CPUS_HART_DISABLED] = "disabled",
        [CPUS_HART_NO_HART_ID] = "no-hart-id",
        [CPUS_HART_NO_ISA] = "no-isa",
        [CPUS_HART_NOT_RV64] = "not-rv64",
        [CPUS_HART_NO_MMU] = "no-mmu",
        [CPUS_HART_VENDOR_PAGE_ATTRIBUTES] = "vendor-page-attributes",
    };
    return verdict < CPUS_HART_VERDICT_COUNT ? names[verdict] : "unknown";
}

bool cpus_all_have_extension(const struct fdt *dt, const char *extension)
{
    int cpus = fdt_subnode(dt, fdt_root(dt), "cpus", 4);
    bool seen = false;
    for (int cpu = fdt_first_child(dt, cpus); cpu >= 0; cpu = fdt_next_sibling(dt, cpu)) {
        if (cpus_hart_usable(dt, cpu) != CPUS_HART_USABLE)
            continue;
        if (!cpus_hart_has_extension(dt, cpu, extension))
            return false;
        seen = true;
    }
    return seen;
}

int cpus_find_hart(const struct fdt *dt, uint64_t hart_id)
{
    int cpus = fdt_subnode(dt, fdt_root(dt), "cpus", 4);
    uint64_t reg;
    for (int cpu = fdt_first_child(dt, cpus); cpu >= 0; cpu = fdt_next_sibling(dt, cpu))
        if (fdt_prop_u64(dt, cpu, "reg", &reg) && reg == hart_id)
            return cpu;
    return FDT_ERR_NOT_FOUND;
}
