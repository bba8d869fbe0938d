/*
 * Bringing up the other harts.
 *
 * The kernel starts them, not the loader: the loader's job ends with one
 * mapping and one jump, and only the kernel knows when the others may run
 * (after its global Early work, while it does Main alone). Each hart is
 * started with SBI HSM at secondary_entry (entry.S) with the MMU off; it
 * turns paging on with the page tables the boot hart runs on, takes the
 * stack and TLS block the loader made for it, and runs its init calls
 * (init_other_hart): its per-CPU Early work, then the SMP group's, where
 * barrier tokens (smp_barrier) keep all harts in step.
 *
 * After Late, a hart can be asked to run a function (smp_call): the request
 * goes on its list of pending calls and an IPI makes it look.
 */
#include <aubade/csr.h>
#include <aubade/fmt.h>
#include <aubade/log.h>
#include <aubade/sbi.h>

#include "boot/boot.h"
#include "debug/debug.h"
#include "sched/sched.h" /* up: an IPI is also the scheduler's wake-up */
#include "smp/smp.h"
#include "trap/trap.h" /* up: defines software_interrupt, which traps call */

/* A hart that has not said `kernel: early` this long after the last hart
 * that did is left out of the boot. */
#define ARRIVAL_TIMEOUT_MS 2000
/* How long the boot hart sleeps at most while it waits for arrivals: a hart
 * may have stopped itself or run out of time, which only a look finds. */
#define ARRIVAL_LOOK_MS 1
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

/* A function one hart runs for another (smp_call): on the caller's stack
 * until done, in the callee's list meanwhile. */
struct call {
    void (*function)(void *argument);
    void *argument;
    uint64_t caller; /* its hart id: an IPI tells it the call is done */
    uint32_t done;
    struct call *next;
};

static struct secondary_start start_blocks[BOOTINFO_MAX_HARTS];
static uint32_t restarts[BOOTINFO_MAX_HARTS];
/* When each parked hart was last sent its IPI (release_from_pen). */
static uint64_t started_at[BOOTINFO_MAX_HARTS];
static uint32_t hart_states[BOOTINFO_MAX_HARTS];
static bool taking_calls[BOOTINFO_MAX_HARTS];
/* Calls waiting for each hart, latest first; any number of callers at once. */
static struct call *pending_calls[BOOTINFO_MAX_HARTS];

/* smp_barrier: harts that have arrived, how many times all did, and the
 * harts asleep until the next time. */
static uint32_t barrier_arrived;
static uint32_t barrier_generation;
static struct sleepers barrier_sleepers;

/* The boot hart, asleep while the others arrive (smp_start_harts). */
static struct sleepers arrival_sleepers;

static uint64_t kernel_phys(const void *virt)
{
    return (uintptr_t)virt - boot_info->kernel_virt.start + boot_info->kernel_phys.start;
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
    return percpu_of(hart_id) && state_of(percpu_index(hart_id)) == HART_ONLINE;
}

uint64_t smp_last_secondary(void)
{
    uint64_t chosen = current_hart;
    for (uint32_t i = 0; i < boot_info->hart_count; i++)
        if (state_of(i) == HART_ONLINE && boot_info->harts[i].hart_id != boot_info->boot_hart)
            chosen = boot_info->harts[i].hart_id;
    return chosen;
}

/* A hart the loader parked (loader/park.c) leaves its pen for the entry
 * its mailbox names once an IPI wakes it. The mailbox is in loader memory,
 * which the kernel reclaims only once every hart has arrived or been left
 * out. */
static void release_from_pen(uint32_t index)
{
    const struct boot_percpu *hart = &boot_info->harts[index];
    struct boot_pen *pen = (struct boot_pen *)(hart->pen + boot_info->direct_map_offset);
    pen->opaque = kernel_phys(&start_blocks[index]);
    __atomic_store_n(&pen->entry, kernel_phys(secondary_entry), __ATOMIC_RELEASE);
    __atomic_thread_fence(__ATOMIC_SEQ_CST); /* the mailbox before the IPI */
    started_at[index] = read_time();
    sbi_send_ipi(hart->hart_id);
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
    log_debug("smp", "start", "hart=%lu entry=0x%lx parked=%u", hart->hart_id,
              kernel_phys(secondary_entry), hart->pen != 0);
    if (hart->pen) {
        release_from_pen(index);
        return;
    }
    long error = sbi_hart_start(hart->hart_id, kernel_phys(secondary_entry),
                                kernel_phys(&start_blocks[index]));
    if (error) {
        __atomic_store_n(&hart_states[index], HART_OFFLINE, __ATOMIC_RELEASE);
        log_event("kernel", "offline", "hart=%lu reason=start-failed error=%ld", hart->hart_id,
                  error);
    }
}

