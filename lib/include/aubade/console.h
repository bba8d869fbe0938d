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
/* What console_init() chooses, without mapping anything: the compatible
 * string of the driver here that takes the stdout-path node, or NULL when
 * no driver does. *node is that node, or negative when stdout-path is
 * absent or names no node. tools/boardcheck asks this on the host. */
const char *console_find(const struct fdt *dt, int *node);
void console_use_sbi(struct console *console);
void console_write(const struct console *console, const char *text, size_t len);

#endif
