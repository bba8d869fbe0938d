/* Console drivers, matched against the stdout-path node's `compatible`. */
#include <aubade/console.h>
#include <aubade/sbi.h>

struct console_driver {
    const char *compatible;
    void (*put)(const struct console *console, char c);
};

/* 16550: transmit holding register 0, line status register 5, whose bit 5
 * says the transmitter can take a byte. Firmware already set the baud rate. */
#define NS16550_THR 0
#define NS16550_LSR 5
#define NS16550_LSR_THR_EMPTY 0x20

static void ns16550_put(const struct console *console, char c)
{
    uintptr_t lsr = console->registers + (NS16550_LSR << console->reg_shift);
    while (!(mmio_read8(lsr) & NS16550_LSR_THR_EMPTY))
        ;
    mmio_write8(console->registers + (NS16550_THR << console->reg_shift), (uint8_t)c);
}

/* SiFive UART: txdata at 0; reading bit 31 set means the FIFO is full. */
#define SIFIVE_UART_TXDATA 0
#define SIFIVE_UART_TXDATA_FULL 0x80000000u

static void sifive_uart_put(const struct console *console, char c)
{
    uintptr_t txdata = console->registers + SIFIVE_UART_TXDATA;
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
    {"sifive,uart0", sifive_uart_put},
};

static const struct console_driver sbi_driver = {"sbi", sbi_put};

void console_use_sbi(struct console *console)
{
    *console = (struct console){.driver = &sbi_driver};
}

bool console_init(struct console *console, const struct fdt *dt, mmio_mapper map)
{
    console_use_sbi(console);

    const char *path = fdt_prop_string(dt, fdt_find(dt, "/chosen"), "stdout-path");
    int node = path ? fdt_find(dt, path) : FDT_ERR_NOT_FOUND;
    uint64_t base, size, reg_shift = 0;
    if (node < 0 || !fdt_reg(dt, node, 0, &base, &size))
        return false;
    fdt_prop_u64(dt, node, "reg-shift", &reg_shift);

    for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++) {
        if (!fdt_is_compatible(dt, node, drivers[i].compatible))
            continue;
        uintptr_t registers = map(base, size);
        if (registers == 0)
            return false;
        *console = (struct console){
            .driver = &drivers[i],
            .registers = registers,
            .reg_shift = (uint32_t)reg_shift,
        };
        return true;
    }
    return false;
}

void console_write(const struct console *console, const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\n')
            console->driver->put(console, '\r');
        console->driver->put(console, text[i]);
    }
}
