/*
 * Per-hart state: C thread-local variables, one copy per hart in the TLS
 * block the loader set up, reached through tp.
 */
#include <aubade/log.h>

#include "boot/boot.h"
#include "debug/debug.h"
#include "trap/trap.h" /* up: the floor leaves room for a trap frame */

/* Starts as HART_UNKNOWN in the TLS template (.tdata): seeing that value in
 * percpu_init() proves the loader copied the template into this block. */
#define HART_UNKNOWN UINT64_MAX
_Thread_local uint64_t current_hart = HART_UNKNOWN;
_Thread_local const struct boot_percpu *this_percpu;

/* Read by trap_entry: a trap whose sp is below this has overflowed its
 * stack and is handled on trap_stack instead. This hart's boot stack until
 * the scheduler switches to a task. */
_Thread_local uint64_t trap_stack_floor;
_Thread_local uint8_t trap_stack[TRAP_STACK_SIZE] __attribute__((aligned(16)));

const struct boot_percpu *percpu_of(uint64_t hart_id)
{
    for (uint32_t i = 0; i < boot_info->hart_count; i++)
        if (boot_info->harts[i].hart_id == hart_id)
            return &boot_info->harts[i];
    return NULL;
}

uint32_t percpu_index(uint64_t hart_id)
{
    return (uint32_t)(percpu_of(hart_id) - boot_info->harts);
}

/* A hart knows itself by its TLS block: each hart's tp points at the one
 * BootInfo lists for it. */
void percpu_init(void)
{
    uintptr_t thread_pointer;
    asm("mv %0, tp" : "=r"(thread_pointer));
    for (uint32_t i = 0; i < boot_info->hart_count; i++)
        if (boot_info->harts[i].tls == thread_pointer)
            this_percpu = &boot_info->harts[i];
    if (this_percpu == NULL)
        kernel_panic("percpu-missing", "BootInfo has no hart whose TLS block is at 0x%lx",
                     thread_pointer);
    if (current_hart != HART_UNKNOWN)
        kernel_panic("tls-template", "hart %lu's TLS block is not a copy of the template",
                     this_percpu->hart_id);
    current_hart = this_percpu->hart_id;
    trap_stack_floor = this_percpu->stack.start + TRAP_FRAME_SIZE;
}
