/*
 * Flattened device tree parser: see <aubade/fdt.h>.
 *
 * The structure block is a stream of big-endian tokens. Every function here
 * walks that stream with read_token(), which is the only place that touches
 * the blob and checks each read against the structure block's bounds.
 */
#include <aubade/fdt.h>
#include <aubade/string.h>

#define FDT_MAGIC 0xd00dfeed
#define FDT_VERSION 17
#define FDT_HEADER_SIZE 40

enum fdt_token {
    FDT_BEGIN_NODE = 1,
    FDT_END_NODE = 2,
    FDT_PROP = 3,
    FDT_NOP = 4,
    FDT_END = 9,
};

/* Deeper trees are rejected rather than walked with an unbounded stack. */
#define FDT_MAX_DEPTH 32

struct token {
    uint32_t tag;
    uint32_t offset; /* of the token itself */
    uint32_t next;   /* of the token after it */
    /* FDT_BEGIN_NODE: the name. FDT_PROP: the value and the name. */
    const char *name;
    const uint8_t *value;
    uint32_t value_len;
};

static uint32_t align4(uint32_t x)
{
    return (x + 3) & ~3u;
}

static bool range_inside(uint32_t offset, uint32_t len, uint32_t limit)
{
    return offset <= limit && len <= limit - offset;
}

static const char *string_at(const struct fdt *dt, uint32_t name_offset)
{
    if (name_offset >= dt->strings_size)
        return NULL;
    const char *s = (const char *)dt->blob + dt->strings_offset + name_offset;
    if (strnlen(s, dt->strings_size - name_offset) == dt->strings_size - name_offset)
        return NULL; /* no terminating NUL inside the strings block */
    return s;
}

/* Decodes the token at `offset` of the structure block. */
static int read_token(const struct fdt *dt, uint32_t offset, struct token *token)
{
    const uint8_t *base = dt->blob + dt->struct_offset;
    uint32_t limit = dt->struct_size;

    if ((offset & 3) || !range_inside(offset, 4, limit))
        return FDT_ERR_TRUNCATED;
    *token = (struct token){.tag = fdt_be32(base + offset), .offset = offset};
    uint32_t cursor = offset + 4;

    switch (token->tag) {
    case FDT_BEGIN_NODE: {
        const char *name = (const char *)base + cursor;
        uint32_t len = strnlen(name, limit - cursor);
        if (len == limit - cursor)
            return FDT_ERR_STRUCTURE;
        token->name = name;
        cursor = align4(cursor + len + 1);
        break;
    }
    case FDT_PROP: {
        if (!range_inside(cursor, 8, limit))
            return FDT_ERR_TRUNCATED;
        token->value_len = fdt_be32(base + cursor);
        token->name = string_at(dt, fdt_be32(base + cursor + 4));
        cursor += 8;
        if (token->name == NULL)
            return FDT_ERR_STRUCTURE;
        if (!range_inside(cursor, token->value_len, limit))
            return FDT_ERR_TRUNCATED;
        token->value = base + cursor;
        cursor = align4(cursor + token->value_len);
        break;
    }
    case FDT_END_NODE:
    case FDT_NOP:
    case FDT_END:
        break;
    default:
        return FDT_ERR_STRUCTURE;
    }
    if (cursor > limit)
        return FDT_ERR_TRUNCATED;
    token->next = cursor;
    return 0;
}

