/*
 * boardcheck: will Aubade boot on the board this device tree describes?
 *
 *     build/host/boardcheck FILE.dtb [...]      (tools/boardcheck builds it first)
 *
 * Built for the host from the very sources the loader and the kernel are
 * built from (host/SConscript lists them): the loader's reading of the tree
 * (loader/devicetree.c, under fuzz/harness.c's loader_panic(), which jumps
 * back here instead of powering off), lib/'s hart discovery, console
 * choice, interrupt specifiers and interrupt-controller list. Nothing here
 * decides what the kernel supports: it asks the code that decides on the
 * board, and says what it answered, in the boot log's grammar without
 * timestamps:
 *
 *     board: check file=virt.dtb
 *     board: harts count=4 ids=0,1,2,3
 *     board: memory base=0x80000000 size=0x8000000
 *     board: reserved range=0x80000000-0x80080000 what=reserved-memory node=mmode_resv0@80000000
 *     board: console node=/soc/serial@10000000 driver=ns16550a reg=0x10000000
 *     board: irq node=/soc/plic@c000000 driver=sifive,plic-1.0.0
 *     board: timer hart=0 kind=sstc
 *     board: supported
 *
 * or, for each thing the kernel lacks or the tree gets wrong,
 * `board: unsupported reason=WORD detail="..."`. Exit status: 0 when every
 * file is supported, 1 when one is not, 2 when a file cannot be read.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aubade/console.h>
#include <aubade/cpus.h>
#include <aubade/fmt.h>
#include <aubade/irqchip.h>

#include "harness.h"
#include "loader.h"

/* What lib/console.c calls when the tree names no usable UART, on the
 * board; here console_find() is all that runs, and it prints nothing. */
void sbi_console_putchar(char c)
{
    (void)c;
    abort();
}

/* Room for every region the banks and the reserved ranges can cut: each
 * range splits one region in three at most. The loader's map grows into
 * DRAM instead; this one never needs to. */
#define REGIONS (MAX_MEMORY_BANKS + 2 * MAX_RESERVED_RANGES + MEMMAP_GROW_SPARE)

struct check {
    const char *file;
    const uint8_t *blob;
    size_t size;
    struct machine machine;
    struct memmap memory;
    struct boot_region regions[REGIONS];
    bool supported;
};

