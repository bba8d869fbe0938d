#include <aubade/uart.h>

enum uart_setup uart_registers_init(struct uart_registers *uart, const struct fdt *dt, int node,
                                    mmio_mapper map)
{
    uint64_t base, size, reg_shift = 0, io_width = 1;
    fdt_prop_u64(dt, node, "reg-io-width", &io_width);
    if (io_width != 1 && io_width != 4)
        return UART_UNKNOWN_WIDTH;
    if (!fdt_reg(dt, node, 0, &base, &size))
        return UART_NO_REGISTERS;
    uintptr_t registers = map(base, size);
    if (registers == 0)
        return UART_NO_REGISTERS;
    fdt_prop_u64(dt, node, "reg-shift", &reg_shift);
    *uart = (struct uart_registers){
        .base = registers,
        .reg_shift = (uint32_t)reg_shift,
        .io_width = (uint32_t)io_width,
    };
    return UART_READY;
}

uint8_t uart_read(const struct uart_registers *uart, unsigned reg)
{
    uintptr_t address = uart->base + ((uintptr_t)reg << uart->reg_shift);
    return uart->io_width == 4 ? (uint8_t)mmio_read32(address) : mmio_read8(address);
}

void uart_write(const struct uart_registers *uart, unsigned reg, uint8_t value)
{
    uintptr_t address = uart->base + ((uintptr_t)reg << uart->reg_shift);
    if (uart->io_width == 4)
        mmio_write32(address, value);
    else
        mmio_write8(address, value);
}