/* Each look of the boot hart's at the harts not yet in the kernel. A
 * started hart that is STOPPED again went to the loader's entry instead of
 * ours and stopped itself there (the firmware race in loader/start.S): it
 * is started again, at most MAX_RESTARTS times. A parked hart still not in
 * the kernel a while after its IPI is sent another, in case the first was
 * lost: a second does no harm to one merely slow. */
#define PEN_WAKE_MS 20

static void look_at_starting_harts(void)
{
    for (uint32_t i = 0; i < boot_info->hart_count; i++) {
        uint64_t hart_id = boot_info->harts[i].hart_id;
        if (state_of(i) != HART_STARTING)
            continue;
        if (boot_info->harts[i].pen) {
            if (read_time() - started_at[i] >= timebase_hz * PEN_WAKE_MS / 1000)
                release_from_pen(i);
        } else if (restarts[i] < MAX_RESTARTS &&
                   sbi_hart_get_status(hart_id) == SBI_HSM_STOPPED) {
            restarts[i]++;
            log_warn("smp", "restart", "hart=%lu attempt=%u", hart_id, restarts[i]);
            start_hart(i);
        }
    }
}

static bool any_hart_on_its_way(void)
{
    for (uint32_t i = 0; i < boot_info->hart_count; i++)
        if (state_of(i) == HART_STARTING || state_of(i) == HART_ARRIVING)
            return true;
    return false;
}

/* Harts in the kernel: arriving or online. */
static uint32_t arrived_count(void)
{
    uint32_t count = 0;
    for (uint32_t i = 0; i < boot_info->hart_count; i++)
        count += state_of(i) == HART_ARRIVING || state_of(i) == HART_ONLINE;
    return count;
}

/* Once, on the boot hart: the lists are static, not 3.7 KiB of its stack
 * at BOOTINFO_MAX_HARTS. */
static void log_online_harts(void)
{
    static uint64_t online[BOOTINFO_MAX_HARTS];
    uint32_t count = 0;
    for (uint32_t i = 0; i < boot_info->hart_count; i++)
        if (state_of(i) == HART_ONLINE)
            online[count++] = boot_info->harts[i].hart_id;
    static char ids[BOOTINFO_MAX_HARTS * 21];
    fmt_id_list(ids, sizeof(ids), online, count);
    log_event("kernel", "online", "count=%u ids=%s", count, ids);
}

/* Every online hart's TLS block holds that hart's own id. */
static void check_tls_blocks(void)
{
    /* The offset of current_hart from tp is the same in every hart's block:
     * each block must hold its own hart's id there. */
    uintptr_t thread_pointer;
    asm("mv %0, tp" : "=r"(thread_pointer));
    uintptr_t offset = (uintptr_t)&current_hart - thread_pointer;
    for (uint32_t i = 0; i < boot_info->hart_count; i++) {
        const struct boot_percpu *hart = &boot_info->harts[i];
        if (!smp_is_online(hart->hart_id))
            continue;
        uint64_t seen = *(const volatile uint64_t *)(hart->tls + offset);
        if (seen != hart->hart_id)
            kernel_panic("percpu-tls", "hart %lu's TLS block says it is hart %lu",
                         hart->hart_id, seen);
    }
}

struct arrival_wait {
    uint32_t arrived;
    uint64_t look_at;
};

static bool arrival_or_look(const void *what)
{
    const struct arrival_wait *wait = what;
    return arrived_count() != wait->arrived || !any_hart_on_its_way() ||
           read_time() >= wait->look_at;
}

/* Until a hart arrives or comes online (its IPI), or the timer says it is
 * time to look again. */
