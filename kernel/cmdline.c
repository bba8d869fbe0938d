/* The kernel command line: words separated by spaces, some of them key=value. */
#include <aubade/log.h>
#include <aubade/string.h>

#include "kernel.h"

#define CMDLINE_MAX_WORDS 32

static char text[BOOTINFO_CMDLINE_MAX];
static const char *words[CMDLINE_MAX_WORDS];
static unsigned word_count;

static void cmdline_log(void);

void cmdline_init(void)
{
    const char *cmdline = boot_info->cmdline;
    memcpy(text, cmdline, strnlen(cmdline, sizeof(text) - 1));
    for (char *cursor = text; *cursor && word_count < CMDLINE_MAX_WORDS;) {
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
    /* The contract's lists are comma-separated: the words, joined. */
    char joined[BOOTINFO_CMDLINE_MAX];
    size_t len = 0;
    for (unsigned i = 0; i < word_count; i++) {
        size_t word_len = strlen(words[i]);
        if (len + word_len + 2 > sizeof(joined))
            break;
        if (i)
            joined[len++] = ',';
        memcpy(joined + len, words[i], word_len);
        len += word_len;
    }
    joined[len] = '\0';
    log_event("kernel", "cmdline", "args=%s", joined);
}
