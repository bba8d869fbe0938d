/* Calls into the SBI firmware (OpenSBI) below us. */
#ifndef AUBADE_SBI_H
#define AUBADE_SBI_H

#include <stdbool.h>
#include <stdint.h>

struct sbi_result {
    long error;
    long value;
};

struct sbi_result sbi_call(uint64_t extension, uint64_t function, uint64_t arg0, uint64_t arg1,
                           uint64_t arg2);

/* The legacy console: slow, but there before any driver is, and it needs no
 * device tree. Used only when the device tree names no usable console. */
void sbi_console_putchar(char c);

enum sbi_reset_reason {
    SBI_RESET_REASON_NONE = 0,
    SBI_RESET_REASON_FAILURE = 1,
};

/* Hart State Management: starts `hart_id` at physical `start` in S-mode
 * with the MMU off, a0 = hart id, a1 = opaque. Returns an SBI error code. */
long sbi_hart_start(uint64_t hart_id, uint64_t start, uint64_t opaque);

/* HSM's view of a hart: SBI_HSM_STOPPED, ..., or a negative SBI error. */
enum sbi_hsm_state {
    SBI_HSM_STARTED = 0,
    SBI_HSM_STOPPED = 1,
    SBI_HSM_START_PENDING = 2,
};
long sbi_hart_get_status(uint64_t hart_id);

/* Hands this hart back to the firmware, stopped; returns only on failure. */
void sbi_hart_stop(void);

/* Raises a supervisor software interrupt on one hart. */
void sbi_send_ipi(uint64_t hart_id);

/* TIME extension: a supervisor timer interrupt once the `time` CSR reaches
 * `deadline`; clears the one pending. For harts without Sstc's stimecmp. */
void sbi_set_timer(uint64_t deadline);

/* Whether the firmware has the System Reset extension (SBI 0.3 and later). */
bool sbi_has_system_reset(void);
/* System Reset, shutdown type: returns only if it failed, with SBI's error
 * (SBI_ERR_NOT_SUPPORTED, -2, where firmware has no device that shuts
 * this machine down). */
long sbi_system_shutdown(enum sbi_reset_reason reason);
/* The legacy shutdown of firmware older than SBI 0.3: returns only if it failed. */
void sbi_legacy_shutdown(void);
/* An SBI error code as a word for the log: "not-supported", "failed", ... */
const char *sbi_error_name(long error);

#endif