static void sleep_until_arrival(void)
{
    struct arrival_wait wait = {
        .arrived = arrived_count(),
        .look_at = read_time() + timebase_hz * ARRIVAL_LOOK_MS / 1000,
    };
    uint64_t were_enabled = interrupts_disable();
    csr_set(sie, SIE_STIE);
    sbi_set_timer(wait.look_at);
    smp_sleep_until(&arrival_sleepers, arrival_or_look, &wait, were_enabled);
    sbi_set_timer(UINT64_MAX); /* and its interrupt no longer pending */
    csr_clear(sie, SIE_STIE);
    interrupts_restore(were_enabled);
}

void smp_start_harts(void)
{
    for (uint32_t i = 0; i < boot_info->hart_count; i++)
        if (boot_info->harts[i].hart_id != current_hart)
            start_hart(i);

    /* 1. Wait for every started hart to arrive, or for the deadline. The
     *    deadline is for the next arrival, not for them all: 128 vCPUs on a
     *    two-core host come in one by one over seconds, and each arrival
     *    shows the machine is moving. A hart that never comes is still
     *    given up ARRIVAL_TIMEOUT_MS after the last one that did. */
    uint32_t arrived = arrived_count();
    uint64_t deadline = read_time() + timebase_hz * ARRIVAL_TIMEOUT_MS / 1000;
    while (any_hart_on_its_way() && read_time() < deadline) {
        look_at_starting_harts();
        if (arrived_count() != arrived) {
            arrived = arrived_count();
            deadline = read_time() + timebase_hz * ARRIVAL_TIMEOUT_MS / 1000;
        }
        sleep_until_arrival();
    }
    /* 2. A hart still not in the kernel is left out, and said so. */
    for (uint32_t i = 0; i < boot_info->hart_count; i++)
        if (change_state(i, HART_STARTING, HART_OFFLINE))
            log_event("kernel", "offline", "hart=%lu reason=timeout", boot_info->harts[i].hart_id);
    while (any_hart_on_its_way())
        sleep_until_arrival(); /* an arriving hart is one log line from online */

    log_online_harts();
    check_tls_blocks();
}

static uint32_t online_count(void)
{
    uint32_t count = 0;
    for (uint32_t i = 0; i < boot_info->hart_count; i++)
        count += state_of(i) == HART_ONLINE;
    return count;
}

static bool generation_passed(const void *generation)
{
    return __atomic_load_n(&barrier_generation, __ATOMIC_ACQUIRE) != *(const uint32_t *)generation;
}

void smp_barrier(void)
{
    uint32_t generation = __atomic_load_n(&barrier_generation, __ATOMIC_ACQUIRE);
    /* The boot hart arrives at the first barrier only after bootstrap, when
     * no more harts can come online: until then the count cannot be reached. */
    if (__atomic_add_fetch(&barrier_arrived, 1, __ATOMIC_ACQ_REL) == online_count()) {
        __atomic_store_n(&barrier_arrived, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&barrier_generation, generation + 1, __ATOMIC_RELEASE);
        smp_wake_all(&barrier_sleepers);
        return;
    }
    /* Masked, so that no handler can take the IPI between the last look and
     * the wfi. */
    uint64_t were_enabled = interrupts_disable();
    smp_sleep_until(&barrier_sleepers, generation_passed, &generation, were_enabled);
    interrupts_restore(were_enabled);
}

bool smp_takes_calls(void)
{
    return __atomic_load_n(&taking_calls[percpu_index(current_hart)], __ATOMIC_ACQUIRE);
}

void smp_take_calls(void)
{
    csr_set(sie, SIE_SSIE);
    __atomic_store_n(&taking_calls[percpu_index(current_hart)], true, __ATOMIC_RELEASE);
}

/* Runs what other harts asked of this one: from the IPI, and from this
 * hart's own waits for other harts, which run with interrupts off (a hart
 * waiting for a hart that waits for it would wait for ever). */
static void take_calls(void)
{
    panic_stop_if_panicking();
    struct call *call = __atomic_exchange_n(&pending_calls[percpu_index(current_hart)], NULL,
                                            __ATOMIC_ACQUIRE);
    while (call) {
        /* Read first: once done, the call is gone from its caller's stack. */
        struct call *next = call->next;
        uint64_t caller = call->caller;
        call->function(call->argument);
        __atomic_store_n(&call->done, 1, __ATOMIC_RELEASE);
        sbi_send_ipi(caller);
        call = next;
    }
}

