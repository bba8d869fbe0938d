/*
 * Faults on purpose, for the tests of how the kernel ends a process that
 * misbehaves: run in a child that the shell's `fault` command spawns, so
 * that PID 1 reports how the child ended.
 */
#ifndef USER_FAULT_H
#define USER_FAULT_H

#include <stdbool.h>

/* "null", "illegal", "kaddr", "stack". */
bool fault_known(const char *kind);
/* Commits the fault. Returns an exit code only for a fault the kernel must
 * refuse rather than kill for (kaddr): 0 if it refused as it should. */
int fault_run(const char *kind);
/* "null|illegal|kaddr|stack", for a usage line. */
const char *fault_kinds(void);

#endif
