/*
 * What the kernel prints, without waiting for the UART. At 115200 baud a
 * byte takes 87 us to leave; a hart that polled the UART for every byte of
 * the log would spend most of the boot doing it. Once every hart takes
 * interrupts, the log's console (log_start.c) hands its bytes to a ring
 * here instead, and the UART's transmit interrupt (16550 and DesignWare:
 * IER.ETBEI, THR empty; SiFive: ie.txwm) drains the ring into the UART's
 * FIFO on the hart console_rx.c routed the interrupt to.
 *
 * Order: the log writes whole lines under its lock, so lines enter the ring
 * whole and in the order they were stamped; the ring is the only way to the
 * UART while it is on, so they leave in that order.
 *
 * Nothing is lost: a writer that finds the ring full writes its oldest
 * bytes out itself, with the UART polled, until its own fit. It never waits
 * for the interrupt: the handler may be routed to this very hart, which
 * holds the log lock with interrupts off.
 *
 * The end: a panic or power-off takes the log over (log_take_over), which
 * flushes the ring here with the UART polled and makes every later write
 * polled: no interrupt is left to finish the report.
 */
#include <aubade/console.h>
#include <aubade/csr.h>
#include <aubade/log.h>
#include <aubade/mmio.h>
#include <aubade/raw_spinlock.h>

#include "debug/debug.h"
#include "dev/dev.h"

/* 16550: interrupt enable 1 (bit 1: transmit holding register empty),
 * interrupt identification 2 (bits 6-7 both set: FIFOs on), line status 5
 * (bit 5: the transmit FIFO is empty, so a FIFO's worth can be written). */
#define NS16550_THR 0
#define NS16550_IER 1
#define NS16550_IER_TX_EMPTY 0x02
#define NS16550_IIR 2
#define NS16550_IIR_FIFOS_ON 0xc0
#define NS16550_LSR 5
#define NS16550_LSR_THR_EMPTY 0x20
/* The 16550A's FIFO; a DesignWare UART with FIFOs has at least this many. */
#define NS16550_FIFO_DEPTH 16

/* SiFive UART: txdata 0x00 (bit 31 read: FIFO full), txctrl 0x08 (bits
 * 16-18: watermark, the interrupt is pending while fewer entries than that
 * wait), ie 0x10 (bit 0: transmit watermark). */
#define SIFIVE_UART_TXDATA 0x00
#define SIFIVE_UART_TXDATA_FULL 0x80000000u
#define SIFIVE_UART_TXCTRL 0x08
#define SIFIVE_UART_TXCTRL_TXCNT_SHIFT 16
#define SIFIVE_UART_TXCTRL_TXCNT_MASK (7u << SIFIVE_UART_TXCTRL_TXCNT_SHIFT)
#define SIFIVE_UART_IE 0x10
#define SIFIVE_UART_IE_TXWM 0x01

/* Several boots' worth of log (a boot prints ~2.5 KiB, a ktest run more):
 * a burst fits whole even when the draining hart is busy for a while. */
#define RING_SIZE 16384

static struct {
    /* Taken with interrupts off, by writers (who hold the log lock) and the
     * handler. Raw, not a kernel spinlock: a panic takes it over. */
    struct raw_spinlock lock;
    char bytes[RING_SIZE];
    uint32_t head, tail; /* free-running: head - tail bytes wait */
    /* Set by the flush at the end: every write is polled from then on. */
    bool polled;
    bool interrupt_on;
    /* The UART as console_rx.c mapped it, for the handler. */
    const struct uart_registers *uart;
    bool sifive;
    unsigned burst; /* bytes a 16550 takes once its THR is empty */
} ring;

static uint32_t waiting(void)
{
    return ring.head - ring.tail;
}

/* A hart that waits here stops if another panics meanwhile (panic.c). */
static void ring_lock(void)
{
    while (!raw_spin_trylock(&ring.lock))
        panic_stop_if_panicking();
}

static void ring_unlock(void)
{
    raw_spin_unlock(&ring.lock);
}

/* Under the ring lock: the UART asks for more while bytes wait, and stops
 * asking once none do (a 16550's THR-empty interrupt stays pending while
 * the FIFO is empty, and would never let the hart go). */
static void transmit_interrupt(bool on)
{
    if (ring.interrupt_on == on)
        return;
    ring.interrupt_on = on;
    if (ring.sifive) {
        uintptr_t ie = ring.uart->base + SIFIVE_UART_IE;
        uint32_t bits = mmio_read32(ie);
        mmio_write32(ie, on ? bits | SIFIVE_UART_IE_TXWM : bits & ~SIFIVE_UART_IE_TXWM);
    } else {
        uint8_t bits = uart_read(ring.uart, NS16550_IER);
        uart_write(ring.uart, NS16550_IER,
                   on ? bits | NS16550_IER_TX_EMPTY : bits & ~NS16550_IER_TX_EMPTY);
    }
}

