/*
 * The tick: a supervisor timer interrupt on every hart, tick_hz times a
 * second (100 unless `tick_hz=` says otherwise), counted per hart.
 *
 * A hart's timer is part of the hart, so the driver probes cpu nodes: a
 * hart whose ISA has Sstc sets its own deadline in the stimecmp CSR; any
 * other asks firmware with SBI set_timer, an ecall per tick. The ISA in the
 * tree is a claim, not a guarantee: firmware must also let S-mode at
 * stimecmp (menvcfg.STCE), and OpenSBI 1.1 on QEMU's spike does not. So
 * each hart, as it starts its tick, tries the CSR (timer_stimecmp_works)
 * and falls back to SBI if it is refused. `kernel: late` says which
 * each hart uses (`timer=sstc` or `timer=sbi`). Deadlines are
 * multiples of the period from the first, never "now + period", so a late
 * interrupt costs no tick: the next one comes at once to catch up.
 */
#include <aubade/cpus.h>
#include <aubade/csr.h>
#include <aubade/log.h>
#include <aubade/sbi.h>
#include <aubade/string.h>

#include "boot/boot.h"
#include "debug/debug.h"
#include "dev/dev.h" /* up: the timer is a driver of the cpu nodes */
#include "sched/sched.h" /* up: the tick drives the scheduler */
#include "trap/trap.h"

#define DEFAULT_TICK_HZ 100
#define MAX_TICK_HZ 10000
#define US_PER_SECOND 1000000

struct hart_timer {
    bool found;       /* its cpu node was probed */
    bool sstc_listed; /* the node's ISA names Sstc */
    bool sstc;        /* and the hart lets S-mode write stimecmp: it is used */
};

static uint32_t tick_hz;
static uint64_t tick_period; /* in time-CSR units */
static struct hart_timer timers[BOOTINFO_MAX_HARTS];
/* This hart's: the tick k comes at started + k periods, or later. */
static _Thread_local uint64_t ticks, started, deadline;

/* The tick is the machine's, not a hart's: set once, from the command line. */
static void choose_tick(void)
{
    const char *value = cmdline_value("tick_hz");
    uint64_t hz = value ? 0 : DEFAULT_TICK_HZ;
    for (const char *digit = value; digit && *digit && hz <= MAX_TICK_HZ; digit++)
        hz = *digit >= '0' && *digit <= '9' ? hz * 10 + (uint64_t)(*digit - '0') : UINT64_MAX;
    if (hz == 0 || hz > MAX_TICK_HZ || hz > timebase_hz)
        kernel_panic("bad-cmdline", "tick_hz=%s: use a number of ticks a second, 1-%d", value,
                     MAX_TICK_HZ);
    tick_hz = (uint32_t)hz;
    tick_period = timebase_hz / hz;
}

static enum probe_result timer_probe(const struct fdt *dt, int node)
{
    uint64_t hart_id;
    if (!fdt_prop_u64(dt, node, "reg", &hart_id))
        kernel_panic("dtb-cpu", "%s: reg (the hart id) is missing", fdt_name(dt, node));
    const struct boot_percpu *hart = percpu_of(hart_id);
    if (hart == NULL)
        return PROBE_IGNORED; /* a hart the kernel does not run on */
    if (tick_period == 0)
        choose_tick();
    timers[hart - boot_info->harts] =
        (struct hart_timer){.found = true, .sstc_listed = cpus_hart_has_extension(dt, node, "sstc")};
    return PROBE_BOUND;
}

DRIVER(timer, timer_probe, "riscv");

static struct hart_timer *this_timer(void)
{
    return &timers[this_percpu - boot_info->harts];
}

static void program(uint64_t when)
{
    if (this_timer()->sstc)
        csr_write(stimecmp, when);
    else
        sbi_set_timer(when);
}

bool timer_stimecmp_works(void)
{
    /* The CSR is read and written back unchanged, under a trap handler of
     * its own that only steps past them: stvec is the instruction after,
     * where `works` is still 0 if either trapped. With interrupts off no
     * other trap can come meanwhile. What the trap changes besides (sepc,
     * scause, stval, sstatus.SPP and SPIE) no one reads: a caller inside a
     * trap handler gets sepc and sstatus back from its frame. */
    uint64_t were_enabled = interrupts_disable();
    uint64_t saved_stvec = csr_read(stvec);
    uint64_t works, scratch;
    asm volatile("la    %[scratch], 1f\n"
                 "csrw  stvec, %[scratch]\n"
                 "li    %[works], 0\n"
                 "csrr  %[scratch], stimecmp\n"
                 "csrw  stimecmp, %[scratch]\n"
                 "li    %[works], 1\n"
                 ".balign 4\n" /* stvec's base: its two low bits are the mode */
                 "1:\n"
                 : [works] "=&r"(works), [scratch] "=&r"(scratch)
                 :
                 : "memory");
    csr_write(stvec, saved_stvec);
    interrupts_restore(were_enabled);
    return works != 0;
}

void timer_start_hart(void)
{
    struct hart_timer *timer = this_timer();
    if (!timer->found)
        kernel_panic("no-timer", "hart %lu: no cpu node in the device tree gave its timer",
                     current_hart);
    timer->sstc = timer->sstc_listed && timer_stimecmp_works();
    if (timer->sstc_listed && !timer->sstc)
        log_info("timer", "refused", "hart=%lu extension=sstc fallback=sbi", current_hart);
    started = read_time();
    deadline = started + tick_period;
    program(deadline);
    csr_set(sie, SIE_STIE);
    log_debug("timer", "start", "hz=%u period=%lu kind=%s", tick_hz, tick_period,
              timer_kind());
}

void timer_interrupt(uintptr_t interrupted_pc)
{
    __atomic_store_n(&ticks, ticks + 1, __ATOMIC_RELAXED);
    deadline += tick_period;
    program(deadline);
    lockup_tick(interrupted_pc);
    sched_tick();
}

uint64_t timer_ticks(void)
{
    return __atomic_load_n(&ticks, __ATOMIC_RELAXED);
}

uint64_t timer_started(void)
{
    return started;
}

uint32_t timer_tick_hz(void)
{
    return tick_hz;
}

bool timer_uses_sstc(void)
{
    return this_timer()->sstc;
}

const char *timer_kind(void)
{
    return timer_uses_sstc() ? "sstc" : "sbi";
}

uint64_t timer_deadline(void)
{
    return deadline;
}
