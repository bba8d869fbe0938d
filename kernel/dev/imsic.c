/*
 * The incoming MSI controller (IMSIC, `riscv,imsics`) of the RISC-V Advanced
 * Interrupt Architecture: every hart has interrupt files, one per privilege
 * level, each a 4 KiB page where a device (or an APLIC in MSI mode) writes
 * an interrupt identity to make it pending. The S-level file's state is
 * reached through the hart's own CSRs (Ssaia): siselect picks one of its
 * registers (eidelivery, eithreshold, the eip/eie arrays) and sireg reads
 * or writes it; stopei gives the highest-priority identity pending and
 * enabled, and a write to it claims that one. The file raises the hart's
 * supervisor external interrupt.
 *
 * One node describes the files of one privilege level: its
 * interrupts-extended lists a hart per file, with cause 9 for S-level files
 * (the kernel's) or 11 for M-level ones (firmware's, never touched). File i
 * is the i-th 4 KiB page (times 2^riscv,guest-index-bits) of the node's reg
 * regions taken in order.
 *
 * Identities come from one pool shared by all harts (1..riscv,num-ids),
 * each bound to one hart. Routes are made in Main; each hart enables its
 * own identities in Late, since a file's CSRs are that hart's alone.
 */
#include <aubade/csr.h>
#include <aubade/irqchip.h>
#include <aubade/log.h>

#include "imsic.h"
#include "boot/boot.h"
#include "debug/debug.h"
#include "dev/dev.h"
#include "mm/mm.h"

#define CSR_SISELECT 0x150
#define CSR_SIREG 0x151
#define CSR_STOPEI 0x15c
/* Registers behind siselect; on RV64 only the even-numbered eie/eip exist,
 * each 64 identities wide. */
#define IMSIC_EIDELIVERY 0x70
#define IMSIC_EITHRESHOLD 0x72
#define IMSIC_EIE(identity) (0xc0 + 2 * ((identity) / 64))
#define IMSIC_TOPEI_IDENTITY(value) (((value) >> 16) & 0x7ff)
#define IMSIC_FILE_SIZE 0x1000ul
#define IMSIC_MAX_IDENTITIES 2047
#define IMSIC_MAX_REGIONS 16
#define DEFAULT_GROUP_INDEX_SHIFT 24

struct identity {
    struct irq_action action;
    uint64_t hart;
};

struct imsic {
    struct irq_chip chip; /* first: the chip's address is the IMSIC's */
    uint32_t identity_count; /* riscv,num-ids */
    uint32_t next_identity;
    struct identity *identities; /* by identity, 1..identity_count */
    uint64_t *files;             /* S-level file address by BootInfo index; 0: none */
    uint32_t file_count;
    /* How an MSI address splits (the AIA's "hart index" of a file). */
    uint32_t guest_bits, hart_bits, group_bits, group_shift;
};

#define STRINGIFY(x) #x
#define CSR_NAME(number) STRINGIFY(number)

/* The assembler may not know the Ssaia CSRs by name: they go by number. */
static void file_write(uint64_t reg, uint64_t value)
{
    asm volatile("csrw " CSR_NAME(CSR_SISELECT) ", %0" ::"r"(reg) : "memory");
    asm volatile("csrw " CSR_NAME(CSR_SIREG) ", %0" ::"r"(value) : "memory");
}

static void file_set(uint64_t reg, uint64_t bits)
{
    asm volatile("csrw " CSR_NAME(CSR_SISELECT) ", %0" ::"r"(reg) : "memory");
    asm volatile("csrs " CSR_NAME(CSR_SIREG) ", %0" ::"r"(bits) : "memory");
}

uint32_t imsic_file_count(const struct irq_chip *imsic)
{
    return ((const struct imsic *)imsic)->file_count;
}

static uint64_t mask(uint32_t bits)
{
    return (1ul << bits) - 1;
}

bool imsic_route(struct irq_chip *chip, uint64_t hart, struct irq_action action,
                 uint32_t *identity, uint32_t *hart_index)
{
    struct imsic *imsic = (struct imsic *)chip;
    uint64_t file = imsic->files[percpu_index(hart)];
    if (file == 0)
        return false;
    if (imsic->next_identity > imsic->identity_count)
        kernel_panic("too-many-msis", "%s: all %u interrupt identities are taken",
                     fdt_name(&device_tree, chip->node), imsic->identity_count);
    *identity = imsic->next_identity++;
    imsic->identities[*identity] = (struct identity){action, hart};
    /* The AIA's MSI address: (base | group << group_shift | hart << (12 +
     * guest bits) | guest << 12); the hart index is the group, then the hart. */
    uint64_t group = (file >> imsic->group_shift) & mask(imsic->group_bits);
    uint64_t index = (file >> (12 + imsic->guest_bits)) & mask(imsic->hart_bits);
    *hart_index = (uint32_t)(group << imsic->hart_bits | index);
    return true;
}

