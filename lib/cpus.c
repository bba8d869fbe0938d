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

bool cpus_all_have_extension(const struct fdt *dt, const char *extension)
{
    int cpus = fdt_subnode(dt, fdt_root(dt), "cpus", 4);
    bool seen = false;
    for (int cpu = fdt_first_child(dt, cpus); cpu >= 0; cpu = fdt_next_sibling(dt, cpu)) {
        const char *type = fdt_prop_string(dt, cpu, "device_type");
        if (!type || strcmp(type, "cpu") != 0 || !fdt_is_enabled(dt, cpu) ||
            !fdt_prop(dt, cpu, "mmu-type", NULL))
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
