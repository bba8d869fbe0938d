/*
 * A UART's registers as its device-tree node describes them: where they
 * are, how far apart (reg-shift) and how wide every access must be
 * (reg-io-width). The console's output in both stages and the kernel's
 * console input read a node through this one helper, so they cannot
 * disagree about a board's UART.
 */
#ifndef AUBADE_UART_H
#define AUBADE_UART_H

#include <aubade/fdt.h>
#include <aubade/mmio.h>
#include <stdbool.h>

struct uart_registers {
    uintptr_t base;
    uint32_t reg_shift; /* register n is at base + (n << reg_shift) */
    uint32_t io_width;  /* bytes per access: 1 or 4 */
};

enum uart_setup {
    UART_READY,
    UART_NO_REGISTERS,   /* reg is missing or cannot be mapped */
    UART_UNKNOWN_WIDTH,  /* reg-io-width is neither 1 nor 4 */
};

/* Reads the node's reg, reg-shift and reg-io-width (absent: 0 and 1) and
 * maps its registers. A width other than 1 or 4 is refused before anything
 * is mapped: callers then treat the UART as one they have no driver for. */
enum uart_setup uart_registers_init(struct uart_registers *uart, const struct fdt *dt, int node,
                                    mmio_mapper map);

/* Register n, read or written with an access of the node's width: some
 * UARTs (the DesignWare one on the JH7110) ignore or fault on narrower ones. */
uint8_t uart_read(const struct uart_registers *uart, unsigned reg);
void uart_write(const struct uart_registers *uart, unsigned reg, uint8_t value);

#endif
