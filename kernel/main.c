/*
 * Where each hart enters C. What happens next is not written here: every
 * step of startup is an init token declared next to the code it runs (the
 * *.init file of each subsystem's folder), and the build orders them into
 * init_boot_hart() and init_other_hart() (kernel/init.h). `scons listinit`
 * prints that order; kernel/startup.init is the outline:
 *
 *   early      every hart, as it arrives: its identity, CPU state and RNG
 *              stream; on the boot hart also the global Early work
 *   bootstrap  the boot hart alone, while the others wait: it starts them,
 *              then Main (frames, heap, virtual memory, devices)
 *   smp        every hart in step, through barriers: onto the kernel's page
 *              tables, the loader's memory back, Late (traps, timer,
 *              interrupts); then the boot context becomes the hart's idle
 *              task, and the boot hart creates the init task (init_task.c)
 *
 * After its calls each hart runs its scheduler's idle loop: the init task,
 * and everything it starts, runs from there.
 */
#include "boot/boot.h"
#include "init.h"
#include "sched/sched.h"

/* The loader has mapped us, given this hart a stack (sp) and a TLS block
 * (tp), and described the machine in BootInfo. */
noreturn void kernel_main(const struct boot_info *info)
{
    handed_boot_info = info;
    init_boot_hart();
    sched_idle();
}

/* Started by the boot hart (smp.c) on its own stack and TLS block. */
noreturn void secondary_main(void)
{
    init_other_hart();
    sched_idle();
}
