/* printf-style formatting: see <aubade/fmt.h>. */
#include <aubade/fmt.h>
#include <stdbool.h>
#include <stdint.h>

struct spec {
    bool left_align;
    char pad;
    unsigned width;
};

static void emit_padded(fmt_sink sink, void *context, const struct spec *spec,
                        const char *text, size_t len)
{
    size_t padding = spec->width > len ? spec->width - len : 0;
    if (!spec->left_align)
        while (padding--)
            sink(context, spec->pad);
    for (size_t i = 0; i < len; i++)
        sink(context, text[i]);
    if (spec->left_align)
        while (padding--)
            sink(context, ' ');
}

static void emit_number(fmt_sink sink, void *context, const struct spec *spec,
                        uint64_t value, unsigned base, bool negative)
{
    char digits[24];
    size_t at = sizeof(digits);
    do {
        digits[--at] = "0123456789abcdef"[value % base];
        value /= base;
    } while (value);
    if (negative) {
        /* Zero padding goes between the sign and the digits. */
        if (spec->pad == '0' && spec->width) {
            sink(context, '-');
            struct spec rest = *spec;
            rest.width--;
            emit_padded(sink, context, &rest, digits + at, sizeof(digits) - at);
            return;
        }
        digits[--at] = '-';
    }
    emit_padded(sink, context, spec, digits + at, sizeof(digits) - at);
}

void fmt_vformat(fmt_sink sink, void *context, const char *format, va_list args)
{
    for (const char *f = format; *f; f++) {
        if (*f != '%') {
            sink(context, *f);
            continue;
        }
        struct spec spec = {.pad = ' '};
        for (f++; *f == '-' || *f == '0'; f++) {
            if (*f == '-')
                spec.left_align = true;
            else
                spec.pad = '0';
        }
        for (; *f >= '0' && *f <= '9'; f++)
            spec.width = spec.width * 10 + (unsigned)(*f - '0');
        int longs = 0;
        for (; *f == 'l' || *f == 'z'; f++)
            longs++;

        switch (*f) {
        case 'd': {
            int64_t value = longs ? va_arg(args, long) : va_arg(args, int);
            uint64_t magnitude = value < 0 ? -(uint64_t)value : (uint64_t)value;
            emit_number(sink, context, &spec, magnitude, 10, value < 0);
            break;
        }
        case 'u':
        case 'x': {
            uint64_t value = longs ? va_arg(args, unsigned long) : va_arg(args, unsigned);
            emit_number(sink, context, &spec, value, *f == 'x' ? 16 : 10, false);
            break;
        }
        case 'p':
            sink(context, '0');
            sink(context, 'x');
            emit_number(sink, context, &spec, (uintptr_t)va_arg(args, void *), 16, false);
            break;
        case 's': {
            const char *text = va_arg(args, const char *);
            if (text == NULL)
                text = "(null)";
            size_t len = 0;
            while (text[len])
                len++;
            emit_padded(sink, context, &spec, text, len);
            break;
        }
        case 'c': {
            char c = (char)va_arg(args, int);
            emit_padded(sink, context, &spec, &c, 1);
            break;
        }
        case '%':
            sink(context, '%');
            break;
        default:
            /* An unknown conversion is shown, not silently dropped. */
            sink(context, '%');
            if (*f == '\0')
                return;
            sink(context, *f);
        }
    }
}

struct buffer {
    char *data;
    size_t size;
    size_t len;
};

static void buffer_sink(void *context, char c)
{
    struct buffer *buffer = context;
    if (buffer->len + 1 < buffer->size)
        buffer->data[buffer->len] = c;
    buffer->len++;
}

size_t fmt_vsnprintf(char *data, size_t size, const char *format, va_list args)
{
    struct buffer buffer = {.data = data, .size = size};
    fmt_vformat(buffer_sink, &buffer, format, args);
    if (size)
        data[buffer.len < size ? buffer.len : size - 1] = '\0';
    return buffer.len;
}

size_t fmt_snprintf(char *data, size_t size, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    size_t len = fmt_vsnprintf(data, size, format, args);
    va_end(args);
    return len;
}

size_t fmt_id_list(char *data, size_t size, const uint64_t *ids, uint32_t count)
{
    size_t len = 0;
    if (size)
        data[0] = '\0';
    for (uint32_t i = 0; i < count && len < size; i++)
        len += fmt_snprintf(data + len, size - len, i ? ",%lu" : "%lu", ids[i]);
    return len;
}
