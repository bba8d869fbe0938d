/*
 * Device-tree enumeration: every enabled node whose `compatible` a driver
 * lists is probed, in tree order. A probe that needs another device first
 * (a UART its interrupt controller, the PLIC the harts' local controllers)
 * defers, and is asked again after the walk, round after round, while
 * rounds make progress.
 */
#include <aubade/log.h>
#include <aubade/string.h>

#include "boot/boot.h"
#include "debug/debug.h"
#include "dev/dev.h"

#define MAX_DEFERRED 32
#define MAX_PATH 256

struct enumeration {
    int deferred[MAX_DEFERRED];
    unsigned deferred_count;
    unsigned bound, ignored;
};

const struct driver *driver_for_node(const struct fdt *dt, int node)
{
    const char *compatible;
    for (uint32_t i = 0; (compatible = fdt_prop_string_at(dt, node, "compatible", i)); i++)
        for (const struct driver *driver = __drivers_start; driver < __drivers_end; driver++)
            for (const char *const *entry = driver->compatible; *entry; entry++)
                if (strcmp(*entry, compatible) == 0)
                    return driver;
    return NULL;
}

/* "/soc/serial@10000000", for the log; cut short if it does not fit. */
static const char *node_path(int node, char path[MAX_PATH])
{
    int chain[32];
    unsigned depth = 0;
    for (int at = node; at >= 0 && depth < 32; at = fdt_parent(&device_tree, at))
        chain[depth++] = at;
    size_t len = 0;
    path[0] = '\0';
    /* chain[depth - 1] is the root, whose name is empty. */
    for (unsigned i = depth - 1; i-- > 0;) {
        const char *name = fdt_name(&device_tree, chain[i]);
        size_t name_len = strlen(name);
        if (len + 1 + name_len + 1 > MAX_PATH)
            break;
        path[len++] = '/';
        memcpy(path + len, name, name_len + 1);
        len += name_len;
    }
    return len ? path : "/";
}

static enum probe_result probe(struct enumeration *run, int node, const struct driver *driver)
{
    static const char *const outcomes[] = {
        [PROBE_BOUND] = "bound", [PROBE_IGNORED] = "ignored", [PROBE_DEFER] = "deferred"};
    enum probe_result result = driver->probe(&device_tree, node);
    char path[MAX_PATH];
    log_debug("devices", "probe", "node=%s driver=%s result=%s", node_path(node, path),
              driver->name, outcomes[result]);
    run->bound += result == PROBE_BOUND;
    run->ignored += result == PROBE_IGNORED;
    return result;
}

static void defer(struct enumeration *run, int node)
{
    char path[MAX_PATH];
    if (run->deferred_count == MAX_DEFERRED)
        kernel_panic("probe-deferred", "more than %d probes deferred at once, %s among them",
                     MAX_DEFERRED, node_path(node, path));
    run->deferred[run->deferred_count++] = node;
}

/* The node and everything under it, in tree order. */
static void visit(struct enumeration *run, int node)
{
    const struct driver *driver = driver_for_node(&device_tree, node);
    if (driver && fdt_is_enabled(&device_tree, node) && probe(run, node, driver) == PROBE_DEFER)
        defer(run, node);
    for (int child = fdt_first_child(&device_tree, node); child >= 0;
         child = fdt_next_sibling(&device_tree, child))
        visit(run, child);
}

/* Deferred probes again, while a round leaves fewer of them than before. */
static void retry_deferred(struct enumeration *run)
{
    unsigned before;
    do {
        before = run->deferred_count;
        unsigned kept = 0;
        for (unsigned i = 0; i < before; i++) {
            int node = run->deferred[i];
            if (probe(run, node, driver_for_node(&device_tree, node)) == PROBE_DEFER)
                run->deferred[kept++] = node;
        }
        run->deferred_count = kept;
    } while (run->deferred_count > 0 && run->deferred_count < before);
    if (run->deferred_count > 0) {
        char path[MAX_PATH];
        int node = run->deferred[0];
        kernel_panic("probe-deferred", "%s (driver %s) waits for a device the tree never gave",
                     node_path(node, path), driver_for_node(&device_tree, node)->name);
    }
}

void devices_enumerate(void)
{
    struct enumeration run = {.deferred_count = 0, .bound = 0, .ignored = 0};
    visit(&run, fdt_root(&device_tree));
    unsigned deferred = run.deferred_count;
    retry_deferred(&run);
    log_info("devices", "enumerated", "bound=%u ignored=%u deferred=%u drivers=%lu", run.bound,
             run.ignored, deferred, (unsigned long)(__drivers_end - __drivers_start));
}