static void imsic_start_hart(struct irq_chip *chip)
{
    struct imsic *imsic = (struct imsic *)chip;
    if (imsic->files[percpu_index(current_hart)] == 0)
        return;
    /* Firmware may have left identities enabled: only ours are. */
    for (uint32_t identity = 0; identity <= imsic->identity_count; identity += 64)
        file_write(IMSIC_EIE(identity), 0);
    for (uint32_t identity = 1; identity < imsic->next_identity; identity++) {
        if (imsic->identities[identity].hart == current_hart)
            file_set(IMSIC_EIE(identity), 1ul << identity % 64);
    }
    file_write(IMSIC_EITHRESHOLD, 0); /* every identity may interrupt */
    file_write(IMSIC_EIDELIVERY, 1);
}

static void imsic_take(struct irq_chip *chip)
{
    struct imsic *imsic = (struct imsic *)chip;
    if (imsic->files[percpu_index(current_hart)] == 0)
        return;
    for (;;) {
        uint64_t top;
        /* Reads the top identity and, by the write, claims it. */
        asm volatile("csrrw %0, " CSR_NAME(CSR_STOPEI) ", zero" : "=r"(top)::"memory");
        uint32_t identity = IMSIC_TOPEI_IDENTITY(top);
        if (identity == 0)
            return;
        bool known = identity <= imsic->identity_count;
        irq_dispatch(chip, known ? &imsic->identities[identity].action : &(struct irq_action){0},
                     identity);
    }
}

static uint32_t property_or(const struct fdt *dt, int node, const char *name, uint32_t fallback)
{
    uint64_t value;
    return fdt_prop_u64(dt, node, name, &value) ? (uint32_t)value : fallback;
}

/* File `index`'s address: the index-th file of the reg regions in order. */
static uint64_t file_address(const struct fdt *dt, int node, const struct imsic *imsic,
                             uint32_t index)
{
    uint64_t offset = (uint64_t)index * (IMSIC_FILE_SIZE << imsic->guest_bits);
    uint64_t base, size;
    for (uint32_t region = 0; fdt_reg(dt, node, region, &base, &size); region++) {
        if (offset < size)
            return base + offset;
        offset -= size;
    }
    kernel_panic("dtb-imsic", "%s: reg has no room for interrupt file %u", fdt_name(dt, node),
                 index);
}

static enum probe_result imsic_probe(const struct fdt *dt, int node)
{
    /* Every output's hart known first (cpu-intc probed), or ask again. */
    uint32_t outputs = 0, cursor = 0;
    for (uint64_t hart;; outputs++) {
        enum irq_output output = irq_output_next(dt, node, &cursor, outputs, &hart);
        if (output == IRQ_OUTPUT_DEFER)
            return PROBE_DEFER;
        if (output == IRQ_OUTPUT_END)
            break;
    }
    uint32_t identities = property_or(dt, node, "riscv,num-ids", 0);
    if (identities == 0 || identities > IMSIC_MAX_IDENTITIES)
        kernel_panic("dtb-imsic", "%s: riscv,num-ids is missing or not 1-%d", fdt_name(dt, node),
                     IMSIC_MAX_IDENTITIES);
    uint32_t default_hart_bits = 0;
    while ((1u << default_hart_bits) < outputs)
        default_hart_bits++;
    struct imsic *imsic = kzalloc(sizeof *imsic);
    uint64_t *files = kzalloc(boot_info->hart_count * sizeof *files);
    struct identity *table = kzalloc((identities + 1) * sizeof *table);
    if (!imsic || !files || !table)
        kernel_panic("out-of-memory", "%s: no memory for the IMSIC's tables", fdt_name(dt, node));
    *imsic = (struct imsic){
        .chip = {.name = "imsic", .node = node, .start_hart = imsic_start_hart, .take = imsic_take},
        .identity_count = identities,
        .next_identity = 1,
        .identities = table,
        .files = files,
        .guest_bits = property_or(dt, node, "riscv,guest-index-bits", 0),
        .hart_bits = property_or(dt, node, "riscv,hart-index-bits", default_hart_bits),
        .group_bits = property_or(dt, node, "riscv,group-index-bits", 0),
        .group_shift = property_or(dt, node, "riscv,group-index-shift", DEFAULT_GROUP_INDEX_SHIFT),
    };
    if (imsic->guest_bits > 6 || imsic->hart_bits > 14 || imsic->group_bits > 7 ||
        imsic->group_shift < 24 || imsic->group_shift > 55)
        kernel_panic("dtb-imsic", "%s: index bits or group shift out of the AIA's range",
                     fdt_name(dt, node));
    cursor = 0;
    for (uint32_t i = 0; i < outputs; i++) {
        uint64_t hart;
        if (irq_output_next(dt, node, &cursor, i, &hart) == IRQ_OUTPUT_SUPERVISOR) {
            files[percpu_index(hart)] = file_address(dt, node, imsic, i);
            imsic->file_count++;
        }
    }
    /* The files are reached through CSRs: nothing to map. */
    irq_chip_add(&imsic->chip);
    log_debug("imsic", "found", "node=%s identities=%u files=%u", fdt_name(dt, node),
              identities, imsic->file_count);
    return PROBE_BOUND;
}

DRIVER_LIST(imsic, imsic_probe, irqchip_imsic_compatible);
