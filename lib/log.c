#include <aubade/csr.h>
#include <aubade/fmt.h>
#include <aubade/log.h>
#include <aubade/raw_spinlock.h>
#include <aubade/string.h>

static struct console fallback_console;
static const struct console *log_console;
static uint64_t log_timebase_hz;
static enum log_level log_threshold = LOG_INFO;
static uint64_t (*log_current_cpu)(void);

/* What no hart that knows itself is (log_current_cpu() before a hart does):
 * a free lock's holder. */
#define NO_CPU UINT64_MAX

/* Held for a whole line, from reading the clock to the last byte: lines of
 * several harts never interleave, and their timestamps never go backwards. */
static struct raw_spinlock log_lock;
/* Whether a panic report took the log over, and which hart (its
 * log_current_cpu()) holds the lock or took it over: once taken over, only
 * that hart prints, and without the lock, which it never gives back. */
static bool taken_over;
static uint64_t owner;
static uint64_t holder = NO_CPU;
static const struct log_waiting *waiting;

static uint64_t this_cpu(void)
{
    return log_current_cpu ? log_current_cpu() : 0;
}

static bool mine(void)
{
    return __atomic_load_n(&taken_over, __ATOMIC_ACQUIRE) && owner == this_cpu();
}

/* Interrupt handlers log too: the lock is held with interrupts off, or a
 * handler on the hart that holds it would wait for itself. */
static uint64_t log_lock_take(void)
{
    uint64_t were_enabled = interrupts_disable();
    while (!raw_spin_trylock(&log_lock)) {
        if (mine())
            return were_enabled;
        if (waiting)
            waiting->wait(&log_lock, were_enabled);
    }
    if (__atomic_load_n(&taken_over, __ATOMIC_ACQUIRE) && !mine())
        for (;;) /* the report goes on alone; the machine ends with it */
            asm volatile("wfi");
    __atomic_store_n(&holder, this_cpu(), __ATOMIC_RELAXED);
    return were_enabled;
}

static void log_lock_give(uint64_t were_enabled)
{
    if (!mine()) {
        __atomic_store_n(&holder, NO_CPU, __ATOMIC_RELAXED);
        raw_spin_unlock(&log_lock);
        if (waiting)
            waiting->released();
    }
    interrupts_restore(were_enabled);
}

void log_init(const struct console *console, uint64_t timebase_hz)
{
    log_console = console;
    log_timebase_hz = timebase_hz;
}

void log_set_level(enum log_level level)
{
    log_threshold = level;
}

bool log_level_parse(const char *name, enum log_level *level)
{
    static const char *const names[] = {
        [LOG_ERROR] = "error",
        [LOG_WARN] = "warn",
        [LOG_INFO] = "info",
        [LOG_DEBUG] = "debug",
    };
    for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(name, names[i]) == 0) {
            *level = (enum log_level)i;
            return true;
        }
    }
    return false;
}

void log_set_cpu(uint64_t (*current_cpu)(void))
{
    log_current_cpu = current_cpu;
}

void log_wait_with(const struct log_waiting *how)
{
    waiting = how;
}

/* Whether the last byte written did not end a line: a program's output
 * (log_write) need not. */
static bool mid_line;

void log_take_over(uint64_t patience)
{
    uint64_t give_up = read_time() + patience;
    /* Held by this hart already: the panic came from inside a log call. */
    bool taken = this_cpu() != NO_CPU && __atomic_load_n(&holder, __ATOMIC_RELAXED) == this_cpu();
    while (!taken && !(taken = raw_spin_trylock(&log_lock)) && read_time() < give_up)
        ;
    owner = this_cpu();
    __atomic_store_n(&taken_over, true, __ATOMIC_RELEASE);
    /* A line another hart was writing when it stopped ends here, unfinished. */
    if (!taken)
        mid_line = true;
    /* What the console still holds goes out first, in order, with the UART
     * polled: the report that follows, and the power-off after it, must not
     * wait for an interrupt that may never come. */
    if (log_console)
        console_flush(log_console, patience);
}