static void say(const char *event, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static void say(const char *event, const char *format, ...)
{
    printf("board: %s", event);
    if (format[0] != '\0') {
        va_list args;
        va_start(args, format);
        putchar(' ');
        vprintf(format, args);
        va_end(args);
    }
    putchar('\n');
}

/* A detail is one quoted field: its own double quotes become single ones. */
static void refuse(struct check *check, const char *reason, const char *detail)
{
    printf("board: unsupported reason=%s detail=\"", reason);
    for (const char *c = detail; *c; c++)
        putchar(*c == '"' ? '\'' : *c);
    printf("\"\n");
    check->supported = false;
}

/* Runs one of the loader's steps; a panic is this board's refusal. */
static bool loader_step(struct check *check, void (*step)(void *context))
{
    const char *reason = fuzz_run(step, check);
    if (reason == NULL)
        return true;
    refuse(check, reason, fuzz_panic_detail());
    return false;
}

/* The node's absolute path, for the lines that name one. */
static const char *node_path(const struct fdt *dt, int node, char *path, size_t size)
{
    if (node == fdt_root(dt))
        return "/";
    char parent[256];
    int up = fdt_parent(dt, node);
    const char *prefix = up < 0 || up == fdt_root(dt) ? "" : node_path(dt, up, parent, sizeof parent);
    snprintf(path, size, "%s/%s", prefix, fdt_name(dt, node));
    return path;
}

/* 1. Harts: each cpu node as lib/cpus.c judges it, the reason for each
 *    one left alone, then the loader's own list, with the boot hart
 *    firmware would choose: one the kernel runs on (a file does not say
 *    which; its header's boot_cpuid_phys is whatever its compiler wrote). */
static void read_harts(void *context)
{
    struct check *check = context;
    machine_read_harts(&check->machine);
}

static bool check_harts(struct check *check)
{
    struct machine *machine = &check->machine;
    const struct fdt *dt = &machine->dt;
    int cpus = fdt_subnode(dt, fdt_root(dt), "cpus", 4);
    bool found = false;
    for (int cpu = fdt_first_child(dt, cpus); cpu >= 0; cpu = fdt_next_sibling(dt, cpu)) {
        enum cpus_hart_verdict verdict = cpus_hart_usable(dt, cpu);
        uint64_t hart, size;
        if (verdict == CPUS_HART_NOT_CPU)
            continue; /* cpu-map and the like */
        /* The loader refuses T-Head's cores by name wherever they are. */
        if ((verdict == CPUS_HART_USABLE || verdict == CPUS_HART_VENDOR_PAGE_ATTRIBUTES) &&
            !found)
            found = fdt_reg(dt, cpu, 0, &machine->boot_hart, &size);
        if (verdict == CPUS_HART_USABLE)
            continue;
        if (fdt_reg(dt, cpu, 0, &hart, &size))
            say("skipped", "hart=%lu reason=%s", hart, cpus_hart_verdict_name(verdict));
        else
            say("skipped", "node=%s reason=%s", fdt_name(dt, cpu), cpus_hart_verdict_name(verdict));
    }
    if (!found) {
        refuse(check, "no-mmu-hart",
               "no enabled RV64 hart with an Sv39, Sv48 or Sv57 MMU under /cpus");
        return false;
    }
    if (!loader_step(check, read_harts))
        return false;
    static char ids[BOOTINFO_MAX_HARTS * 21];
    fmt_id_list(ids, sizeof ids, machine->harts, machine->hart_count);
    say("harts", "count=%u ids=%s", machine->hart_count, ids);
    return true;
}

/* 2. Memory, as loader/main.c's find_memory() takes it. */
static void read_memory(void *context)
{
    struct check *check = context;
    struct machine *machine = &check->machine;
    machine_read_memory(machine);
    for (uint32_t i = 0; i < machine->bank_count; i++) {
        const struct boot_region *bank = &machine->banks[i];
        if (!memmap_add_bank(&check->memory, bank->base, bank->size))
            loader_panic("dtb-bad-memory", "memory bank 0x%lx+0x%lx overlaps another",
                         bank->base, bank->size);
    }
}

static void read_reserved(void *context)
{
    struct check *check = context;
    struct machine *machine = &check->machine;
    machine_read_reserved(machine);
    for (uint32_t i = 0; i < machine->reserved_count; i++) {
        const struct reserved_range *range = &machine->reserved[i];
        if (range->kind != BOOT_REGION_RESERVED)
            continue; /* the tree and the loader: where a boot puts them, unknown here */
        uint64_t first_page = align_down(range->base, SV39_PAGE_SIZE);
        uint64_t end = align_up(range->base + range->size, SV39_PAGE_SIZE);
        memmap_claim(&check->memory, first_page, end - first_page, range->kind);
    }
}

static void check_memory(struct check *check)
{
    struct machine *machine = &check->machine;
    const char *reason = fuzz_run(read_memory, check);
    /* A board's own tree often has no memory node: its firmware (U-Boot, a
     * vendor SPL) writes one, with the size it found, into the tree it
     * hands over. The kernel lacks nothing then, so this is a warning; the
     * loader stops on a tree that still has none at boot. */
    if (reason != NULL && strcmp(reason, "dtb-no-memory") == 0)
        say("warning", "reason=no-memory detail=\"no memory node: firmware usually adds one at "
                       "boot, and the loader needs it (dtb-no-memory) if it does not\"");
    else if (reason != NULL)
        refuse(check, reason, fuzz_panic_detail());
    for (uint32_t i = 0; i < machine->bank_count; i++)
        say("memory", "base=0x%lx size=0x%lx", machine->banks[i].base, machine->banks[i].size);

    if (!loader_step(check, read_reserved))
        return;
    /* The device tree's and the loader's own ranges are where this boot
     * put them, not facts of the board. */
    for (uint32_t i = 0; i < machine->reserved_count; i++) {
        const struct reserved_range *range = &machine->reserved[i];
        if (range->kind != BOOT_REGION_RESERVED)
            continue;
        uint64_t end = range->base + range->size;
        if (range->node)
            say("reserved", "range=0x%lx-0x%lx what=%s node=%s", range->base, end, range->what,
                range->node);
        else
            say("reserved", "range=0x%lx-0x%lx what=%s", range->base, end, range->what);
    }
}

/* Where the kernel's console mapping would put the UART: on the host only
 * its physical address is wanted, never a byte behind it. */
static uint64_t console_reg;

static uintptr_t note_registers(uint64_t phys, uint64_t size)
{
    (void)size;
    console_reg = phys;
    return (uintptr_t)1;
}

/* Writes through the firmware's SBI console, as both stages do when no
 * driver here takes the stdout-path node: the log comes out (QEMU's spike
 * boots so), but nothing typed reaches the shell. Said, not refused. */
static void console_through_sbi(const char *node, const char *reason, const char *detail)
{
    say("console", "node=%s driver=sbi", node);
    say("warning", "reason=%s detail=\"%s: the log goes through the firmware's SBI console, "
                   "and nothing typed reaches the shell\"",
        reason, detail);
}

/* 3. The console, as lib/console.c chooses it; the kernel reads typed
 *    input from the same UART. Returns its node, or a negative value when
 *    the kernel takes no input. */
static int check_console(struct check *check)
{
    const struct fdt *dt = &check->machine.dt;
    char path[256], detail[512];
    int node;
    const char *driver = console_find(dt, &node);
    const char *stdout_path = fdt_prop_string(dt, fdt_find(dt, "/chosen"), "stdout-path");
    if (stdout_path == NULL) {
        console_through_sbi("none", "console-none", "no /chosen/stdout-path");
        return FDT_ERR_NOT_FOUND;
    }
    if (node < 0) {
        snprintf(detail, sizeof detail, "stdout-path '%s' names no node", stdout_path);
        console_through_sbi("none", "console-not-found", detail);
        return FDT_ERR_NOT_FOUND;
    }
    node_path(dt, node, path, sizeof path);
    const char *compatible = fdt_prop_string(dt, node, "compatible");
    if (driver == NULL) {
        snprintf(detail, sizeof detail, "no console driver takes %s (compatible '%s')", path,
                 compatible ? compatible : "");
        console_through_sbi(path, "console-no-driver", detail);
        return FDT_ERR_NOT_FOUND;
    }
    struct uart_registers uart;
    switch (uart_registers_init(&uart, dt, node, note_registers)) {
    case UART_READY:
        say("console", "node=%s driver=%s reg=0x%lx", path, driver, console_reg);
        return node;
    case UART_UNKNOWN_WIDTH:
        snprintf(detail, sizeof detail, "%s: its reg-io-width is neither 1 nor 4", path);
        console_through_sbi(path, "console-no-driver", detail);
        return FDT_ERR_NOT_FOUND;
    case UART_NO_REGISTERS:
        break;
    }
    /* The kernel's input driver stops on it (dtb-console). */
    snprintf(detail, sizeof detail, "%s: reg is missing", path);
    refuse(check, "dtb-console", detail);
    return FDT_ERR_NOT_FOUND;
}

/* 4. The console's interrupt, read as the kernel's irq layer reads it
 *    (fdt_irq_at: interrupts-extended, or interrupts with the inherited
 *    interrupt-parent), goes to a controller one of its drivers must take;
 *    an APLIC that forwards MSIs needs its msi-parent (an IMSIC) driven too.
 *    Typed input reaches the shell through that chain, nothing else. */
#define MAX_CONTROLLER_HOPS 4

static bool is_imsic(const char *driver)
{
    for (const char *const *imsic = irqchip_imsic_compatible; *imsic; imsic++)
        if (strcmp(*imsic, driver) == 0)
            return true;
    return false;
}

static void check_irq(struct check *check, int console)
{
    const struct fdt *dt = &check->machine.dt;
    char path[256], detail[512];
    struct fdt_irq irq;
    node_path(dt, console, path, sizeof path);
    if (!fdt_irq_at(dt, console, 0, &irq)) {
        snprintf(detail, sizeof detail,
                 "%s: its interrupt is not in interrupts or interrupts-extended, or does not "
                 "fit its controller's #interrupt-cells",
                 path);
        refuse(check, "irq-specifier", detail);
        return;
    }
    int controller = irq.parent;
    for (unsigned hop = 0; controller >= 0 && hop < MAX_CONTROLLER_HOPS; hop++) {
        node_path(dt, controller, path, sizeof path);
        const char *driver = irqchip_driver(dt, controller);
        const char *compatible = fdt_prop_string(dt, controller, "compatible");
        if (driver == NULL || !fdt_is_enabled(dt, controller)) {
            snprintf(detail, sizeof detail, "%s (compatible '%s'%s): no driver", path,
                     compatible ? compatible : "", driver ? ", disabled" : "");
            refuse(check, "irq-no-driver", detail);
            return;
        }
        /* An IMSIC takes MSIs; a wire cannot end there. */
        if (hop == 0 && is_imsic(driver)) {
            snprintf(detail, sizeof detail, "the console's interrupt goes to %s, which takes MSIs",
                     path);
            refuse(check, "irq-specifier", detail);
            return;
        }
        say("irq", "node=%s driver=%s", path, driver);
        uint64_t msi_parent;
        if (!fdt_prop_u64(dt, controller, "msi-parent", &msi_parent))
            return;
        controller = fdt_by_phandle(dt, (uint32_t)msi_parent);
        if (controller < 0) {
            snprintf(detail, sizeof detail, "%s: msi-parent names no node", path);
            refuse(check, "irq-no-driver", detail);
            return;
        }
    }
}

/* 5. Every hart's tick: stimecmp where the tree lists Sstc (the kernel
 *    tries it at boot and falls back to SBI if the hart refuses), else SBI
 *    set_timer. */
static void check_timers(struct check *check)
{
    const struct fdt *dt = &check->machine.dt;
    for (uint32_t i = 0; i < check->machine.hart_count; i++) {
        uint64_t hart = check->machine.harts[i];
        bool sstc = cpus_hart_has_extension(dt, cpus_find_hart(dt, hart), "sstc");
        say("timer", "hart=%lu kind=%s", hart, sstc ? "sstc" : "sbi");
    }
}

static void open_tree(void *context)
{
    struct check *check = context;
    struct machine *machine = &check->machine;
    int error = fdt_open(&machine->dt, check->blob, check->size);
    if (error)
        loader_panic("dtb-invalid", "%s", fdt_strerror(error));
    machine_read_timebase(machine);
}

/* One file's verdict: true if supported. */
static bool check_board(struct check *check)
{
    say("check", "file=%s", check->file);
    if (!loader_step(check, open_tree))
        return false;
    bool harts = check_harts(check);
    check_memory(check);
    int console = check_console(check);
    if (console >= 0)
        check_irq(check, console);
    if (harts)
        check_timers(check);
    if (check->supported)
        say("supported", "");
    return check->supported;
}

/* The whole file, or NULL after saying why it could not be read. */
static uint8_t *read_file(const char *file, size_t *size)
{
    FILE *stream = fopen(file, "rb");
    if (stream == NULL) {
        fprintf(stderr, "boardcheck: %s: %s\n", file, strerror(errno));
        return NULL;
    }
    uint8_t *data = NULL;
    size_t used = 0, room = 0;
    for (;;) {
        if (used == room) {
            room = room ? room * 2 : 1 << 16;
            data = realloc(data, room);
            if (data == NULL) {
                fprintf(stderr, "boardcheck: %s: out of memory\n", file);
                fclose(stream);
                return NULL;
            }
        }
        size_t got = fread(data + used, 1, room - used, stream);
        used += got;
        if (got == 0)
            break;
    }
    bool failed = ferror(stream);
    fclose(stream);
    if (failed) {
        fprintf(stderr, "boardcheck: %s: read error\n", file);
        free(data);
        return NULL;
    }
    *size = used;
    return data;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: boardcheck FILE.dtb [...]\n");
        return 2;
    }
    /* Each line as it is made, so that a file's error on stderr comes
     * between the verdicts it belongs between. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    int status = 0;
    bool first = true;
    for (int i = 1; i < argc; i++) {
        size_t size;
        uint8_t *blob = read_file(argv[i], &size);
        if (blob == NULL) {
            status = 2;
            continue;
        }
        if (!first)
            putchar('\n');
        first = false;
        static struct check check;
        check = (struct check){.file = argv[i], .blob = blob, .size = size, .supported = true};
        check.memory = (struct memmap){.regions = check.regions, .capacity = REGIONS};
        if (!check_board(&check) && status == 0)
            status = 1;
        free(blob);
    }
    return status;
}
