/*
 * Bringing up the other harts.
 *
 * The kernel starts them, not the loader: the loader's job ends with one
 * mapping and one jump, and only the kernel knows when the others may run
 * (after its global Early work, while it does Main alone). Each hart is
 * started with SBI HSM at secondary_entry (entry.S) with the MMU off; it
 * turns paging on with the page tables the boot hart runs on, takes the
 * stack and TLS block the loader made for it, and does its per-CPU Early
 * work. From then on the harts move through the boot phases together: the
 * boot hart announces a phase (smp_announce), each other hart waits for it
 * (smp_await), does its part and reports (smp_report), and the boot hart
 * waits for every report (smp_await_reports) before it goes on.
 *
 * After Late, a hart can be asked to run a function (smp_call): the request
 * goes in its mailbox and an IPI makes it look.
 */
#include <aubade/csr.h>
#include <aubade/fmt.h>
#include <aubade/log.h>
#include <aubade/sbi.h>
#include <aubade/spinlock.h>

#include "interrupts.h"
#include "kernel.h"

/* A hart that has not said `kernel: early` by then is left out of the boot. */
#define ARRIVAL_TIMEOUT_MS 2000
#define MAX_RESTARTS 3

enum hart_state {
    HART_OFFLINE,
    HART_STARTING, /* hart_start succeeded; not yet in the kernel */
    HART_ARRIVING, /* in the kernel, saying `kernel: early` */
    HART_ONLINE,
};

/* What secondary_entry needs before it can reach anything virtual; read by
 * physical address, so its layout is fixed (entry.S). */
struct secondary_start {
    uint64_t satp;
    uint64_t stack_top;
    uint64_t thread_pointer;
    uint64_t continuation;
};

extern char secondary_entry[], secondary_continue[];

/* A function one hart runs for another (smp_call). */
struct mailbox {
    struct spinlock lock; /* one caller at a time */
    void (*function)(void *argument);
    void *argument;
    uint32_t done;
};

static struct secondary_start start_blocks[BOOTINFO_MAX_HARTS];
static uint32_t restarts[BOOTINFO_MAX_HARTS];
static uint32_t hart_states[BOOTINFO_MAX_HARTS];
static uint32_t announced_phase;
static uint32_t reported_phase[BOOTINFO_MAX_HARTS];
static struct mailbox mailboxes[BOOTINFO_MAX_HARTS];

static uint64_t kernel_phys(const void *virt)
{
    return (uintptr_t)virt - boot_info->kernel_virt.start + boot_info->kernel_phys.start;
}

static uint32_t hart_index(uint64_t hart_id)
{
    return (uint32_t)(percpu_of(hart_id) - boot_info->harts);
}

static enum hart_state state_of(uint32_t index)
{
    return __atomic_load_n(&hart_states[index], __ATOMIC_ACQUIRE);
}

