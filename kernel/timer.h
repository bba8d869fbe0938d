/* The per-hart tick (timer.c). */
#ifndef TIMER_H
#define TIMER_H

#include <stdbool.h>
#include <stdint.h>

/* Late, per CPU: the first deadline set and the timer interrupt on. */
void timer_start_hart(void);

/* Ticks this hart has taken since its timer started. */
uint64_t timer_ticks(void);
/* The time CSR's value when this hart's timer started: its k-th tick comes
 * at started + k periods, or later (never earlier). */
uint64_t timer_started(void);
/* Ticks a second, the same on every hart. */
uint32_t timer_tick_hz(void);
/* Whether this hart sets its deadlines in stimecmp (Sstc) rather than by SBI. */
bool timer_uses_sstc(void);
/* The same as a word for the log: "sstc" or "sbi". */
const char *timer_kind(void);
/* The time-CSR value of this hart's next tick, as last programmed. */
uint64_t timer_deadline(void);
/* Whether this hart lets S-mode write stimecmp: tried, under a trap handler
 * of its own, since a hart whose ISA names Sstc may still refuse it. */
bool timer_stimecmp_works(void);

#endif
