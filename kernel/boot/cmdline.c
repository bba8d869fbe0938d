/* The kernel command line: words separated by spaces, some of them key=value. */
#include <aubade/log.h>
#include <aubade/string.h>

#include "boot/boot.h"

/* Every word the line can hold: each takes a byte and, but the last, a
 * blank after it, so BOOTINFO_CMDLINE_MAX - 1 bytes hold at most this many. */
#define CMDLINE_MAX_WORDS (BOOTINFO_CMDLINE_MAX / 2)

static char text[BOOTINFO_CMDLINE_MAX];
static const char *words[CMDLINE_MAX_WORDS];
static unsigned word_count;

static void cmdline_log(void);

void cmdline_init(void)
{
    const char *cmdline = boot_info->cmdline;
    memcpy(text, cmdline, strnlen(cmdline, sizeof(text) - 1));
    for (char *cursor = text; *cursor;) {
        while (*cursor == ' ' || *cursor == '\t')
            *cursor++ = '\0';
        if (*cursor)
            words[word_count++] = cursor;
        while (*cursor && *cursor != ' ' && *cursor != '\t')
            cursor++;
    }
    cmdline_log();
}

bool cmdline_has(const char *word)
{
    for (unsigned i = 0; i < word_count; i++)
        if (strcmp(words[i], word) == 0)
            return true;
    return false;
}

const char *cmdline_value(const char *key)
{
    size_t key_len = strlen(key);
    for (unsigned i = 0; i < word_count; i++)
        if (strncmp(words[i], key, key_len) == 0 && words[i][key_len] == '=')
            return words[i] + key_len + 1;
    return NULL;
}

static void cmdline_log(void)
{
    /* The contract's lists are comma-separated: the words, joined. One comma
     * stands for one blank or more of the line, so they fit in its size. */
    char joined[BOOTINFO_CMDLINE_MAX];
    size_t len = 0;
    for (unsigned i = 0; i < word_count; i++) {
        if (i)
            joined[len++] = ',';
        size_t word_len = strlen(words[i]);
        memcpy(joined + len, words[i], word_len);
        len += word_len;
    }
    joined[len] = '\0';
    log_event("kernel", "cmdline", "args=%s", joined);
}
