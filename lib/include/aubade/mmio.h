/* Device registers, reached through a mapping that each stage provides. */
#ifndef AUBADE_MMIO_H
#define AUBADE_MMIO_H

#include <stdint.h>

/* Makes `size` bytes of device registers at physical `phys` accessible and
 * returns their address, or 0. The loader (MMU off) returns `phys`; the
 * kernel maps them. */
typedef uintptr_t (*mmio_mapper)(uint64_t phys, uint64_t size);

static inline void mmio_write32(uintptr_t address, uint32_t value)
{
    *(volatile uint32_t *)address = value;
}

static inline uint32_t mmio_read32(uintptr_t address)
{
    return *(volatile uint32_t *)address;
}

static inline void mmio_write8(uintptr_t address, uint8_t value)
{
    *(volatile uint8_t *)address = value;
}

static inline uint8_t mmio_read8(uintptr_t address)
{
    return *(volatile uint8_t *)address;
}

#endif