int fdt_open(struct fdt *dt, const void *blob, size_t max_size)
{
    const uint8_t *header = blob;

    if (max_size < FDT_HEADER_SIZE)
        return FDT_ERR_TRUNCATED;
    if (fdt_be32(header) != FDT_MAGIC)
        return FDT_ERR_MAGIC;
    /* Version 17 added size_dt_struct, which the bounds checks rely on. */
    if (fdt_be32(header + 20) < FDT_VERSION || fdt_be32(header + 24) > FDT_VERSION)
        return FDT_ERR_VERSION;

    *dt = (struct fdt){
        .blob = header,
        .total_size = fdt_be32(header + 4),
        .struct_offset = fdt_be32(header + 8),
        .strings_offset = fdt_be32(header + 12),
        .memreserve_offset = fdt_be32(header + 16),
        .strings_size = fdt_be32(header + 32),
        .struct_size = fdt_be32(header + 36),
    };
    /* Node offsets are ints: a blob past 2 GiB is no device tree anyway. */
    if (dt->total_size < FDT_HEADER_SIZE || dt->total_size > max_size ||
        dt->total_size > INT32_MAX)
        return FDT_ERR_TRUNCATED;
    if (!range_inside(dt->struct_offset, dt->struct_size, dt->total_size) ||
        !range_inside(dt->strings_offset, dt->strings_size, dt->total_size) ||
        !range_inside(dt->memreserve_offset, 16, dt->total_size))
        return FDT_ERR_TRUNCATED;
    if ((dt->struct_offset & 3) || (dt->memreserve_offset & 7))
        return FDT_ERR_STRUCTURE;
    int root = fdt_root(dt);
    return root < 0 ? root : 0;
}

const char *fdt_strerror(int error)
{
    switch (error) {
    case FDT_ERR_NOT_FOUND:
        return "not-found";
    case FDT_ERR_MAGIC:
        return "bad-magic";
    case FDT_ERR_VERSION:
        return "unsupported-version";
    case FDT_ERR_TRUNCATED:
        return "truncated";
    case FDT_ERR_STRUCTURE:
        return "bad-structure";
    default:
        return "unknown-error";
    }
}

/* The first token at or after `offset` that is not a NOP. */
static int skip_nops(const struct fdt *dt, uint32_t offset, struct token *token)
{
    for (;;) {
        int error = read_token(dt, offset, token);
        if (error)
            return error;
        if (token->tag != FDT_NOP)
            return 0;
        offset = token->next;
    }
}

int fdt_root(const struct fdt *dt)
{
    struct token token;
    int error = skip_nops(dt, 0, &token);
    if (error)
        return error;
    return token.tag == FDT_BEGIN_NODE ? (int)token.offset : FDT_ERR_STRUCTURE;
}

/* The first token after a node's own properties: a child or its END_NODE. */
static int after_properties(const struct fdt *dt, int node, struct token *token)
{
    if (node < 0)
        return node;
    int error = read_token(dt, (uint32_t)node, token);
    if (error)
        return error;
    if (token->tag != FDT_BEGIN_NODE)
        return FDT_ERR_STRUCTURE;
    for (;;) {
        error = skip_nops(dt, token->next, token);
        if (error)
            return error;
        if (token->tag != FDT_PROP)
            return 0;
    }
}

int fdt_first_child(const struct fdt *dt, int node)
{
    struct token token;
    int error = after_properties(dt, node, &token);
    if (error)
        return error;
    if (token.tag == FDT_BEGIN_NODE)
        return (int)token.offset;
    return token.tag == FDT_END_NODE ? FDT_ERR_NOT_FOUND : FDT_ERR_STRUCTURE;
}

/* The offset just past the END_NODE that closes `node`. */
static int node_end(const struct fdt *dt, int node, uint32_t *end)
{
    struct token token;
    int error = read_token(dt, (uint32_t)node, &token);
    int depth = 0;
    for (;;) {
        if (error)
            return error;
        if (token.tag == FDT_BEGIN_NODE && ++depth > FDT_MAX_DEPTH)
            return FDT_ERR_STRUCTURE;
        if (token.tag == FDT_END_NODE && --depth == 0) {
            *end = token.next;
            return 0;
        }
        if (token.tag == FDT_END)
            return FDT_ERR_STRUCTURE;
        error = read_token(dt, token.next, &token);
    }
}

int fdt_next_sibling(const struct fdt *dt, int node)
{
    if (node < 0)
        return node;
    uint32_t end;
    struct token token;
    int error = node_end(dt, node, &end);
    if (!error)
        error = skip_nops(dt, end, &token);
    if (error)
        return error;
    return token.tag == FDT_BEGIN_NODE ? (int)token.offset : FDT_ERR_NOT_FOUND;
}

