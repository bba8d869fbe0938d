/*
 * Processes: PID 1, which the init task turns into, and the processes it
 * spawns. Each runs the user program the loader carried (user_image.c) in an
 * address space of its own:
 *
 *   lower half   the program's PT_LOAD segments at their addresses, with
 *                exactly their permissions; its stack, USER_STACK_SIZE below
 *                USER_STACK_TOP, with an unmapped guard page below it; the
 *                argument string at the top of the stack. Every page is U.
 *   upper half   the kernel's root entries, copied: the same tables as the
 *                kernel's, none of whose pages is U, so U-mode cannot touch
 *                them, and S-mode cannot touch user pages unless it sets
 *                SUM (only usercopy.c does).
 *
 * A process ends when it calls exit or when it takes an exception: then its
 * memory goes back and its parent can collect the status with wait. When
 * PID 1 ends, the machine powers off.
 */
#include <aubade/csr.h>
#include <aubade/log.h>
#include <aubade/string.h>

#include "boot/boot.h"
#include "debug/debug.h"
#include "mm/mm.h"
#include "proc/proc.h"
#include "sched/sched.h"
#include "smp/smp.h"
#include "trap/trap.h"

#define ROOT_KERNEL_FIRST (SV39_ENTRIES / 2) /* the root entries of the upper half */
#define USER_STACK_TOP 0x3ffffff000ul /* the last page of the lower half stays unmapped */
#define USER_STACK_SIZE (64ul * 1024)
#define USER_STACK_GUARD (USER_STACK_TOP - USER_STACK_SIZE - SV39_PAGE_SIZE)

_Static_assert(USER_STACK_GUARD >= ELF_USER_END, "the stack is above any program");

/* The list and the pids. */
static struct spinlock processes_lock = SPINLOCK_INIT("processes");
static struct process *processes;
static uint64_t next_pid = 1;
/* Woken whenever a process ends: its parent may be waiting. */
static struct wait_queue process_ended = WAIT_QUEUE_INIT("process-ended");

static uint64_t *root_of(const struct sv39 *tables)
{
    return phys_to_virt(tables->root);
}

/* The kernel's half as the kernel's root has it now. */
static void copy_kernel_half(struct process *process)
{
    const uint64_t *kernel = root_of(vm_kernel_tables());
    uint64_t *mine = root_of(&process->tables);
    memcpy(mine + ROOT_KERNEL_FIRST, kernel + ROOT_KERNEL_FIRST,
           (SV39_ENTRIES - ROOT_KERNEL_FIRST) * sizeof(uint64_t));
}

bool process_sync_kernel_half(uintptr_t address)
{
    struct task *task = task_current();
    if (address < KERNEL_HALF || task == NULL || task->process == NULL)
        return false;
    unsigned index = (unsigned)((address >> 30) & (SV39_ENTRIES - 1));
    const uint64_t *kernel = root_of(vm_kernel_tables());
    uint64_t *mine = root_of(&task->process->tables);
    if (mine[index] == kernel[index])
        return false;
    copy_kernel_half(task->process);
    asm volatile("sfence.vma" ::: "memory");
    return true;
}

/* Building and tearing down an address space. */

/* `size` bytes of zeroed frames mapped at virt with `permissions` and U,
 * remembered for freeing; a pointer to them in the direct map, or NULL. */
static uint8_t *map_user(struct process *process, uint64_t virt, uint64_t size,
                         unsigned permissions)
{
    if (process->region_count == PROCESS_MAX_REGIONS)
        return NULL;
    uint64_t phys = frames_alloc(size, SV39_PAGE_SIZE);
    if (phys == 0)
        return NULL;
    uint8_t *memory = phys_to_virt(phys);
    memset(memory, 0, size);
    if (sv39_map(&process->tables, virt, phys, size, permissions | PTE_U) != SV39_OK) {
        frames_free(phys, size);
        return NULL;
    }
    process->regions[process->region_count++] = (struct process_region){phys, size};
    return memory;
}

static unsigned segment_permissions(uint32_t flags)
{
    return (flags & PF_R ? PTE_R : 0) | (flags & PF_W ? PTE_W : 0) | (flags & PF_X ? PTE_X : 0);
}

/* The program's segments, then the stack with the argument at its top;
 * *sp and *argument are what the program starts with. */
