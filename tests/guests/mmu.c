// Stage-1 MMU: identity map through TTBR0 and a high alias through TTBR1, page remapping with TLBI,
// translation, permission and access-flag faults with their DFSC and FAR, execute-never, and the
// translation cache following SCTLR_EL1.M.
#include "lib/mmu.h"

static u64 page_a[512] __attribute__((aligned(4096)));
static u64 page_b[512] __attribute__((aligned(4096)));
static u32 code_page[1024] __attribute__((aligned(4096)));

static const u64 normal = PTE_ATTR(ATTR_NORMAL) | PTE_SH_INNER | PTE_AF;

static u64 read_u64(const volatile u64 *p) {
  u64 v;
  asm volatile("ldr %0, [%1]" : "=r"(v) : "r"(p) : "memory");
  return v;
}

static void write_u64(volatile u64 *p, u64 v) {
  asm volatile("str %0, [%1]" ::"r"(v), "r"(p) : "memory");
}

static int fault_hook(struct frame *f, unsigned vector) {
  record_and_skip(f, vector);
  return 1;
}

/* Instruction aborts resume at the caller: the faulting call never ran. */
static int fetch_hook(struct frame *f, unsigned vector) {
  record_and_skip(f, vector);
  f->elr = f->x[30];
  return 1;
}

int main(void) {
  page_a[0] = 0xaaaa;
  page_b[0] = 0xbbbb;
  mmu_init();
  mmu_enable();
  CHECK_EQ(1, read_sysreg(sctlr_el1) & 1, 1);
  console_puts("mmu: on\n");

  volatile u64 *alias = (volatile u64 *)(HIGH_ALIAS + (u64)page_a);
  CHECK_EQ(2, read_u64(alias), 0xaaaa);
  write_u64(alias + 1, 0x1111);
  CHECK_EQ(3, read_u64(&page_a[1]), 0x1111);

  map_page((u64)page_a, (u64)page_b, normal);
  CHECK_EQ(10, read_u64(page_a), 0xbbbb);
  /* Turning the MMU off must drop cached translations: VA = PA again. */
  mmu_disable();
  CHECK_EQ(11, read_u64(page_a), 0xaaaa);
  mmu_enable();
  CHECK_EQ(12, read_u64(page_a), 0xbbbb);
  map_page((u64)page_a, (u64)page_a, normal);
  CHECK_EQ(13, read_u64(page_a), 0xaaaa);

  on_exception = fault_hook;
  unmap_page((u64)page_a);
  (void)read_u64(&page_a[3]);
  CHECK_EQ(20, last_exception.count, 1);
  CHECK_EQ(21, ESR_EC(last_exception.esr), 0x25);
  CHECK_EQ(22, last_exception.esr & 0x3f, 0x07); /* translation fault, level 3 */
  CHECK_EQ(23, (last_exception.esr >> 6) & 1, 0); /* WnR: read */
  CHECK_EQ(24, last_exception.far, (u64)&page_a[3]);

  map_page((u64)page_a, (u64)page_a, normal | PTE_AP_RO);
  CHECK_EQ(30, read_u64(page_a), 0xaaaa);
  write_u64(&page_a[2], 5);
  CHECK_EQ(31, last_exception.count, 2);
  CHECK_EQ(32, last_exception.esr & 0x3f, 0x0f); /* permission fault, level 3 */
  CHECK_EQ(33, (last_exception.esr >> 6) & 1, 1); /* WnR: write */
  CHECK_EQ(34, last_exception.far, (u64)&page_a[2]);

  map_page((u64)page_a, (u64)page_a, normal & ~PTE_AF);
  (void)read_u64(page_a);
  CHECK_EQ(40, last_exception.count, 3);
  CHECK_EQ(41, last_exception.esr & 0x3f, 0x0b); /* access flag fault, level 3 */
  map_page((u64)page_a, (u64)page_a, normal);

  /* An executable page runs; the same page with PXN takes an instruction abort. */
  code_page[0] = 0xd2800540; /* mov x0, #42 */
  code_page[1] = 0xd65f03c0; /* ret */
  asm volatile("dc cvau, %0\n dsb ish\n ic iallu\n dsb ish\n isb" ::"r"(code_page) : "memory");
  u64 (*fn)(void) = (u64 (*)(void))(u64)code_page;
  CHECK_EQ(50, fn(), 42);
  on_exception = fetch_hook;
  map_page((u64)code_page, (u64)code_page, normal | PTE_PXN);
  (void)fn();
  CHECK_EQ(51, last_exception.count, 4);
  CHECK_EQ(52, ESR_EC(last_exception.esr), 0x21);
  CHECK_EQ(53, last_exception.esr & 0x3f, 0x0f);
  CHECK_EQ(54, last_exception.far, (u64)code_page);
  console_puts("mmu: done\n");
  return 0;
}
