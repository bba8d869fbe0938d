/*
 * The faults of the shell's `fault` command (fault.h). Each must really
 * happen at run time: the compiler is kept from proving them undefined and
 * replacing them with something else.
 */
#include "fault.h"

#include <aubade/string.h>
#include <aubade/syscall.h>
#include <stdint.h>

#include "print.h"
#include "syscall.h"

/* A load from address 0, which no program maps. The address goes through
 * an empty asm so that the compiler cannot see that it is null (it would
 * put a trap instruction there instead of the load). */
static int null_load(void)
{
    uintptr_t address = 0;
    asm volatile("" : "+r"(address));
    return *(volatile int *)address;
}

static int illegal_instruction(void)
{
    asm volatile("unimp");
    return 1;
}

/* A system call handed a kernel address: the kernel must refuse it with
 * -SYS_EFAULT, not read its own memory, and the program goes on. */
static int kernel_address(void)
{
    const uintptr_t kernel = 0xffffffc000000000ul;
    long result = sys_write((const char *)kernel, 16);
    print("write(0x%lx) = %ld\n", kernel, result);
    return result == -SYS_EFAULT ? 0 : 1;
}

/* Every frame holds a kilobyte that is written, and the call is not the
 * last thing the function does, so each call takes stack until the guard
 * page below the stack stops it. The depth test never holds; it only keeps
 * the compiler from calling the recursion endless (-Winfinite-recursion). */
static unsigned long recurse(unsigned long depth)
{
    volatile char frame[1024];
    frame[depth % sizeof(frame)] = (char)depth;
    if (depth == UINT64_MAX)
        return 0;
    return recurse(depth + 1) + frame[0];
}

static int stack_overflow(void)
{
    return (int)recurse(0);
}

static const struct {
    const char *kind;
    int (*run)(void);
} faults[] = {
    {"null", null_load},
    {"illegal", illegal_instruction},
    {"kaddr", kernel_address},
    {"stack", stack_overflow},
};

#define FAULT_COUNT (sizeof(faults) / sizeof(faults[0]))

/* The index of `kind` in faults[], or FAULT_COUNT. */
static size_t find(const char *kind)
{
    size_t i = 0;
    while (i < FAULT_COUNT && strcmp(faults[i].kind, kind) != 0)
        i++;
    return i;
}

bool fault_known(const char *kind)
{
    return find(kind) < FAULT_COUNT;
}

int fault_run(const char *kind)
{
    size_t i = find(kind);
    if (i < FAULT_COUNT)
        return faults[i].run();
    print("fault: unknown kind %s\n", kind);
    return 2;
}

const char *fault_kinds(void)
{
    static char kinds[64];
    if (kinds[0] == '\0') {
        size_t len = 0;
        for (size_t i = 0; i < FAULT_COUNT; i++) {
            size_t name = strlen(faults[i].kind);
            if (i > 0)
                kinds[len++] = '|';
            memcpy(kinds + len, faults[i].kind, name);
            len += name;
        }
    }
    return kinds;
}
