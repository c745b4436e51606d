/*
 * Runtime of the bare-metal test guests. Conventions with the host side (tests/guests/run-guest.ts):
 *   HVC #0  test finished: x0 = 0 passed, otherwise the failing check's code; x1 = got, x2 = wanted.
 *   HVC #1  checkpoint: x0 = id, x1 = value; the host records it and resumes.
 *   HVC #2  host request: x0 = request number, x1.. arguments (per test, see the test's host side).
 *   Byte stores to the console page (IPA 0x09000000, not mapped at stage 2) are console output: the
 *   host decodes them from the stage-2 abort syndrome and skips the store.
 */
#ifndef GUEST_RUNTIME_H
#define GUEST_RUNTIME_H

typedef unsigned long u64;
typedef long s64;
typedef unsigned int u32;
typedef int s32;
typedef unsigned short u16;
typedef unsigned char u8;

#define CONSOLE_IPA 0x09000000UL
/** A page with no stage-2 mapping whose accesses the host emulates (stage-2 abort tests). */
#define TEST_DEVICE_IPA 0x0a000000UL

/** The interrupted context, laid out as start.S saves it. */
struct frame {
  u64 x[31];
  u64 elr, spsr, esr, far;
  u64 pad;
};

/* Vector indices in VBAR_EL1 order. */
enum { VEC_EL1_SP0_SYNC = 0, VEC_EL1_SYNC = 4, VEC_EL1_IRQ = 5, VEC_EL0_SYNC = 8, VEC_EL0_IRQ = 9 };

/** Per-test exception hook: returns nonzero when it handled the exception. */
typedef int (*exception_hook)(struct frame *f, unsigned vector);
extern exception_hook on_exception;

#define read_sysreg(r) ({ u64 __v; asm volatile("mrs %0, " #r : "=r"(__v)); __v; })
#define write_sysreg(r, v) asm volatile("msr " #r ", %0" ::"r"((u64)(v)) : "memory")
#define isb() asm volatile("isb" ::: "memory")
#define dsb() asm volatile("dsb sy" ::: "memory")

#define ESR_EC(esr) (((esr) >> 26) & 0x3f)
#define ESR_ISS(esr) ((esr) & 0x1ffffff)

void console_putc(char c);
void console_puts(const char *s);
void console_hex(u64 v);
void checkpoint(u64 id, u64 value);
u64 host_request(u64 request, u64 arg);
void guest_exit(u64 code) __attribute__((noreturn));
void check_failed(u32 code, u64 got, u64 want, const char *what) __attribute__((noreturn));

/** Fails the test with `code` unless got == want; the console shows the expression and both values. */
#define CHECK_EQ(code, got, want)                                                     \
  do {                                                                                \
    u64 __g = (u64)(got), __w = (u64)(want);                                          \
    if (__g != __w) check_failed((code), __g, __w, __FILE__ ": " #got " == " #want);  \
  } while (0)

/** What the recording hook saw last; `count` counts every exception it took. */
struct exception_record {
  u64 esr, far, elr, spsr;
  unsigned vector, count;
};
extern volatile struct exception_record last_exception;
/** A hook that records the exception and resumes after the faulting instruction. */
int record_and_skip(struct frame *f, unsigned vector);

void *memset(void *d, int c, unsigned long n);
void *memcpy(void *d, const void *s, unsigned long n);

#endif