/* Under the ring lock: how many bytes the UART takes now without waiting. */
static unsigned uart_room(void)
{
    if (ring.sifive)
        return mmio_read32(ring.uart->base + SIFIVE_UART_TXDATA) & SIFIVE_UART_TXDATA_FULL ? 0 : 1;
    return uart_read(ring.uart, NS16550_LSR) & NS16550_LSR_THR_EMPTY ? ring.burst : 0;
}

static void uart_send(char c)
{
    if (ring.sifive)
        mmio_write32(ring.uart->base + SIFIVE_UART_TXDATA, (uint8_t)c);
    else
        uart_write(ring.uart, NS16550_THR, (uint8_t)c);
}

/* Under the ring lock, which it may drop only to stop for another hart's
 * panic: the oldest byte, written polled, to make room. */
static void drain_oldest(const struct console *console)
{
    if (panic_in_progress()) {
        /* The report's hart flushes the ring: let it have the lock. */
        ring_unlock();
        panic_stop_if_panicking();
        ring_lock();
        if (ring.polled || waiting() < RING_SIZE)
            return;
    }
    console_put_polled(console, ring.bytes[ring.tail % RING_SIZE]);
    ring.tail++;
}

static void put(const struct console *console, char c)
{
    while (waiting() == RING_SIZE && !ring.polled)
        drain_oldest(console);
    if (ring.polled)
        console_put_polled(console, c);
    else
        ring.bytes[ring.head++ % RING_SIZE] = c;
}

static void queue_write(const struct console *console, const char *text, size_t len)
{
    if (__atomic_load_n(&ring.polled, __ATOMIC_ACQUIRE)) {
        console_write_polled(console, text, len);
        return;
    }
    ring_lock();
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\n')
            put(console, '\r');
        put(console, text[i]);
    }
    if (!ring.polled && waiting())
        transmit_interrupt(true);
    ring_unlock();
}

static void queue_flush(const struct console *console, uint64_t patience)
{
    uint64_t give_up = read_time() + patience;
    bool locked;
    while (!(locked = raw_spin_trylock(&ring.lock)) && read_time() < give_up)
        ;
    /* Without the lock, the hart that holds it has stopped for good: what
     * it was doing to the ring is as far as it got. */
    transmit_interrupt(false);
    while (waiting()) {
        console_put_polled(console, ring.bytes[ring.tail % RING_SIZE]);
        ring.tail++;
    }
    __atomic_store_n(&ring.polled, true, __ATOMIC_RELEASE);
    if (locked)
        ring_unlock();
}

static const struct console_queue queue = {queue_write, queue_flush};

void console_tx_interrupt(void)
{
    if (ring.uart == NULL)
        return;
    ring_lock();
    for (unsigned room; waiting() && !ring.polled && (room = uart_room()) != 0;)
        for (; room && waiting(); room--)
            uart_send(ring.bytes[ring.tail++ % RING_SIZE]);
    if (!waiting() || ring.polled)
        transmit_interrupt(false);
    ring_unlock();
}

void console_tx_prepare(const struct uart_registers *uart, bool sifive)
{
    ring.uart = uart;
    ring.sifive = sifive;
    if (sifive) {
        /* Pending while the FIFO is empty: refilled a byte's time before
         * the line goes idle. */
        uintptr_t txctrl = uart->base + SIFIVE_UART_TXCTRL;
        mmio_write32(txctrl, (mmio_read32(txctrl) & ~SIFIVE_UART_TXCTRL_TXCNT_MASK) |
                                 1u << SIFIVE_UART_TXCTRL_TXCNT_SHIFT);
    } else {
        /* Without FIFOs (a 16450, or FIFOs the firmware left off) an empty
         * THR takes one byte. */
        bool fifos = (uart_read(uart, NS16550_IIR) & NS16550_IIR_FIFOS_ON) == NS16550_IIR_FIFOS_ON;
        ring.burst = fifos ? NS16550_FIFO_DEPTH : 1;
    }
}

void console_tx_start(void)
{
    /* No UART of ours (SBI's console), or its driver did not bind: the log
     * stays polled. */
    if (ring.uart == NULL || log_on_firmware_console())
        return;
    log_queue_output(&queue);
    log_debug("console", "tx", "ring=%u burst=%u", RING_SIZE, ring.sifive ? 1 : ring.burst);
}
