/*
 * virtkit's libvmm: the little C runtime a VMM needs (Microkit's libmicrokit has none): printf over
 * seL4_DebugPutChar, memcpy and memset, and libvmm's LOG_VMM/LOG_VMM_ERR.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <microkit.h>

int printf(const char *format, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *format, va_list args);
void *memcpy(void *dest, const void *src, size_t n);
void *memset(void *dest, int c, size_t n);

#define LOG_VMM(...)                                 \
    do {                                             \
        printf("%s|INFO: ", microkit_name);          \
        printf(__VA_ARGS__);                         \
    } while (0)

#define LOG_VMM_ERR(...)                             \
    do {                                             \
        printf("%s|ERROR: ", microkit_name);         \
        printf(__VA_ARGS__);                         \
    } while (0)
