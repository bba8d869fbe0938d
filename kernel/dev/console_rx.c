/*
 * What is typed on the console. The early console (lib/console.c) only
 * writes; this driver of the same UARTs takes the node stdout-path names,
 * turns its receive interrupt on, routes it to the boot hart (or, if its
 * interrupt controller cannot reach that one, another hart) and, in the
 * handler, drains the UART's receive FIFO into a ring buffer that
 * console_read() empties. Other UARTs of the same kind are left alone.
 * The UART has one interrupt for both ways: the handler also gives the
 * transmit ring (console_tx.c) its turn.
 */
#include <aubade/csr.h>
#include <aubade/log.h>
#include <aubade/mmio.h>
#include <aubade/uart.h>

#include "debug/debug.h"
#include "dev/dev.h"
#include "mm/mm.h"
#include "sched/sched.h"
#include "smp/smp.h"

/* 16550 (and the DesignWare APB UART, one with 32-bit registers): receive
 * buffer 0, interrupt enable 1 (bit 0: received data available), line
 * status 5 (bit 0: data ready). */
#define NS16550_RBR 0
#define NS16550_IER 1
#define NS16550_IER_RX_AVAILABLE 0x01
#define NS16550_LSR 5
#define NS16550_LSR_DATA_READY 0x01

/* SiFive UART: rxdata 0x04 (bit 31: FIFO was empty), rxctrl 0x0c (bit 0:
 * receiver on; bits 16-18: watermark, the interrupt is pending while more
 * entries than that wait), ie 0x10 (bit 1: receive watermark). */
#define SIFIVE_UART_RXDATA 0x04
#define SIFIVE_UART_RXDATA_EMPTY 0x80000000u
#define SIFIVE_UART_RXCTRL 0x0c
#define SIFIVE_UART_RXCTRL_ENABLE 0x01
#define SIFIVE_UART_IE 0x10
#define SIFIVE_UART_IE_RXWM 0x02

/* Room for what a person or a test types while the reader is busy. */
#define RING_SIZE 1024

struct uart {
    struct uart_registers registers;
    /* The next received byte, or -1 once the FIFO is empty. */
    int (*receive)(const struct uart *uart);
};

static struct uart console_uart;

/* Written by the interrupt handler on the boot hart, read by anyone. */
static struct {
    struct spinlock lock;
    char bytes[RING_SIZE];
    uint32_t head, tail; /* free-running: head - tail bytes wait */
} ring = {.lock = SPINLOCK_INIT("console-input")};

/* Tasks waiting for a byte to read. */
static struct wait_queue input_arrived = WAIT_QUEUE_INIT("console-waiters");

static int ns16550_receive(const struct uart *uart)
{
    if (!(uart_read(&uart->registers, NS16550_LSR) & NS16550_LSR_DATA_READY))
        return -1;
    return uart_read(&uart->registers, NS16550_RBR);
}

static int sifive_uart_receive(const struct uart *uart)
{
    uint32_t data = mmio_read32(uart->registers.base + SIFIVE_UART_RXDATA);
    return data & SIFIVE_UART_RXDATA_EMPTY ? -1 : (int)(data & 0xff);
}

static void receive_interrupt(void *context)
{
    const struct uart *uart = context;
    unsigned count = 0, dropped = 0;
    spin_lock(&ring.lock);
    for (int byte; (byte = uart->receive(uart)) >= 0; count++) {
        if (ring.head - ring.tail == RING_SIZE)
            dropped++; /* nobody reads: the newest bytes are lost */
        else
            ring.bytes[ring.head++ % RING_SIZE] = (char)byte;
    }
    spin_unlock(&ring.lock);
    /* Nothing, when an earlier interrupt's drain took this one's bytes. */
    if (count) {
        wait_queue_wake(&input_arrived);
        log_debug("console", "rx", "bytes=%u dropped=%u", count, dropped);
    }
    console_tx_interrupt();
}

size_t console_read(char *buffer, size_t size)
{
    uint64_t were_enabled = spin_lock_irqsave(&ring.lock);
    size_t count = 0;
    for (; count < size && ring.tail != ring.head; count++)
        buffer[count] = ring.bytes[ring.tail++ % RING_SIZE];
    spin_unlock_irqrestore(&ring.lock, were_enabled);
    return count;
}

static bool input_waiting(void *unused)
{
    (void)unused;
    return __atomic_load_n(&ring.head, __ATOMIC_ACQUIRE) !=
           __atomic_load_n(&ring.tail, __ATOMIC_ACQUIRE);
}

void console_wait_for_input(void)
{
    wait_until(&input_arrived, input_waiting, NULL);
}

static bool is_stdout(const struct fdt *dt, int node)
{
    const char *path = fdt_prop_string(dt, fdt_find(dt, "/chosen"), "stdout-path");
    return path && fdt_find(dt, path) == node;
}

static enum probe_result console_probe(const struct fdt *dt, int node)
{
    if (!is_stdout(dt, node))
        return PROBE_IGNORED;
    switch (uart_registers_init(&console_uart.registers, dt, node, device_map)) {
    case UART_READY:
        break;
    case UART_NO_REGISTERS:
        kernel_panic("dtb-console", "%s: reg is missing or cannot be mapped", fdt_name(dt, node));
    case UART_UNKNOWN_WIDTH:
        /* As for a UART without a driver: output went to SBI's console
         * (lib/console.c refused it too), and nothing typed arrives. */
        log_warn("console", "rx-unsupported", "node=%s reason=reg-io-width", fdt_name(dt, node));
        return PROBE_IGNORED;
    }
    bool sifive = fdt_is_compatible(dt, node, "sifive,uart0");
    console_uart.receive = sifive ? sifive_uart_receive : ns16550_receive;

    /* Its first interrupt, whatever controller the tree sends it to, to the
     * boot hart where that controller reaches it. */
    if (irq_register(dt, node, 0, IRQ_ANY_HART, receive_interrupt, &console_uart) ==
        IRQ_NO_CONTROLLER)
        return PROBE_DEFER;
    console_tx_prepare(&console_uart.registers, sifive);
    if (sifive) {
        mmio_write32(console_uart.registers.base + SIFIVE_UART_RXCTRL, SIFIVE_UART_RXCTRL_ENABLE);
        mmio_write32(console_uart.registers.base + SIFIVE_UART_IE, SIFIVE_UART_IE_RXWM);
    } else {
        uart_write(&console_uart.registers, NS16550_IER, NS16550_IER_RX_AVAILABLE);
    }
    return PROBE_BOUND;
}

DRIVER(console, console_probe, "ns16550a", "ns16550", "snps,dw-apb-uart", "sifive,uart0");