int fdt_parent(const struct fdt *dt, int node)
{
    int stack[FDT_MAX_DEPTH];
    int depth = 0;
    struct token token;

    for (uint32_t offset = 0; offset < (uint32_t)node; offset = token.next) {
        int error = read_token(dt, offset, &token);
        if (error)
            return error;
        if (token.tag == FDT_BEGIN_NODE) {
            if (depth == FDT_MAX_DEPTH)
                return FDT_ERR_STRUCTURE;
            stack[depth++] = (int)offset;
        } else if (token.tag == FDT_END_NODE) {
            if (depth == 0)
                return FDT_ERR_STRUCTURE;
            depth--;
        } else if (token.tag == FDT_END) {
            return FDT_ERR_NOT_FOUND;
        }
    }
    return depth > 0 ? stack[depth - 1] : FDT_ERR_NOT_FOUND;
}

const char *fdt_name(const struct fdt *dt, int node)
{
    struct token token;
    if (node < 0 || read_token(dt, (uint32_t)node, &token) || token.tag != FDT_BEGIN_NODE)
        return NULL;
    return token.name;
}

/* Does the node name `full` ("cpu@1") match `wanted` ("cpu@1", or "cpu")? */
static bool name_matches(const char *full, const char *wanted, size_t wanted_len)
{
    if (strncmp(full, wanted, wanted_len) != 0)
        return false;
    if (full[wanted_len] == '\0')
        return true;
    /* Without a unit address of its own, `wanted` matches any unit address. */
    return full[wanted_len] == '@' && strchr(wanted, '@') == NULL;
}

/* The node's properties one by one; start with *cursor = 0. */
static bool next_property(const struct fdt *dt, int node, uint32_t *cursor, struct token *prop)
{
    if (node < 0)
        return false;
    if (*cursor == 0) {
        if (read_token(dt, (uint32_t)node, prop) || prop->tag != FDT_BEGIN_NODE)
            return false;
        *cursor = prop->next;
    }
    if (skip_nops(dt, *cursor, prop) || prop->tag != FDT_PROP)
        return false;
    *cursor = prop->next;
    return true;
}

static const char *value_as_string(const struct token *prop)
{
    if (prop->value_len == 0 || prop->value[prop->value_len - 1] != '\0')
        return NULL;
    return (const char *)prop->value;
}

int fdt_subnode(const struct fdt *dt, int parent, const char *name, size_t name_len)
{
    for (int child = fdt_first_child(dt, parent); child >= 0; child = fdt_next_sibling(dt, child)) {
        const char *child_name = fdt_name(dt, child);
        if (child_name && name_matches(child_name, name, name_len))
            return child;
    }
    return FDT_ERR_NOT_FOUND;
}

/* Walks an absolute path, one component at a time. */
static int find_path(const struct fdt *dt, const char *path, size_t path_len)
{
    int node = fdt_root(dt);
    size_t cursor = 0;
    while (node >= 0 && cursor < path_len) {
        while (cursor < path_len && path[cursor] == '/')
            cursor++;
        size_t start = cursor;
        while (cursor < path_len && path[cursor] != '/')
            cursor++;
        if (cursor > start)
            node = fdt_subnode(dt, node, path + start, cursor - start);
    }
    return node;
}

int fdt_find(const struct fdt *dt, const char *path)
{
    /* stdout-path may carry UART options after a ':' ("serial0:115200n8"). */
    const char *options = strchr(path, ':');
    size_t len = options ? (size_t)(options - path) : strlen(path);
    if (len > 0 && path[0] == '/')
        return find_path(dt, path, len);

    int aliases = fdt_subnode(dt, fdt_root(dt), "aliases", 7);
    uint32_t cursor = 0;
    struct token alias;
    while (next_property(dt, aliases, &cursor, &alias)) {
        const char *target = value_as_string(&alias);
        if (strlen(alias.name) == len && strncmp(alias.name, path, len) == 0 && target &&
            target[0] == '/')
            return find_path(dt, target, strlen(target));
    }
    return FDT_ERR_NOT_FOUND;
}