static bool change_state(uint32_t index, enum hart_state from, enum hart_state to)
{
    uint32_t expected = from;
    return __atomic_compare_exchange_n(&hart_states[index], &expected, to, false,
                                       __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

bool smp_is_online(uint64_t hart_id)
{
    return percpu_of(hart_id) && state_of(hart_index(hart_id)) == HART_ONLINE;
}

uint64_t smp_last_secondary(void)
{
    uint64_t chosen = current_hart;
    for (uint32_t i = 0; i < boot_info->hart_count; i++)
        if (state_of(i) == HART_ONLINE && boot_info->harts[i].hart_id != boot_info->boot_hart)
            chosen = boot_info->harts[i].hart_id;
    return chosen;
}

static void start_hart(uint32_t index)
{
    const struct boot_percpu *hart = &boot_info->harts[index];
    start_blocks[index] = (struct secondary_start){
        .satp = csr_read(satp),
        .stack_top = hart->stack.end,
        .thread_pointer = hart->tls,
        .continuation = (uintptr_t)secondary_continue,
    };
    __atomic_store_n(&hart_states[index], HART_STARTING, __ATOMIC_RELEASE);
    log_debug("smp", "start", "hart=%lu entry=0x%lx", hart->hart_id, kernel_phys(secondary_entry));
    long error = sbi_hart_start(hart->hart_id, kernel_phys(secondary_entry),
                                kernel_phys(&start_blocks[index]));
    if (error) {
        __atomic_store_n(&hart_states[index], HART_OFFLINE, __ATOMIC_RELEASE);
        log_event("kernel", "offline", "hart=%lu reason=start-failed error=%ld", hart->hart_id,
                  error);
    }
}

/* A hart started but STOPPED again went to the loader's entry instead of
 * ours and stopped itself there (the firmware race in loader/start.S): it
 * is started again, at most MAX_RESTARTS times. */
static void restart_stopped_harts(void)
{
    for (uint32_t i = 0; i < boot_info->hart_count; i++) {
        uint64_t hart_id = boot_info->harts[i].hart_id;
        if (state_of(i) != HART_STARTING || restarts[i] >= MAX_RESTARTS ||
            sbi_hart_get_status(hart_id) != SBI_HSM_STOPPED)
            continue;
        restarts[i]++;
        log_warn("smp", "restart", "hart=%lu attempt=%u", hart_id, restarts[i]);
        start_hart(i);
    }
}

static bool any_hart_on_its_way(void)
{
    for (uint32_t i = 0; i < boot_info->hart_count; i++)
        if (state_of(i) == HART_STARTING || state_of(i) == HART_ARRIVING)
            return true;
    return false;
}

static void log_online_harts(void)
{
    uint64_t online[BOOTINFO_MAX_HARTS];
    uint32_t count = 0;
    for (uint32_t i = 0; i < boot_info->hart_count; i++)
        if (state_of(i) == HART_ONLINE)
            online[count++] = boot_info->harts[i].hart_id;
    char ids[BOOTINFO_MAX_HARTS * 21];
    fmt_id_list(ids, sizeof(ids), online, count);
    log_event("kernel", "online", "count=%u ids=%s", count, ids);
}

void smp_start_secondaries(void)
{
    hart_states[hart_index(current_hart)] = HART_ONLINE;
    for (uint32_t i = 0; i < boot_info->hart_count; i++)
        if (boot_info->harts[i].hart_id != current_hart)
            start_hart(i);

    /* 1. Wait for every started hart to arrive, or for the deadline. */
    uint64_t deadline = read_time() + timebase_hz * ARRIVAL_TIMEOUT_MS / 1000;
    while (any_hart_on_its_way() && read_time() < deadline)
        restart_stopped_harts();
    /* 2. A hart still not in the kernel is left out, and said so. */
    for (uint32_t i = 0; i < boot_info->hart_count; i++)
        if (change_state(i, HART_STARTING, HART_OFFLINE))
            log_event("kernel", "offline", "hart=%lu reason=timeout", boot_info->harts[i].hart_id);
    while (any_hart_on_its_way())
        ; /* an arriving hart is one log line from online */

    log_online_harts();
    percpu_check_tls();
}

void smp_announce(enum boot_phase phase)
{
    static const char *const names[] = {
        [PHASE_EARLY] = "early", [PHASE_MAIN] = "main", [PHASE_LATE] = "late"};
    log_debug("smp", "phase", "name=%s", names[phase]);
    __atomic_store_n(&reported_phase[hart_index(current_hart)], phase, __ATOMIC_RELEASE);
    __atomic_store_n(&announced_phase, phase, __ATOMIC_RELEASE);
    for (uint32_t i = 0; i < boot_info->hart_count; i++)
        if (state_of(i) == HART_ONLINE && boot_info->harts[i].hart_id != current_hart)
            sbi_send_ipi(boot_info->harts[i].hart_id);
}

void smp_await(enum boot_phase phase)
{
    /* The boot hart's IPI wakes wfi even while interrupts are masked,
     * because SSIE is set in sie; once they are on, software_interrupt()
     * takes it. */
    csr_set(sie, SIE_SSIE);
    while (__atomic_load_n(&announced_phase, __ATOMIC_ACQUIRE) < phase) {
        asm volatile("wfi");
        if (!(csr_read(sstatus) & SSTATUS_SIE))
            csr_clear(sip, SIE_SSIE);
    }
}

void smp_report(enum boot_phase phase)
{
    __atomic_store_n(&reported_phase[hart_index(current_hart)], phase, __ATOMIC_RELEASE);
}

void smp_await_reports(enum boot_phase phase)
{
    for (uint32_t i = 0; i < boot_info->hart_count; i++)
        while (state_of(i) == HART_ONLINE &&
               __atomic_load_n(&reported_phase[i], __ATOMIC_ACQUIRE) < phase)
            ;
}

bool smp_call_start(uint64_t hart_id, void (*function)(void *argument), void *argument)
{
    if (hart_id == current_hart || !smp_is_online(hart_id) ||
        __atomic_load_n(&reported_phase[hart_index(hart_id)], __ATOMIC_ACQUIRE) < PHASE_LATE)
        return false;
    struct mailbox *mailbox = &mailboxes[hart_index(hart_id)];
    spin_lock(&mailbox->lock); /* until smp_call_wait: one caller at a time */
    mailbox->argument = argument;
    __atomic_store_n(&mailbox->done, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&mailbox->function, function, __ATOMIC_RELEASE);
    sbi_send_ipi(hart_id);
    return true;
}

void smp_call_wait(uint64_t hart_id)
{
    struct mailbox *mailbox = &mailboxes[hart_index(hart_id)];
    while (!__atomic_load_n(&mailbox->done, __ATOMIC_ACQUIRE))
        ;
    spin_unlock(&mailbox->lock);
}

bool smp_call(uint64_t hart_id, void (*function)(void *argument), void *argument)
{
    if (hart_id == current_hart) {
        function(argument);
        return true;
    }
    if (!smp_call_start(hart_id, function, argument))
        return false;
    smp_call_wait(hart_id);
    return true;
}

unsigned smp_call_everywhere(void (*function)(void *argument), void *arguments, size_t size,
                             bool ran[BOOTINFO_MAX_HARTS])
{
    uint32_t mine = hart_index(current_hart);
    unsigned count = 1;
    for (uint32_t i = 0; i < boot_info->hart_count; i++) {
        ran[i] = i != mine && smp_call_start(boot_info->harts[i].hart_id, function,
                                             (uint8_t *)arguments + i * size);
        count += ran[i];
    }
    function((uint8_t *)arguments + mine * size);
    ran[mine] = true;
    for (uint32_t i = 0; i < boot_info->hart_count; i++)
        if (ran[i] && i != mine)
            smp_call_wait(boot_info->harts[i].hart_id);
    return count;
}

void software_interrupt(void)
{
    csr_clear(sip, SIE_SSIE);
    struct mailbox *mailbox = &mailboxes[hart_index(current_hart)];
    void (*function)(void *) = __atomic_exchange_n(&mailbox->function, NULL, __ATOMIC_ACQUIRE);
    if (function) {
        function(mailbox->argument);
        __atomic_store_n(&mailbox->done, 1, __ATOMIC_RELEASE);
    }
}

bool smp_arrive(void)
{
    /* Too late: the boot hart has reported this hart offline and gone on. */
    return change_state(hart_index(current_hart), HART_STARTING, HART_ARRIVING);
}

void smp_report_online(void)
{
    __atomic_store_n(&hart_states[hart_index(current_hart)], HART_ONLINE, __ATOMIC_RELEASE);
}