/* Text is gathered into whole lines before it reaches the console. A line
 * longer than the buffer (`kernel: cmdline` lists up to 511 bytes of words)
 * goes out in pieces, every one of them under the log lock, so it still
 * reaches the console whole: nothing can come between the pieces, and no
 * line end is added. That keeps this buffer, on the stack of every log
 * call (a panic's on the 4 KiB emergency stack too), at 256 bytes rather
 * than sized for the longest line. */
struct line {
    char text[256];
    size_t len;
};

/* The last bytes the log wrote, for a debugger to read (tools/gdb's
 * aubade-log): the console keeps no copy. Written under the log lock;
 * `log_history_written` counts every byte ever written, so once it passes
 * the size the oldest byte still here is at written % size. */
static char log_history[4096] __attribute__((used));
static uint64_t log_history_written __attribute__((used));

static void line_flush(struct line *line)
{
    if (log_console == NULL) {
        console_use_sbi(&fallback_console);
        log_console = &fallback_console;
    }
    for (size_t i = 0; i < line->len; i++)
        log_history[log_history_written++ % sizeof(log_history)] = line->text[i];
    console_write(log_console, line->text, line->len);
    mid_line = line->text[line->len - 1] != '\n';
    line->len = 0;
}

static void line_sink(void *context, char c)
{
    struct line *line = context;
    line->text[line->len++] = c;
    if (c == '\n' || line->len == sizeof(line->text))
        line_flush(line);
}

static void line_format(struct line *line, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    fmt_vformat(line_sink, line, format, args);
    va_end(args);
}

static void log_vline(const char *component, const char *event, const char *fields,
                      va_list args)
{
    struct line line = {.len = 0};
    uint64_t were_enabled = log_lock_take();
    /* An event starts a line of its own, even after a shell's prompt. */
    if (mid_line)
        line_sink(&line, '\n');
    uint64_t ticks = read_time();
    uint64_t seconds = 0, micros = 0;
    if (log_timebase_hz) {
        seconds = ticks / log_timebase_hz;
        micros = ticks % log_timebase_hz * 1000000 / log_timebase_hz;
    }
    line_format(&line, "[%5lu.%06lu] %s: %s", seconds, micros, component, event);
    if (fields[0]) {
        line_sink(&line, ' ');
        fmt_vformat(line_sink, &line, fields, args);
    }
    if (log_current_cpu)
        line_format(&line, " cpu=%lu", log_current_cpu());
    line_sink(&line, '\n');
    log_lock_give(were_enabled);
}

void log_event(const char *component, const char *event, const char *fields, ...)
{
    va_list args;
    va_start(args, fields);
    log_vline(component, event, fields, args);
    va_end(args);
}

void log_trace(enum log_level level, const char *component, const char *event,
               const char *fields, ...)
{
    if (level > log_threshold)
        return;
    va_list args;
    va_start(args, fields);
    log_vline(component, event, fields, args);
    va_end(args);
}

void log_vdetail(const char *format, va_list args)
{
    struct line line = {.len = 0};
    uint64_t were_enabled = log_lock_take();
    line_format(&line, "  ");
    fmt_vformat(line_sink, &line, format, args);
    line_sink(&line, '\n');
    log_lock_give(were_enabled);
}

void log_write(const char *text, size_t length)
{
    struct line line = {.len = 0};
    uint64_t were_enabled = log_lock_take();
    for (size_t i = 0; i < length; i++)
        line_sink(&line, text[i]);
    if (line.len)
        line_flush(&line);
    log_lock_give(were_enabled);
}

void log_text(const char *format, ...)
{
    struct line line = {.len = 0};
    uint64_t were_enabled = log_lock_take();
    va_list args;
    va_start(args, format);
    fmt_vformat(line_sink, &line, format, args);
    va_end(args);
    if (line.len)
        line_flush(&line);
    log_lock_give(were_enabled);
}