int fdt_by_phandle(const struct fdt *dt, uint32_t phandle)
{
    struct token token;
    int node = FDT_ERR_NOT_FOUND;
    for (uint32_t offset = 0;; offset = token.next) {
        if (read_token(dt, offset, &token) || token.tag == FDT_END)
            return FDT_ERR_NOT_FOUND;
        if (token.tag == FDT_BEGIN_NODE)
            node = (int)token.offset;
        else if (token.tag == FDT_PROP && token.value_len == 4 &&
                 strcmp(token.name, "phandle") == 0 && fdt_be32(token.value) == phandle)
            return node;
    }
}

const void *fdt_prop(const struct fdt *dt, int node, const char *name, uint32_t *len)
{
    uint32_t cursor = 0;
    struct token prop;
    while (next_property(dt, node, &cursor, &prop)) {
        if (strcmp(prop.name, name) == 0) {
            if (len)
                *len = prop.value_len;
            return prop.value;
        }
    }
    return NULL;
}

const char *fdt_prop_string(const struct fdt *dt, int node, const char *name)
{
    uint32_t cursor = 0;
    struct token prop;
    while (next_property(dt, node, &cursor, &prop))
        if (strcmp(prop.name, name) == 0)
            return value_as_string(&prop);
    return NULL;
}

/* A number of zero, one or two cells (a cpu's reg has #size-cells = 0). */
static bool read_cells(const uint8_t *cells, uint32_t count, uint64_t *value)
{
    if (count > 2)
        return false;
    *value = 0;
    for (uint32_t i = 0; i < count; i++)
        *value = *value << 32 | fdt_be32(cells + 4 * i);
    return true;
}

bool fdt_prop_u64(const struct fdt *dt, int node, const char *name, uint64_t *value)
{
    uint32_t len;
    const uint8_t *cells = fdt_prop(dt, node, name, &len);
    return cells && (len == 4 || len == 8) && read_cells(cells, len / 4, value);
}

const char *fdt_prop_string_at(const struct fdt *dt, int node, const char *name, uint32_t index)
{
    uint32_t len;
    const char *list = fdt_prop(dt, node, name, &len);
    /* A string list: NUL-terminated strings back to back. An entry cut off
     * by the end of the property is no entry. */
    for (uint32_t at = 0; list && at < len;) {
        size_t entry_len = strnlen(list + at, len - at);
        if (entry_len == len - at)
            return NULL;
        if (index-- == 0)
            return list + at;
        at += entry_len + 1;
    }
    return NULL;
}

bool fdt_is_compatible(const struct fdt *dt, int node, const char *compatible)
{
    const char *entry;
    for (uint32_t i = 0; (entry = fdt_prop_string_at(dt, node, "compatible", i)); i++)
        if (strcmp(entry, compatible) == 0)
            return true;
    return false;
}

bool fdt_is_enabled(const struct fdt *dt, int node)
{
    const char *status = fdt_prop_string(dt, node, "status");
    return status == NULL || strcmp(status, "okay") == 0 || strcmp(status, "ok") == 0;
}

int fdt_interrupt_parent(const struct fdt *dt, int node)
{
    for (; node >= 0; node = fdt_parent(dt, node)) {
        uint32_t len;
        const uint8_t *phandle = fdt_prop(dt, node, "interrupt-parent", &len);
        if (phandle)
            return len == 4 ? fdt_by_phandle(dt, fdt_be32(phandle)) : FDT_ERR_STRUCTURE;
    }
    return FDT_ERR_NOT_FOUND;
}

/* The #interrupt-cells of an interrupt controller; false if it has none
 * or more than a specifier may hold. */
