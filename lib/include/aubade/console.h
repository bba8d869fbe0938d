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
struct console;

/* A way to hand a console's output to someone else instead of waiting for
 * the UART: the kernel's transmit ring (kernel/dev/console_tx.c), drained
 * by the UART's interrupt. The loader never has one, so it writes polled. */
struct console_queue {
    /* Takes `len` bytes, after everything taken before; the caller holds
     * the log lock with interrupts off. */
    void (*write)(const struct console *console, const char *text, size_t len);
    /* Writes out everything queued with the UART polled, and from then on
     * writes polled: the machine is about to stop, and no interrupt may be
     * left to finish the job. Waits at most `patience` (time-CSR units) for
     * a hart that holds the queue. */
    void (*flush)(const struct console *console, uint64_t patience);
};

struct console {
    const struct console_driver *driver;
    struct uart_registers uart;
    const struct console_queue *queue; /* NULL: every write waits for the UART */
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
/* Through the console's queue if it has one, else polled. A '\n' goes out
 * as "\r\n" either way. */
void console_write(const struct console *console, const char *text, size_t len);
/* Waits for the UART, whatever the queue: for the queue itself. */
void console_write_polled(const struct console *console, const char *text, size_t len);
/* One byte as it is, waiting until the UART takes it. */
void console_put_polled(const struct console *console, char c);
/* Everything queued written out, and polled from now on (see
 * console_queue.flush); nothing to do without a queue. */
void console_flush(const struct console *console, uint64_t patience);

#endif