static bool load_program(struct process *process, uint64_t *sp, uint64_t *argument)
{
    const struct elf_image *program = user_image();
    for (uint32_t i = 0; i < program->segment_count; i++) {
        const struct elf_segment *segment = &program->segments[i];
        uint64_t start = segment->vaddr & ~(SV39_PAGE_SIZE - 1);
        uint64_t end = (segment->vaddr + segment->memsz + SV39_PAGE_SIZE - 1) &
                       ~(SV39_PAGE_SIZE - 1);
        uint8_t *memory = map_user(process, start, end - start,
                                   segment_permissions(segment->flags));
        if (memory == NULL)
            return false;
        memcpy(memory + (segment->vaddr - start), program->file + segment->offset,
               segment->filesz);
    }
    uint8_t *stack = map_user(process, USER_STACK_TOP - USER_STACK_SIZE, USER_STACK_SIZE,
                              PTE_R | PTE_W);
    if (stack == NULL)
        return false;
    size_t length = strlen(process->argument) + 1;
    uint64_t copy = (USER_STACK_TOP - length) & ~15ul;
    memcpy(stack + USER_STACK_SIZE - (USER_STACK_TOP - copy), process->argument, length);
    *argument = copy;
    *sp = copy;
    return true;
}

/* Frees the lower half's tables below `table`, at `level` (2: the root). */
static void free_tables(uint64_t table, int level, unsigned first, unsigned end)
{
    uint64_t *entries = phys_to_virt(table);
    for (unsigned i = first; i < end; i++) {
        bool points_to_table = (entries[i] & PTE_V) && !(entries[i] & (PTE_R | PTE_W | PTE_X));
        if (points_to_table && level > 0)
            free_tables((entries[i] >> 10) << 12, level - 1, 0, SV39_ENTRIES);
    }
    if (level < 2)
        frames_free(table, SV39_PAGE_SIZE);
}

static void free_address_space(struct process *process)
{
    for (uint32_t i = 0; i < process->region_count; i++)
        frames_free(process->regions[i].phys, process->regions[i].size);
    process->region_count = 0;
    /* The upper half's tables are the kernel's: only the lower half's go. */
    free_tables(process->tables.root, 2, 0, ROOT_KERNEL_FIRST);
    frames_free(process->tables.root, SV39_PAGE_SIZE);
}

/* Creating and ending processes. */

static struct process *process_create(const char *argument, uint64_t parent, uint64_t *sp,
                                      uint64_t *user_argument)
{
    struct process *process = kzalloc(sizeof(*process));
    if (process == NULL)
        return NULL;
    strlcpy(process->argument, argument, sizeof(process->argument));
    process->parent = parent;
    if (!vm_tables_create(&process->tables)) {
        kfree(process);
        return NULL;
    }
    copy_kernel_half(process);
    if (!load_program(process, sp, user_argument)) {
        free_address_space(process);
        kfree(process);
        return NULL;
    }
    uint64_t were_enabled = spin_lock_irqsave(&processes_lock);
    process->pid = next_pid++;
    process->next = processes;
    processes = process;
    spin_unlock_irqrestore(&processes_lock, were_enabled);
    return process;
}

/* The first return to U-mode: a frame at the top of the task's kernel
 * stack, which the task's kernel code never uses (task.c). */
static noreturn void enter_user(struct process *process, uint64_t sp, uint64_t argument)
{
    struct task *task = task_current();
    log_event("proc", "start", "pid=%lu parent=%lu entry=0x%lx sp=0x%lx", process->pid,
              process->parent, user_image()->entry, sp);
    struct trap_frame *frame = (struct trap_frame *)(task->stack_top - TRAP_FRAME_SIZE);
    memset(frame, 0, sizeof(*frame));
    frame->sepc = user_image()->entry;
    frame->x[2] = sp;
    frame->x[10] = argument;
    /* U-mode (SPP clear) with interrupts on (SPIE), no FPU, no SUM. */
    frame->sstatus = (csr_read(sstatus) & ~(SSTATUS_SPP | SSTATUS_SIE | SSTATUS_SUM |
                                             SSTATUS_FS)) | SSTATUS_SPIE;
    interrupts_disable();
    task->process = process;
    task->tables = &process->tables;
    vm_activate(task->tables);
    process_arm_user_entry();
    user_enter(frame);
}

noreturn void process_become_init(void)
{
    uint64_t sp, argument;
    struct process *process = process_create("", 0, &sp, &argument);
    if (process == NULL)
        kernel_panic("no-memory", "no memory for PID 1's address space");
    struct task *task = task_current();
    process->task = task;
    if (process->pid != INIT_PID)
        kernel_panic("init-pid", "the init task became pid %lu", process->pid);
    task->pinned = false; /* a process may run on any hart */
    enter_user(process, sp, argument);
}

struct spawned {
    struct process *process;
    uint64_t sp, argument;
};

