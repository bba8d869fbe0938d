/*
 * The other harts, parked where they cost nothing until the kernel wants
 * them.
 *
 * Firmware holds the harts it did not boot on in a wait loop until someone
 * starts them, and that loop is not always asleep: under QEMU 7.2 with its
 * OpenSBI v1.1 every hart waiting there runs as a busy host thread (a
 * payload that spins 2 s on one hart of -smp 8 costs 4 s of host CPU; one
 * whose other harts sleep in wfi in S-mode, 2 s). Wherever harts outnumber
 * host CPUs they take CPU time from the hart doing the work: the loader and
 * the kernel's Early phase ran several times slower at -smp 8, and worse
 * with more. Stopping them again does not help: they go back to the same
 * loop.
 *
 * So, as soon as it knows the harts, the loader starts each of the others
 * at its own entry, where start.S puts it in the pen: asleep in wfi until
 * an IPI, then, once its mailbox (struct boot_pen, in BootInfo's per-hart
 * entry) names an entry point, off to it as if SBI HSM had started it
 * there. The kernel starts a parked hart by filling its mailbox and sending
 * the IPI (kernel/smp/smp.c). A hart the firmware cannot start here stays
 * the firmware's, and the kernel starts it with SBI HSM, as before.
 */
#include <aubade/csr.h>
#include <aubade/log.h>
#include <aubade/sbi.h>

#include "loader.h"

extern char _start[];

/* Read by the pen in start.S, by index: the a1 each parked hart was started
 * with is PEN_OPAQUE_TAG | its index in machine->harts (and in BootInfo's
 * list, which follows the same order). The tag tells a parked hart from
 * one the kernel started that read a stale start address (start.S). */
struct boot_pen pen_mailboxes[BOOTINFO_MAX_HARTS];
#define PEN_OPAQUE_TAG 0x70656e0000000000ul /* "pen" above an index */
_Static_assert(sizeof(struct boot_pen) == 16, "start.S indexes the mailboxes by << 4");

/* Harts in the pen: each adds one as it goes in. */
uint32_t pen_entered;

/* How long the loader waits at most for the harts it started to be in the
 * pen: one that comes later still finds its mailbox there. */
#define PEN_TIMEOUT_MS 1000
/* How often it looks, asleep in between on SBI's timer (the TIME
 * extension, which every SBI implementation has): a waiting hart that spins
 * takes the host CPU the harts it waits for need (at -smp 8 on 2 host CPUs
 * the pen filled in 18 ms rather than 23, docs/benchmarks.md). */
#define PEN_LOOK_US 100

static bool parked[BOOTINFO_MAX_HARTS];

/* The loader's own work waits until the harts it started are in the pen:
 * until then each still spins in the firmware, and the loader would run
 * at a fraction of a host CPU. */
static uint32_t wait_until_in_pen(uint32_t count, uint64_t timebase_hz)
{
    uint64_t now = read_time(), give_up = now + timebase_hz * PEN_TIMEOUT_MS / 1000;
    uint64_t look = timebase_hz * PEN_LOOK_US / 1000000;
    uint32_t entered;
    csr_set(sie, SIE_STIE);
    while ((entered = __atomic_load_n(&pen_entered, __ATOMIC_ACQUIRE)) < count &&
           (now = read_time()) < give_up) {
        sbi_set_timer(now + look);
        asm volatile("wfi");
    }
    sbi_set_timer(UINT64_MAX);
    csr_clear(sie, SIE_STIE);
    return entered;
}

void park_other_harts(const struct machine *machine)
{
    uint32_t count = 0, others = 0;
    uint64_t start = read_time();
    for (uint32_t i = 0; i < machine->hart_count; i++) {
        if (machine->harts[i] == machine->boot_hart)
            continue;
        others++;
        parked[i] = sbi_hart_start(machine->harts[i], (uintptr_t)_start, PEN_OPAQUE_TAG | i) == 0;
        count += parked[i];
    }
    if (others == 0)
        return;
    uint32_t entered = wait_until_in_pen(count, machine->timebase_hz);
    log_event("loader", "parked", "harts=%u of=%u in_pen=%u us=%lu", count, others, entered,
              (read_time() - start) * 1000000 / machine->timebase_hz);
}

uint64_t pen_of(uint32_t index)
{
    return parked[index] ? (uintptr_t)&pen_mailboxes[index] : 0;
}
