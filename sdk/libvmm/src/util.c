/* virtkit's libvmm: printf (%s %c %d %i %u %x %X %p %%, with l/ll/z and a width), memcpy, memset. */
#include <libvmm/util/util.h>

static int put_number(unsigned long long value, unsigned base, bool upper, bool negative, int width, char pad)
{
    char digits[24];
    int n = 0;
    const char *alphabet = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do {
        digits[n++] = alphabet[value % base];
        value /= base;
    } while (value != 0);
    int length = n + (negative ? 1 : 0);
    int written = 0;
    if (negative && pad == '0') {
        microkit_dbg_putc('-');
        written++;
    }
    for (; length < width; length++, written++) microkit_dbg_putc(pad);
    if (negative && pad != '0') {
        microkit_dbg_putc('-');
        written++;
    }
    while (n > 0) {
        microkit_dbg_putc(digits[--n]);
        written++;
    }
    return written;
}

int vprintf(const char *format, va_list args)
{
    int written = 0;
    for (const char *p = format; *p; p++) {
        if (*p != '%') {
            microkit_dbg_putc(*p);
            written++;
            continue;
        }
        p++;
        char pad = ' ';
        int width = 0;
        int longs = 0;
        if (*p == '0') pad = *p++;
        while (*p >= '0' && *p <= '9') width = width * 10 + (*p++ - '0');
        while (*p == 'l' || *p == 'z') {
            longs++;
            p++;
        }
        switch (*p) {
        case 'd':
        case 'i': {
            long long v = longs ? va_arg(args, long long) : va_arg(args, int);
            written += put_number(v < 0 ? -(unsigned long long)v : (unsigned long long)v, 10, false, v < 0, width, pad);
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            unsigned long long v = longs ? va_arg(args, unsigned long long) : va_arg(args, unsigned int);
            written += put_number(v, *p == 'u' ? 10 : 16, *p == 'X', false, width, pad);
            break;
        }
        case 'p':
            microkit_dbg_puts("0x");
            written += 2 + put_number((uintptr_t)va_arg(args, void *), 16, false, false, width, pad);
            break;
        case 'c':
            microkit_dbg_putc(va_arg(args, int));
            written++;
            break;
        case 's': {
            const char *s = va_arg(args, const char *);
            if (!s) s = "(null)";
            while (*s) {
                microkit_dbg_putc(*s++);
                written++;
            }
            break;
        }
        case '%':
            microkit_dbg_putc('%');
            written++;
            break;
        case '\0':
            return written;
        default:
            /* An unknown conversion is printed as written, so the mistake shows. */
            microkit_dbg_putc('%');
            microkit_dbg_putc(*p);
            written += 2;
        }
    }
    return written;
}

int printf(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    int written = vprintf(format, args);
    va_end(args);
    return written;
}

void *memcpy(void *dest, const void *src, size_t n)
{
    unsigned char *d = dest;
    const unsigned char *s = src;
    /* Word copies when both are aligned: the guest's kernel is megabytes. */
    if ((((uintptr_t)d | (uintptr_t)s) & 7) == 0) {
        for (; n >= 8; n -= 8, d += 8, s += 8) *(uint64_t *)d = *(const uint64_t *)s;
    }
    while (n--) *d++ = *s++;
    return dest;
}

void *memset(void *dest, int c, size_t n)
{
    unsigned char *d = dest;
    while (n--) *d++ = (unsigned char)c;
    return dest;
}