static void spawned_task(void *argument)
{
    struct spawned start = *(struct spawned *)argument;
    kfree(argument);
    enter_user(start.process, start.sp, start.argument);
}

int64_t process_spawn(const char *argument)
{
    struct spawned *start = kmalloc(sizeof(*start));
    if (start == NULL)
        return -SYS_ENOMEM;
    uint64_t parent = task_current()->process->pid;
    start->process = process_create(argument, parent, &start->sp, &start->argument);
    if (start->process == NULL) {
        kfree(start);
        return -SYS_ENOMEM;
    }
    /* The task's name is the program's first word: what `tasks` shows. */
    char name[SYS_NAME_SIZE];
    size_t length = 0;
    while (argument[length] && argument[length] != ' ' && length < sizeof(name) - 1)
        length++;
    memcpy(name, argument, length);
    name[length] = '\0';
    struct process *process = start->process;
    struct task *task = task_create(length ? name : "user", spawned_task, start);
    if (task == NULL) {
        /* Never started: nobody will wait for it. */
        process->ended = true;
        process_release(process);
        kfree(start);
        return -SYS_ENOMEM;
    }
    process->task = task;
    uint64_t pid = process->pid;
    task_start(task);
    return (int64_t)pid;
}

void process_arm_user_entry(void)
{
    struct task *task = task_current();
    uintptr_t thread_pointer;
    asm("mv %0, tp" : "=r"(thread_pointer));
    task->user_entry.kernel_sp = task->stack_top;
    task->user_entry.kernel_tp = thread_pointer;
    csr_write(sscratch, (uintptr_t)&task->user_entry);
}

static struct process *find(uint64_t pid)
{
    for (struct process *process = processes; process; process = process->next)
        if (process->pid == pid)
            return process;
    return NULL;
}

/* Removes an ended process from the list and frees it. */
void process_release(struct process *process)
{
    uint64_t were_enabled = spin_lock_irqsave(&processes_lock);
    for (struct process **link = &processes; *link; link = &(*link)->next) {
        if (*link == process) {
            *link = process->next;
            break;
        }
    }
    spin_unlock_irqrestore(&processes_lock, were_enabled);
    if (process->region_count || process->tables.root) {
        free_address_space(process);
        process->tables.root = 0;
    }
    kfree(process);
}

noreturn void process_exit(uint32_t status)
{
    struct task *task = task_current();
    struct process *process = task->process;
    if (status & SYS_WAIT_KILLED)
        log_event("proc", "exit", "pid=%lu killed=%u", process->pid, status & 0xff);
    else
        log_event("proc", "exit", "pid=%lu code=%u", process->pid, status);
    if (process->pid == INIT_PID) {
        if (status == 0)
            kernel_poweroff();
        kernel_poweroff_failed("init-exited");
    }
    /* Off its tables before they go. */
    interrupts_disable();
    task->process = NULL;
    task->tables = NULL;
    vm_activate(NULL);
    interrupts_restore(SSTATUS_SIE);
    free_address_space(process);
    process->tables.root = 0;

    uint64_t were_enabled = spin_lock_irqsave(&processes_lock);
    const struct process *parent = find(process->parent);
    bool orphan = parent == NULL || parent->ended;
    process->status = status;
    __atomic_store_n(&process->ended, true, __ATOMIC_RELEASE);
    spin_unlock_irqrestore(&processes_lock, were_enabled);
    if (orphan)
        process_release(process); /* nobody can wait for it */
    else
        wait_queue_wake(&process_ended);
    task_exit();
}

struct waited {
    struct process *child;
};

static bool child_ended(void *argument)
{
    const struct waited *waited = argument;
    return __atomic_load_n(&waited->child->ended, __ATOMIC_ACQUIRE);
}

int64_t process_wait(uint64_t pid)
{
    uint64_t me = task_current()->process->pid;
    uint64_t were_enabled = spin_lock_irqsave(&processes_lock);
    struct waited waited = {find(pid)};
    spin_unlock_irqrestore(&processes_lock, were_enabled);
    if (waited.child == NULL)
        return -SYS_ESRCH;
    if (waited.child->parent != me)
        return -SYS_ECHILD;
    /* Only its parent frees it, and the parent is here: it stays. */
    wait_until(&process_ended, child_ended, &waited);
    uint32_t status = waited.child->status;
    process_release(waited.child);
    return status;
}

uint64_t process_pid(void)
{
    return task_current()->process->pid;
}

const struct sv39 *process_tables(void)
{
    return &task_current()->process->tables;
}

bool process_in_guard(uintptr_t address)
{
    return address >= USER_STACK_GUARD && address < USER_STACK_GUARD + SV39_PAGE_SIZE;
}
