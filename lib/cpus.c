#include <aubade/cpus.h>

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

int cpus_find_hart(const struct fdt *dt, uint64_t hart_id)
{
    int cpus = fdt_subnode(dt, fdt_root(dt), "cpus", 4);
    uint64_t reg;
    for (int cpu = fdt_first_child(dt, cpus); cpu >= 0; cpu = fdt_next_sibling(dt, cpu))
        if (fdt_prop_u64(dt, cpu, "reg", &reg) && reg == hart_id)
            return cpu;
    return FDT_ERR_NOT_FOUND;
}
