/*
 * A read-only flattened device tree (DTB) parser.
 *
 * Every read is bounds-checked against the blob's header: a device tree comes
 * from firmware we do not control, so a malformed one must be rejected, never
 * read out of bounds. Nodes are identified by their offset in the structure
 * block; a negative value means "none" or an error (enum fdt_error).
 */
#ifndef AUBADE_FDT_H
#define AUBADE_FDT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fdt_error {
    FDT_ERR_NOT_FOUND = -1,
    FDT_ERR_MAGIC = -2,
    FDT_ERR_VERSION = -3,
    FDT_ERR_TRUNCATED = -4, /* an offset or size points outside the blob */
    FDT_ERR_STRUCTURE = -5, /* a bad token, an unterminated name, ... */
};

struct fdt {
    const uint8_t *blob;
    uint32_t total_size;
    uint32_t struct_offset, struct_size;
    uint32_t strings_offset, strings_size;
    uint32_t memreserve_offset;
};

/* Reads the header of the blob at `blob`; at most `max_size` bytes are readable. */
int fdt_open(struct fdt *dt, const void *blob, size_t max_size);
const char *fdt_strerror(int error);

int fdt_root(const struct fdt *dt);
int fdt_first_child(const struct fdt *dt, int node);
int fdt_next_sibling(const struct fdt *dt, int node);
int fdt_parent(const struct fdt *dt, int node);
/* A child by full name ("cpu@1") or by name without its unit address ("cpus"). */
int fdt_subnode(const struct fdt *dt, int parent, const char *name, size_t name_len);
/* An absolute path ("/chosen") or an alias ("serial0", "serial0:115200n8"
 * stops at the ':'), as stdout-path allows. */
int fdt_find(const struct fdt *dt, const char *path);
int fdt_by_phandle(const struct fdt *dt, uint32_t phandle);

const char *fdt_name(const struct fdt *dt, int node);
const void *fdt_prop(const struct fdt *dt, int node, const char *name, uint32_t *len);
/* A property that is a NUL-terminated string, or NULL. */
const char *fdt_prop_string(const struct fdt *dt, int node, const char *name);
/* String `index` of a string-list property ("compatible"), or NULL past its end. */
const char *fdt_prop_string_at(const struct fdt *dt, int node, const char *name, uint32_t index);
/* A property of one or two cells; false when absent or of another size. */
bool fdt_prop_u64(const struct fdt *dt, int node, const char *name, uint64_t *value);
bool fdt_is_compatible(const struct fdt *dt, int node, const char *compatible);
/* `status` absent or "okay"/"ok". */
bool fdt_is_enabled(const struct fdt *dt, int node);
/* The interrupt controller that `node`'s `interrupts` go to: the phandle of
 * the nearest `interrupt-parent`, on the node or an ancestor. */
int fdt_interrupt_parent(const struct fdt *dt, int node);

/* One interrupt of a device: the controller it goes to and its specifier,
 * `cell_count` cells as that controller's `#interrupt-cells` says (the
 * source, then a trigger type or a context for some). */
#define FDT_IRQ_MAX_CELLS 4
struct fdt_irq {
    int parent;
    uint32_t cell_count;
    uint32_t cells[FDT_IRQ_MAX_CELLS];
};
/* The index-th interrupt of node, or false (no such interrupt, or malformed).
 * From `interrupts-extended` (<phandle specifier> entries) when the node has
 * it, else from `interrupts` with the inherited `interrupt-parent`. */
bool fdt_irq_at(const struct fdt *dt, int node, uint32_t index, struct fdt_irq *irq);
/* The same one after another: the interrupt at *cursor (0 for the first),
 * moving it to the next; false at the end or at a malformed entry. Reading
 * them all this way finds each entry's parent once, where fdt_irq_at
 * walks every entry before the one it returns (a 64-hart PLIC's contexts:
 * 64 phandle lookups rather than 2080). */
bool fdt_irq_next(const struct fdt *dt, int node, uint32_t *cursor, struct fdt_irq *irq);

/* Entry `index` of the node's `reg`, decoded with the parent's cell counts. */
bool fdt_reg(const struct fdt *dt, int node, uint32_t index, uint64_t *base, uint64_t *size);
/* Entry `index` of the /memreserve/ block; false past the last one. */
bool fdt_memreserve(const struct fdt *dt, uint32_t index, uint64_t *base, uint64_t *size);

static inline uint32_t fdt_be32(const void *p)
{
    const uint8_t *b = p;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

#endif