static bool interrupt_cells(const struct fdt *dt, int controller, uint32_t *cells)
{
    uint32_t len;
    const uint8_t *value = fdt_prop(dt, controller, "#interrupt-cells", &len);
    if (value == NULL || len != 4 || fdt_be32(value) > FDT_IRQ_MAX_CELLS)
        return false;
    *cells = fdt_be32(value);
    return true;
}

static void copy_specifier(const uint8_t *cells, struct fdt_irq *irq)
{
    for (uint32_t i = 0; i < irq->cell_count; i++)
        irq->cells[i] = fdt_be32(cells + 4 * i);
}

/* Entries of interrupts-extended differ in size (each is its controller's
 * #interrupt-cells long), so reaching entry `index` means walking the ones
 * before it. */
bool fdt_irq_next(const struct fdt *dt, int node, uint32_t *cursor, struct fdt_irq *irq)
{
    uint32_t len;
    const uint8_t *entries = fdt_prop(dt, node, "interrupts-extended", &len);
    if (entries) {
        /* <phandle specifier> entries, each as long as its parent says. */
        if (*cursor >= len || len - *cursor < 4)
            return false;
        irq->parent = fdt_by_phandle(dt, fdt_be32(entries + *cursor));
        if (irq->parent < 0 || !interrupt_cells(dt, irq->parent, &irq->cell_count))
            return false;
        uint32_t at = *cursor + 4;
        if (len - at < 4 * irq->cell_count)
            return false;
        copy_specifier(entries + at, irq);
        *cursor = at + 4 * irq->cell_count;
        return true;
    }
    entries = fdt_prop(dt, node, "interrupts", &len);
    if (entries == NULL)
        return false;
    irq->parent = fdt_interrupt_parent(dt, node);
    /* Without cells, `interrupts` cannot say how many interrupts it holds. */
    if (irq->parent < 0 || !interrupt_cells(dt, irq->parent, &irq->cell_count) ||
        irq->cell_count == 0 || len % (4 * irq->cell_count) != 0 || *cursor >= len)
        return false;
    copy_specifier(entries + *cursor, irq);
    *cursor += 4 * irq->cell_count;
    return true;
}

bool fdt_irq_at(const struct fdt *dt, int node, uint32_t index, struct fdt_irq *irq)
{
    uint32_t cursor = 0;
    for (uint32_t i = 0; fdt_irq_next(dt, node, &cursor, irq); i++)
        if (i == index)
            return true;
    return false;
}

/* #address-cells or #size-cells of `node`, with the specification's defaults. */
static uint32_t cell_count(const struct fdt *dt, int node, const char *name, uint32_t fallback)
{
    uint64_t count;
    return fdt_prop_u64(dt, node, name, &count) && count <= 4 ? (uint32_t)count : fallback;
}

bool fdt_reg(const struct fdt *dt, int node, uint32_t index, uint64_t *base, uint64_t *size)
{
    int parent = fdt_parent(dt, node);
    if (parent < 0)
        return false;
    uint32_t address_cells = cell_count(dt, parent, "#address-cells", 2);
    uint32_t size_cells = cell_count(dt, parent, "#size-cells", 1);
    uint32_t entry_size = (address_cells + size_cells) * 4;

    uint32_t len;
    const uint8_t *reg = fdt_prop(dt, node, "reg", &len);
    if (reg == NULL || entry_size == 0 || index >= len / entry_size)
        return false;
    reg += index * entry_size;
    return read_cells(reg, address_cells, base) &&
           read_cells(reg + address_cells * 4, size_cells, size);
}

bool fdt_memreserve(const struct fdt *dt, uint32_t index, uint64_t *base, uint64_t *size)
{
    /* Entries are pairs of big-endian 64-bit numbers, ended by a zero pair. */
    uint64_t entries = (dt->total_size - dt->memreserve_offset) / 16;
    for (uint32_t i = 0; i <= index; i++) {
        if (i >= entries)
            return false;
        const uint8_t *entry = dt->blob + dt->memreserve_offset + i * 16;
        read_cells(entry, 2, base);
        read_cells(entry + 8, 2, size);
        if (*base == 0 && *size == 0)
            return false;
    }
    return true;
}
