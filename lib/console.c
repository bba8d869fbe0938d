/* Console drivers, matched against the stdout-path node's `compatible`. */
#include <aubade/console.h>
#include <aubade/sbi.h>

struct console_driver {
    const char *compatible;
    void (*put)(const struct console *console, char c);
};

/* 16550: transmit holding register 0, line status register 5, whose bit 5
 * says the transmitter can take a byte. Firmware already set the baud rate.
 * The DesignWare APB UART is one, with 32-bit registers (reg-io-width 4). */
#define NS16550_THR 0
#define NS16550_LSR 5
#define NS16550_LSR_THR_EMPTY 0x20

static void ns16550_put(const struct console *console, char c)
{
    while (!(uart_read(&console->uart, NS16550_LSR) & NS16550_LSR_THR_EMPTY))
        ;
    uart_write(&console->uart, NS16550_THR, (uint8_t)c);
}

/* SiFive UART: txdata at 0; reading bit 31 set means the FIFO is full. */
#define SIFIVE_UART_TXDATA 0
#define SIFIVE_UART_TXDATA_FULL 0x80000000u

static void sifive_uart_put(const struct console *console, char c)
{
    uintptr_t txdata = console->uart.base + SIFIVE_UART_TXDATA;
    while (mmio_read32(txdata) & SIFIVE_UART_TXDATA_FULL)
        ;
    mmio_write32(txdata, (uint8_t)c);
}

static void sbi_put(const struct console *console, char c)
{
    (void)console;
    sbi_console_putchar(c);
}

static const struct console_driver drivers[] = {
    {"ns16550a", ns16550_put},
    {"ns16550", ns16550_put},
    {"snps,dw-apb-uart", ns16550_put},
    {"sifive,uart0", sifive_uart_put},
};

static const struct console_driver sbi_driver = {"sbi", sbi_put};

void console_use_sbi(struct console *console)
{
    *console = (struct console){.driver = &sbi_driver};
}

/* The driver here for the node stdout-path names (an absolute path or an
 * alias, with or without UART options after a ':'), which *node is set to. */
static const struct console_driver *find_driver(const struct fdt *dt, int *node)
{
    const char *path = fdt_prop_string(dt, fdt_find(dt, "/chosen"), "stdout-path");
    *node = path ? fdt_find(dt, path) : FDT_ERR_NOT_FOUND;
    if (*node < 0)
        return NULL;
    for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
        if (fdt_is_compatible(dt, *node, drivers[i].compatible))
            return &drivers[i];
    return NULL;
}

const char *console_find(const struct fdt *dt, int *node)
{
    const struct console_driver *driver = find_driver(dt, node);
    return driver ? driver->compatible : NULL;
}

bool console_init(struct console *console, const struct fdt *dt, mmio_mapper map)
{
    console_use_sbi(console);

    int node;
    const struct console_driver *driver = find_driver(dt, &node);
    struct uart_registers uart;
    if (driver == NULL || uart_registers_init(&uart, dt, node, map) != UART_READY)
        return false;
    *console = (struct console){.driver = driver, .uart = uart};
    return true;
}

void console_put_polled(const struct console *console, char c)
{
    console->driver->put(console, c);
}

void console_write_polled(const struct console *console, const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\n')
            console->driver->put(console, '\r');
        console->driver->put(console, text[i]);
    }
}

void console_write(const struct console *console, const char *text, size_t len)
{
    if (console->queue)
        console->queue->write(console, text, len);
    else
        console_write_polled(console, text, len);
}

void console_flush(const struct console *console, uint64_t patience)
{
    if (console->queue)
        console->queue->flush(console, patience);
}
