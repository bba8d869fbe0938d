/*
 * The boot console: the UART that /chosen/stdout-path names, with a driver
 * chosen by its `compatible`. Both stages use it; only the mapping differs.
 */
#ifndef AUBADE_CONSOLE_H
#define AUBADE_CONSOLE_H

#include <aubade/fdt.h>
#include <aubade/mmio.h>
#include <aubade/uart.h>
#include <stdbool.h>

struct console_driver;

struct console {
    const struct console_driver *driver;
    struct uart_registers uart;
};

/* Finds and sets up the stdout-path UART. When the device tree names none
 * that a driver here knows, or one whose reg-io-width the drivers cannot
 * honour, the console falls back to SBI's legacy console and this returns
 * false. */
bool console_init(struct console *console, const struct fdt *dt, mmio_mapper map);
void console_use_sbi(struct console *console);
void console_write(const struct console *console, const char *text, size_t len);

#endif
