// A bare-metal program booted by the simple example's VMM as a raw binary (no arm64 Image header): it
// reads the device tree the VMM passed in x0 and prints what it was given (the model, /chosen's
// bootargs, whether an initrd is described) on the PL011, then powers off with PSCI over SMC.
typedef unsigned char u8;
typedef unsigned int u32;
typedef unsigned long u64;

#define UART_DR ((volatile u32 *)0x09000000)
#define UART_FR ((volatile u32 *)0x09000018)
#define UART_FR_TXFF (1u << 5)
#define PSCI_SYSTEM_OFF 0x84000008ul

#define FDT_MAGIC 0xd00dfeedu
#define FDT_BEGIN_NODE 1
#define FDT_END_NODE 2
#define FDT_PROP 3
#define FDT_NOP 4
#define FDT_END 9

// Entered at EL1 with the MMU off, x0 = the DTB's address: set a stack in the BSS and call main.
__asm__(".section .text.boot\n"
        ".global _start\n"
        "_start:\n"
        "  ldr x1, =stack_top\n"
        "  mov sp, x1\n"
        "  bl main\n"
        "1: wfi\n"
        "  b 1b\n");

static void putc(char c) {
  while (*UART_FR & UART_FR_TXFF) {
  }
  *UART_DR = (u8)c;
}

static void puts(const char *s) {
  while (*s) putc(*s++);
}

static u32 be32(const u8 *p) {
  return ((u32)p[0] << 24) | ((u32)p[1] << 16) | ((u32)p[2] << 8) | p[3];
}

static int equal(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}

static void power_off(void) {
  register u64 x0 __asm__("x0") = PSCI_SYSTEM_OFF;
  __asm__ volatile("smc #0" : "+r"(x0) : : "memory");
}

void main(const u8 *dtb) {
  if (be32(dtb) != FDT_MAGIC) {
    puts("boot-info: x0 does not point at a device tree\n");
    power_off();
    return;
  }
  const u8 *structs = dtb + be32(dtb + 8);
  const char *strings = (const char *)dtb + be32(dtb + 12);
  const char *model = 0, *bootargs = 0;
  int depth = 0, in_chosen = 0, initrd = 0;
  for (const u8 *p = structs;;) {
    u32 token = be32(p);
    p += 4;
    if (token == FDT_BEGIN_NODE) {
      const char *name = (const char *)p;
      depth++;
      if (depth == 2 && equal(name, "chosen")) in_chosen = 1;
      while (*p) p++;
      p = (const u8 *)(((u64)p + 4) & ~3ul);
    } else if (token == FDT_END_NODE) {
      if (depth == 2) in_chosen = 0;
      depth--;
    } else if (token == FDT_PROP) {
      u32 len = be32(p);
      const char *name = strings + be32(p + 4);
      const char *value = (const char *)p + 8;
      if (depth == 1 && equal(name, "model")) model = value;
      if (in_chosen && equal(name, "bootargs")) bootargs = value;
      if (in_chosen && equal(name, "linux,initrd-start")) initrd = 1;
      p = (const u8 *)(((u64)p + 8 + len + 3) & ~3ul);
    } else if (token == FDT_NOP) {
      continue;
    } else {
      break;
    }
  }
  puts("boot-info: model: ");
  puts(model ? model : "(none)");
  puts("\nboot-info: bootargs: ");
  puts(bootargs ? bootargs : "(none)");
  puts(initrd ? "\nboot-info: initrd: described\n" : "\nboot-info: initrd: none\n");
  power_off();
}
