/*
 * Copying to and from a process's memory. S-mode can touch U pages only
 * with sstatus.SUM set; it is set for each copy alone, with interrupts off
 * so that no other task ever runs with it. The range is checked before:
 * the copy itself cannot fault.
 */
#include <aubade/csr.h>
#include <aubade/string.h>

#include "proc/proc.h"

#define LOWER_HALF_END 0x4000000000ul
/* Copied with interrupts off at most this much at a time. */
#define CHUNK 512

static bool range_allowed(uint64_t start, size_t size, bool write)
{
    if (size == 0)
        return true;
    if (start >= LOWER_HALF_END || size > LOWER_HALF_END - start)
        return false;
    const struct sv39 *tables = process_tables();
    uint64_t needed = PTE_U | PTE_R | (write ? PTE_W : 0);
    for (uint64_t page = start & ~(SV39_PAGE_SIZE - 1); page < start + size;) {
        struct sv39_leaf leaf;
        if (sv39_translate(tables, page, &leaf) != SV39_OK || (leaf.pte & needed) != needed)
            return false;
        page = leaf.virt + leaf.size;
    }
    return true;
}

static void copy_with_sum(void *to, const void *from, size_t size)
{
    for (size_t done = 0; done < size; done += CHUNK) {
        size_t part = size - done < CHUNK ? size - done : CHUNK;
        uint64_t were_enabled = interrupts_disable();
        csr_set(sstatus, SSTATUS_SUM);
        memcpy((uint8_t *)to + done, (const uint8_t *)from + done, part);
        csr_clear(sstatus, SSTATUS_SUM);
        interrupts_restore(were_enabled);
    }
}

bool user_can_write(uint64_t start, size_t size)
{
    return range_allowed(start, size, true);
}

bool copy_from_user(void *to, uint64_t from, size_t size)
{
    if (!range_allowed(from, size, false))
        return false;
    copy_with_sum(to, (const void *)from, size);
    return true;
}

bool copy_to_user(uint64_t to, const void *from, size_t size)
{
    if (!range_allowed(to, size, true))
        return false;
    copy_with_sum((void *)to, from, size);
    return true;
}

bool copy_string_from_user(char *to, uint64_t from, size_t size)
{
    for (size_t i = 0; i < size; i++) {
        if (!copy_from_user(&to[i], from + i, 1))
            return false;
        if (to[i] == '\0')
            return true;
    }
    return false;
}
