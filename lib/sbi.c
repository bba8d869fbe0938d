#include <aubade/sbi.h>

#define SBI_EXT_LEGACY_CONSOLE_PUTCHAR 0x01
#define SBI_EXT_LEGACY_SHUTDOWN 0x08
#define SBI_EXT_SYSTEM_RESET 0x53525354 /* "SRST" */
#define SBI_EXT_HART_STATE 0x48534d      /* "HSM" */
#define SBI_EXT_IPI 0x735049             /* "sPI" */
#define SBI_EXT_TIME 0x54494d45          /* "TIME" */
#define SBI_RESET_TYPE_SHUTDOWN 0

#define SBI_EXT_BASE 0x10
#define SBI_BASE_PROBE_EXTENSION 3

struct sbi_result sbi_call(uint64_t extension, uint64_t function, uint64_t arg0, uint64_t arg1,
                           uint64_t arg2)
{
    register uint64_t a0 asm("a0") = arg0;
    register uint64_t a1 asm("a1") = arg1;
    register uint64_t a2 asm("a2") = arg2;
    register uint64_t a6 asm("a6") = function;
    register uint64_t a7 asm("a7") = extension;
    asm volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a2), "r"(a6), "r"(a7) : "memory");
    return (struct sbi_result){.error = (long)a0, .value = (long)a1};
}

void sbi_console_putchar(char c)
{
    sbi_call(SBI_EXT_LEGACY_CONSOLE_PUTCHAR, 0, (uint8_t)c, 0, 0);
}

long sbi_hart_start(uint64_t hart_id, uint64_t start, uint64_t opaque)
{
    return sbi_call(SBI_EXT_HART_STATE, 0, hart_id, start, opaque).error;
}

long sbi_hart_get_status(uint64_t hart_id)
{
    struct sbi_result result = sbi_call(SBI_EXT_HART_STATE, 2, hart_id, 0, 0);
    return result.error ? result.error : result.value;
}

void sbi_hart_stop(void)
{
    sbi_call(SBI_EXT_HART_STATE, 1, 0, 0, 0);
}

void sbi_send_ipi(uint64_t hart_id)
{
    /* A hart mask of one bit, based at the hart itself. */
    sbi_call(SBI_EXT_IPI, 0, 1, hart_id, 0);
}

void sbi_set_timer(uint64_t deadline)
{
    sbi_call(SBI_EXT_TIME, 0, deadline, 0, 0);
}

bool sbi_has_system_reset(void)
{
    struct sbi_result result = sbi_call(SBI_EXT_BASE, SBI_BASE_PROBE_EXTENSION,
                                        SBI_EXT_SYSTEM_RESET, 0, 0);
    return result.error == 0 && result.value != 0;
}

long sbi_system_shutdown(enum sbi_reset_reason reason)
{
    return sbi_call(SBI_EXT_SYSTEM_RESET, 0, SBI_RESET_TYPE_SHUTDOWN, reason, 0).error;
}

void sbi_legacy_shutdown(void)
{
    sbi_call(SBI_EXT_LEGACY_SHUTDOWN, 0, 0, 0, 0);
}

const char *sbi_error_name(long error)
{
    static const char *const names[] = {
        "none",          "failed",          "not-supported",     "invalid-param",
        "denied",        "invalid-address", "already-available", "already-started",
        "already-stopped",
    };
    return error <= 0 && -error < (long)(sizeof(names) / sizeof(names[0])) ? names[-error]
                                                                            : "unknown-error";
}