/* Interrupts off. Starts the call on another hart; false if that hart is
 * not there, or is this one. */
static bool call_start(uint64_t hart_id, struct call *call)
{
    if (hart_id == current_hart || !smp_is_online(hart_id) ||
        !__atomic_load_n(&taking_calls[percpu_index(hart_id)], __ATOMIC_ACQUIRE))
        return false;
    struct call **list = &pending_calls[percpu_index(hart_id)];
    call->caller = current_hart;
    call->done = 0;
    call->next = __atomic_load_n(list, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(list, &call->next, call, true, __ATOMIC_RELEASE,
                                        __ATOMIC_RELAXED))
        ;
    sbi_send_ipi(hart_id);
    return true;
}

/* Asleep in wfi between looks, so that a host running more harts than it
 * has cores runs the harts doing the work rather than this one's polling:
 * the callee's IPI wakes it when it is done, and so does another caller's.
 * Each look does what the IPI's handler would: interrupts are off here. */
static void call_wait(const struct call *call)
{
    for (;;) {
        software_interrupt();
        if (__atomic_load_n(&call->done, __ATOMIC_ACQUIRE))
            return;
        asm volatile("wfi");
    }
}

/* Both with interrupts off from start to end: the caller stays on the hart
 * it is on, which is the hart the function runs on when it names itself. */
bool smp_call(uint64_t hart_id, void (*function)(void *argument), void *argument)
{
    uint64_t were_enabled = interrupts_disable();
    struct call call = {.function = function, .argument = argument};
    bool ran = true;
    if (hart_id == current_hart)
        function(argument);
    else if ((ran = call_start(hart_id, &call)))
        call_wait(&call);
    interrupts_restore(were_enabled);
    return ran;
}

/* Calls in flight at once from smp_call_everywhere: each waits on the
 * caller's stack, of which a task has 16 KiB, so the harts of a large
 * machine are called in rounds of this many. */
#define CALLS_PER_ROUND 16

unsigned smp_call_everywhere(void (*function)(void *argument), void *arguments, size_t size,
                             bool ran[BOOTINFO_MAX_HARTS])
{
    uint64_t were_enabled = interrupts_disable();
    struct call calls[CALLS_PER_ROUND];
    uint32_t mine = percpu_index(current_hart);
    unsigned count = 1;
    ran[mine] = true;
    for (uint32_t first = 0; first < boot_info->hart_count; first += CALLS_PER_ROUND) {
        uint32_t end = boot_info->hart_count - first < CALLS_PER_ROUND
                           ? boot_info->hart_count
                           : first + CALLS_PER_ROUND;
        for (uint32_t i = first; i < end; i++) {
            if (i == mine)
                continue;
            calls[i - first] = (struct call){.function = function,
                                             .argument = (uint8_t *)arguments + i * size};
            ran[i] = call_start(boot_info->harts[i].hart_id, &calls[i - first]);
            count += ran[i];
        }
        /* This hart's share, while the first round runs theirs. */
        if (first == 0)
            function((uint8_t *)arguments + mine * size);
        for (uint32_t i = first; i < end; i++)
            if (ran[i] && i != mine)
                call_wait(&calls[i - first]);
    }
    interrupts_restore(were_enabled);
    return count;
}

/* The IPI: a panicking hart's call to stop, something queued on this hart
 * (the scheduler's), or a call. */
void software_interrupt(void)
{
    csr_clear(sip, SIE_SSIE);
    sched_ipi();
    take_calls();
}

void smp_hart_arrive(void)
{
    uint32_t index = percpu_index(current_hart);
    if (current_hart == boot_info->boot_hart) {
        hart_states[index] = HART_ONLINE;
        return;
    }
    /* Too late: the boot hart has reported this hart offline and gone on,
     * and the loader's page tables this hart runs on are about to be
     * reclaimed. Back to the firmware. */
    if (!change_state(index, HART_STARTING, HART_ARRIVING)) {
        sbi_hart_stop();
        for (;;)
            asm volatile("wfi");
    }
    smp_wake_all(&arrival_sleepers);
}

void smp_hart_online(void)
{
    log_event("kernel", "early", "hart=%lu", current_hart);
    change_state(percpu_index(current_hart), HART_ARRIVING, HART_ONLINE);
    smp_wake_all(&arrival_sleepers);
}
