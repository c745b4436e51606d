// Console, checks and the default exception handler of the bare-metal test guests.
#include "runtime.h"

exception_hook on_exception;

void console_putc(char c) {
  *(volatile u8 *)CONSOLE_IPA = (u8)c;
}

void console_puts(const char *s) {
  while (*s) console_putc(*s++);
}

void console_hex(u64 v) {
  console_puts("0x");
  for (int i = 60; i >= 0; i -= 4) console_putc("0123456789abcdef"[(v >> i) & 0xf]);
}

void checkpoint(u64 id, u64 value) {
  register u64 x0 asm("x0") = id;
  register u64 x1 asm("x1") = value;
  asm volatile("hvc #1" : "+r"(x0) : "r"(x1) : "memory");
}

u64 host_request(u64 request, u64 arg) {
  register u64 x0 asm("x0") = request;
  register u64 x1 asm("x1") = arg;
  asm volatile("hvc #2" : "+r"(x0) : "r"(x1) : "memory");
  return x0;
}

static void exit_with(u64 code, u64 got, u64 want) __attribute__((noreturn));
static void exit_with(u64 code, u64 got, u64 want) {
  register u64 x0 asm("x0") = code;
  register u64 x1 asm("x1") = got;
  register u64 x2 asm("x2") = want;
  for (;;) asm volatile("hvc #0" : : "r"(x0), "r"(x1), "r"(x2) : "memory");
}

void guest_exit(u64 code) {
  exit_with(code, 0, 0);
}

void check_failed(u32 code, u64 got, u64 want, const char *what) {
  console_puts("check failed: ");
  console_puts(what);
  console_puts(": got ");
  console_hex(got);
  console_puts(", want ");
  console_hex(want);
  console_putc('\n');
  exit_with(code, got, want);
}

/** Called by start.S for every exception; an unexpected one ends the test with code 0xe000 + vector. */
void exception_handler(struct frame *f, unsigned vector) {
  if (on_exception && on_exception(f, vector)) return;
  console_puts("unexpected exception: vector ");
  console_hex(vector);
  console_puts(" esr ");
  console_hex(f->esr);
  console_puts(" elr ");
  console_hex(f->elr);
  console_puts(" far ");
  console_hex(f->far);
  console_putc('\n');
  exit_with(0xe000 + vector, f->esr, f->elr);
}

volatile struct exception_record last_exception;

int record_and_skip(struct frame *f, unsigned vector) {
  last_exception.esr = f->esr;
  last_exception.far = f->far;
  last_exception.elr = f->elr;
  last_exception.spsr = f->spsr;
  last_exception.vector = vector;
  last_exception.count++;
  f->elr += 4;
  return 1;
}

void *memset(void *d, int c, unsigned long n) {
  u8 *p = d;
  while (n--) *p++ = (u8)c;
  return d;
}

void *memcpy(void *d, const void *s, unsigned long n) {
  u8 *p = d;
  const u8 *q = s;
  while (n--) *p++ = *q++;
  return d;
}
