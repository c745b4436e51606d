// Self-hosted debug at EL1 and EL0 with debug exceptions taken to EL1: the OS lock, MDSCR_EL1.MDE/KDE
// and PSTATE.D gating, address breakpoints stepped past the way a debugger does, load and store
// watchpoints (BAS byte selection, MASK ranges, the access not performed, DC IVAC with CM), and
// software step through exception entry and return (ISV/EX, SPSR.SS, SVC, an EL0 task). BRK immediates
// ask the handler to change the step state, as a debugger's trap would.
#include "lib/el0.h"

#define MDSCR_SS (1UL << 0)
#define MDSCR_KDE (1UL << 13)
#define MDSCR_MDE (1UL << 15)
#define SPSR_SS (1UL << 21)
#define SPSR_D (1UL << 9)

/* DBGBCR: E, PMC (bits 2:1: 0b01 EL1, 0b10 EL0), BAS = 0b1111 (bits 8:5) for an A64 instruction. */
#define BCR_EL1 (1UL | (1UL << 1) | (0xfUL << 5))
#define BCR_EL0 (1UL | (2UL << 1) | (0xfUL << 5))
/* DBGWCR: E, PAC (bits 2:1), LSC (bits 4:3: 0b01 load, 0b10 store), BAS (bits 12:5), MASK (bits 28:24). */
#define WCR(pac, lsc, bas, mask) (1UL | ((u64)(pac) << 1) | ((u64)(lsc) << 3) | ((u64)(bas) << 5) | ((u64)(mask) << 24))
#define LSC_LOAD 1
#define LSC_STORE 2

enum { BRK_STEP_ON = 0x50, BRK_STEP_OFF = 0x51, BRK_STEP_PENDING = 0x52 };

#define MAX_RECORDS 16
static volatile u64 step_elr[MAX_RECORDS], step_esr[MAX_RECORDS], step_spsr[MAX_RECORDS];
static volatile unsigned step_count, breakpoint_count, watchpoint_count, svc_count;
static volatile u64 breakpoint_esr, breakpoint_elr, breakpoint_spsr;
static volatile u64 watch_esr, watch_far, watch_elr, watch_x9, watch_memory;
static volatile u64 *watched;
/** Set while a breakpoint's instruction is being stepped: the step exception re-arms both DBGBCRs. */
static volatile u64 rearm, rearm_bcr0, rearm_bcr1;
static volatile unsigned brk_count, undefined_count;

static volatile u64 data[16] __attribute__((aligned(64)));

/**
 * Set by tests/guests/debug.test.ts in the image it gives qemu-system-aarch64 7.2, which generates debug
 * exceptions while OSLSR_EL1.OSLK is set (the ARM ARM's AArch64.GenerateDebugExceptionsFrom() says none
 * are): the checks that the OS lock blocks them are then skipped, everything else is compared.
 */
volatile u64 os_lock_ignored __attribute__((section(".data"))) = 0;
/** Set the same way for qemu 7.2, whose DC IVAC is a NOP that no watchpoint sees (the Cortex-A53's does). */
volatile u64 cache_maintenance_unwatched __attribute__((section(".data"))) = 0;

USER_DATA volatile u64 user_word[2];
USER_DATA __attribute__((aligned(16))) u64 user_stack[256];

static void set_mdscr(u64 set, u64 clear) {
  write_sysreg(mdscr_el1, (read_sysreg(mdscr_el1) | set) & ~clear);
  isb();
}

static int debug_hook(struct frame *f, unsigned vector) {
  if (el0_handle_exit(f, vector)) {
    set_mdscr(0, MDSCR_SS);
    return 1;
  }
  switch (ESR_EC(f->esr)) {
  case 0x3c: /* BRK: the immediate says what to do with software step */
    brk_count++;
    switch (ESR_ISS(f->esr) & 0xffff) {
    case BRK_STEP_ON:
      set_mdscr(MDSCR_SS, 0);
      f->spsr |= SPSR_SS;
      break;
    case BRK_STEP_OFF:
      set_mdscr(0, MDSCR_SS);
      break;
    case BRK_STEP_PENDING:
      set_mdscr(MDSCR_SS, 0);
      f->spsr &= ~SPSR_SS;
      break;
    default:
      return 0;
    }
    f->elr += 4;
    return 1;
  case 0x30:
  case 0x31: /* Breakpoint: step the instruction with the breakpoint disabled, then re-arm it */
    breakpoint_esr = f->esr;
    breakpoint_elr = f->elr;
    breakpoint_spsr = f->spsr;
    breakpoint_count++;
    rearm = 1;
    rearm_bcr0 = read_sysreg(dbgbcr0_el1);
    rearm_bcr1 = read_sysreg(dbgbcr1_el1);
    write_sysreg(dbgbcr0_el1, 0);
    write_sysreg(dbgbcr1_el1, 0);
    set_mdscr(MDSCR_SS, 0);
    f->spsr |= SPSR_SS;
    return 1;
  case 0x32:
  case 0x33: /* Software Step */
    if (step_count < MAX_RECORDS) {
      step_elr[step_count] = f->elr;
      step_esr[step_count] = f->esr;
      step_spsr[step_count] = f->spsr;
    }
    step_count++;
    if (rearm) {
      write_sysreg(dbgbcr0_el1, rearm_bcr0);
      write_sysreg(dbgbcr1_el1, rearm_bcr1);
      rearm = 0;
      set_mdscr(0, MDSCR_SS);
    } else {
      f->spsr |= SPSR_SS;
    }
    return 1;
  case 0x34:
  case 0x35: /* Watchpoint: what the handler sees, then disable it and re-run the access */
    watch_esr = f->esr;
    watch_far = f->far;
    watch_elr = f->elr;
    watch_x9 = f->x[9];
    watch_memory = watched ? *watched : 0;
    watchpoint_count++;
    write_sysreg(dbgwcr0_el1, 0);
    write_sysreg(dbgwcr1_el1, 0);
    return 1;
  case 0x00: /* Undefined: an unimplemented debug register */
    undefined_count++;
    f->elr += 4;
    return 1;
  case 0x15: /* SVC at EL1: resumes after it */
    svc_count++;
    return 1;
  }
  return 0;
}

static void clear_records(void) {
  step_count = breakpoint_count = watchpoint_count = 0;
  watch_esr = watch_far = watch_elr = 0;
}

/** Runs three rounds of a loop whose body holds the instruction at `bp_target`; returns the loop's sum. */
static u64 __attribute__((noinline)) breakpoint_loop(u64 *address) {
  u64 sum = 0, rounds = 3, here;
  asm volatile("adr %[here], 1f\n"
               "0: add %[sum], %[sum], #5\n"
               "1: add %[sum], %[sum], #7\n"
               "subs %[rounds], %[rounds], #1\n"
               "b.ne 0b\n"
               : [sum] "+r"(sum), [rounds] "+r"(rounds), [here] "=&r"(here)::"cc", "memory");
  *address = here;
  return sum;
}

static void check_breakpoints(void) {
  u64 target;
  breakpoint_loop(&target); /* learns the address of the instruction to break on */

  /* The OS lock is set at reset: an armed breakpoint at EL1 with KDE and PSTATE.D clear is ignored. */
  CHECK_EQ(100, read_sysreg(oslsr_el1), 0xa); /* OSLM = 0b10, OSLK = 1 */
  write_sysreg(dbgbvr0_el1, target);
  write_sysreg(dbgbcr0_el1, BCR_EL1);
  set_mdscr(MDSCR_MDE | MDSCR_KDE, 0);
  asm volatile("msr daifclr, #8" ::: "memory");
  CHECK_EQ(101, breakpoint_loop(&target), 36);
  if (!os_lock_ignored) CHECK_EQ(102, breakpoint_count, 0);

  /* BRK is not a debug event the OS lock blocks. */
  asm volatile("brk #0x51" ::: "memory");
  CHECK_EQ(103, brk_count, 1);

  /* Cleared as Linux clears it: the breakpoint is taken at each of the three rounds and stepped past. */
  write_sysreg(oslar_el1, 0);
  isb();
  clear_records();
  CHECK_EQ(110, read_sysreg(oslsr_el1), 0x8);
  CHECK_EQ(111, breakpoint_loop(&target), 36);
  CHECK_EQ(112, breakpoint_count, 3);
  CHECK_EQ(113, step_count, 3);
  CHECK_EQ(114, ESR_EC(breakpoint_esr), 0x31);             /* Breakpoint from the same EL */
  CHECK_EQ(115, ESR_ISS(breakpoint_esr), 0x22);            /* IFSC: debug exception */
  CHECK_EQ(116, (breakpoint_esr >> 25) & 1, 1);            /* IL */
  CHECK_EQ(117, breakpoint_elr, target);                   /* the instruction, not yet executed */
  CHECK_EQ(118, breakpoint_spsr & (SPSR_D | 0xf), 0x5);    /* EL1h with debug exceptions unmasked */
  CHECK_EQ(119, step_elr[0], target + 4);                  /* the step past it completed one instruction */
  CHECK_EQ(120, ESR_EC(step_esr[0]), 0x33);
  CHECK_EQ(121, ESR_ISS(step_esr[0]), (1UL << 24) | 0x22); /* ISV = 1, EX = 0 */

  /* Masks: PSTATE.D, then KDE clear, then an EL0-only PMC, then BAS = 0: none of them breaks at EL1. */
  clear_records();
  asm volatile("msr daifset, #8" ::: "memory");
  breakpoint_loop(&target);
  asm volatile("msr daifclr, #8" ::: "memory");
  set_mdscr(0, MDSCR_KDE);
  breakpoint_loop(&target);
  set_mdscr(MDSCR_KDE, 0);
  write_sysreg(dbgbcr0_el1, BCR_EL0);
  breakpoint_loop(&target);
  write_sysreg(dbgbcr0_el1, BCR_EL1 & ~(0xfUL << 5));
  breakpoint_loop(&target);
  CHECK_EQ(130, breakpoint_count, 0);
  /* MDE clear disables it too; breakpoint 1 works like breakpoint 0. */
  write_sysreg(dbgbcr0_el1, 0);
  write_sysreg(dbgbvr1_el1, target);
  write_sysreg(dbgbcr1_el1, BCR_EL1);
  set_mdscr(0, MDSCR_MDE);
  breakpoint_loop(&target);
  CHECK_EQ(131, breakpoint_count, 0);
  set_mdscr(MDSCR_MDE, 0);
  breakpoint_loop(&target);
  CHECK_EQ(132, breakpoint_count, 3);
  CHECK_EQ(133, step_count, 3);
  write_sysreg(dbgbcr1_el1, 0);
  write_sysreg(dbgbcr0_el1, 0);
}

static void check_watchpoints(void) {
  clear_records();
  data[2] = 0x1111;
  data[3] = 0x2222;
  watched = &data[2];

  /* A load watchpoint: the load is not performed when the exception is taken, FAR is its address. */
  write_sysreg(dbgwvr0_el1, (u64)&data[2]);
  write_sysreg(dbgwcr0_el1, WCR(1, LSC_LOAD, 0xff, 0));
  register u64 x9 asm("x9") = 0xdead;
  u64 at;
  asm volatile("adr %1, 1f\n1: ldr x9, [%2]" : "+r"(x9), "=&r"(at) : "r"(&data[2]) : "memory");
  CHECK_EQ(200, watchpoint_count, 1);
  CHECK_EQ(201, ESR_EC(watch_esr), 0x35);              /* Watchpoint from the same EL */
  CHECK_EQ(202, ESR_ISS(watch_esr), 0x22);             /* WnR = 0, CM = 0, DFSC = debug */
  CHECK_EQ(203, watch_far, (u64)&data[2]);
  CHECK_EQ(204, watch_elr, at);
  CHECK_EQ(205, watch_x9, 0xdead);                     /* the destination not yet written */
  CHECK_EQ(206, x9, 0x1111);                           /* re-run with the watchpoint disabled */

  /* A load watchpoint ignores stores; a store watchpoint stops the store before memory changes. */
  write_sysreg(dbgwcr0_el1, WCR(1, LSC_LOAD, 0xff, 0));
  data[2] = 0x3333;
  CHECK_EQ(210, watchpoint_count, 1);
  write_sysreg(dbgwcr0_el1, WCR(1, LSC_STORE, 0xff, 0));
  x9 = 0x4444;
  asm volatile("adr %0, 1f\n1: str x9, [%1]" : "=&r"(at) : "r"(&data[2]), "r"(x9) : "memory");
  CHECK_EQ(211, watchpoint_count, 2);
  CHECK_EQ(212, ESR_ISS(watch_esr), (1UL << 6) | 0x22); /* WnR = 1 */
  CHECK_EQ(213, watch_memory, 0x3333);                  /* not written when the handler ran */
  CHECK_EQ(214, data[2], 0x4444);
  CHECK_EQ(215, watch_elr, at);

  /* BAS selects bytes: only byte 3 of data[3] is watched. */
  watched = 0;
  write_sysreg(dbgwvr0_el1, (u64)&data[3]);
  write_sysreg(dbgwcr0_el1, WCR(1, LSC_LOAD | LSC_STORE, 1 << 3, 0));
  volatile u8 *bytes = (volatile u8 *)&data[3];
  (void)bytes[2];
  bytes[4] = 0x55;
  (void)data[2];
  CHECK_EQ(220, watchpoint_count, 2);
  (void)bytes[3];
  CHECK_EQ(221, watchpoint_count, 3);
  CHECK_EQ(222, watch_far, (u64)&data[3] + 3);
  write_sysreg(dbgwcr0_el1, WCR(1, LSC_LOAD | LSC_STORE, 1 << 3, 0));
  (void)data[3]; /* a doubleword load touches byte 3: FAR is the watched byte */
  CHECK_EQ(223, watchpoint_count, 4);
  CHECK_EQ(224, watch_far, (u64)&data[3] + 3);

  /* The second register of a pair, through watchpoint 1. */
  write_sysreg(dbgwvr1_el1, (u64)&data[5]);
  write_sysreg(dbgwcr1_el1, WCR(1, LSC_STORE, 0xff, 0));
  asm volatile("stp %0, %0, [%1]" ::"r"(7UL), "r"(&data[4]) : "memory");
  CHECK_EQ(230, watchpoint_count, 5);
  CHECK_EQ(231, watch_far, (u64)&data[5]);
  CHECK_EQ(232, data[5], 7);

  /* MASK = 6 watches the whole 64-byte block holding data[8..15], whatever the BAS. */
  write_sysreg(dbgwvr0_el1, (u64)&data[8]);
  write_sysreg(dbgwcr0_el1, WCR(1, LSC_STORE, 0xff, 6));
  data[7] = 1;
  CHECK_EQ(240, watchpoint_count, 5);
  data[13] = 2;
  CHECK_EQ(241, watchpoint_count, 6);
  CHECK_EQ(242, watch_far, (u64)&data[13]);

  /* PSTATE.D masks watchpoints at EL1; an EL0-only PAC ignores EL1 accesses. */
  write_sysreg(dbgwcr0_el1, WCR(1, LSC_STORE, 0xff, 6));
  asm volatile("msr daifset, #8" ::: "memory");
  data[9] = 3;
  asm volatile("msr daifclr, #8" ::: "memory");
  write_sysreg(dbgwcr0_el1, WCR(2, LSC_STORE, 0xff, 6));
  data[9] = 4;
  CHECK_EQ(250, watchpoint_count, 6);

  /* The Cortex-A53 watches DC IVAC as a store of its line, with CM = 1 and FAR the address given. */
  if (!cache_maintenance_unwatched) {
    write_sysreg(dbgwvr0_el1, (u64)&data[13]);
    write_sysreg(dbgwcr0_el1, WCR(1, LSC_STORE, 0xff, 0));
    asm volatile("adr %0, 1f\n1: dc ivac, %1" : "=&r"(at) : "r"(&data[10]) : "memory");
    CHECK_EQ(260, watchpoint_count, 7);
    CHECK_EQ(261, ESR_ISS(watch_esr), (1UL << 8) | (1UL << 6) | 0x22);
    CHECK_EQ(262, watch_far, (u64)&data[10]);
    CHECK_EQ(263, watch_elr, at);
    /* A load watchpoint ignores it, and so does a store watchpoint on another line. */
    write_sysreg(dbgwcr0_el1, WCR(1, LSC_LOAD, 0xff, 0));
    asm volatile("dc ivac, %0" ::"r"(&data[10]) : "memory");
    write_sysreg(dbgwcr0_el1, WCR(1, LSC_STORE, 0xff, 0));
    asm volatile("dc ivac, %0" ::"r"(&data[7]) : "memory");
    CHECK_EQ(264, watchpoint_count, 7);
  }
  write_sysreg(dbgwcr0_el1, 0);
}

static void check_step_el1(void) {
  clear_records();
  u64 exclusive = 0, start, end;
  /* Five instructions stepped one by one; the load-exclusive's step reports EX = 1. */
  asm volatile("adr %0, 1f\n adr %1, 2f\n"
               "brk #0x50\n"
               "1: mov x9, #1\n"
               "add x9, x9, #2\n"
               "ldxr x10, [%2]\n"
               "clrex\n"
               "nop\n"
               "2: brk #0x51\n"
               : "=&r"(start), "=&r"(end)
               : "r"(&exclusive)
               : "x9", "x10", "memory");
  CHECK_EQ(300, step_count, 5);
  for (unsigned i = 0; i < 5; i++) {
    CHECK_EQ(301, step_elr[i], start + 4 * (i + 1));
    CHECK_EQ(302, ESR_EC(step_esr[i]), 0x33);
    CHECK_EQ(303, ESR_ISS(step_esr[i]), (1UL << 24) | (i == 2 ? 1UL << 6 : 0) | 0x22);
    CHECK_EQ(304, step_spsr[i] & (SPSR_SS | SPSR_D), 0); /* SPSR.SS = 0: the step completed */
  }
  CHECK_EQ(305, step_elr[4], end);

  /* An exception return with SPSR.SS = 0 takes the step exception at once, with ISV = 0. */
  clear_records();
  u64 after = 0;
  asm volatile("adr %0, 1f\n brk #0x52\n 1: brk #0x51" : "=&r"(after)::"memory");
  CHECK_EQ(310, step_count, 1);
  CHECK_EQ(311, step_elr[0], after);
  CHECK_EQ(312, ESR_ISS(step_esr[0]), 0x22);

  /* A stepped SVC completes: its handler sees SPSR.SS = 0, so the step exception follows its return. */
  clear_records();
  svc_count = 0;
  asm volatile("adr %0, 1f\n brk #0x50\n svc #1\n 1: brk #0x51" : "=&r"(after)::"x0", "memory");
  CHECK_EQ(320, svc_count, 1);
  CHECK_EQ(321, step_count, 1);
  CHECK_EQ(322, step_elr[0], after);
  CHECK_EQ(323, ESR_ISS(step_esr[0]), 0x22);

  /* KDE clear: no step exceptions at EL1; then the OS lock blocks them the same way. */
  clear_records();
  set_mdscr(0, MDSCR_KDE);
  asm volatile("brk #0x50\n nop\n nop\n brk #0x51" ::: "memory");
  set_mdscr(MDSCR_KDE, 0);
  CHECK_EQ(330, step_count, 0);
  write_sysreg(oslar_el1, 1);
  asm volatile("brk #0x50\n nop\n nop\n brk #0x51" ::: "memory");
  write_sysreg(oslar_el1, 0);
  if (!os_lock_ignored) CHECK_EQ(331, step_count, 0);
}

/* Twelve instructions at EL0, run with software step from its first instruction; and a store. */
void user_steps(u64 *word);
void user_store(u64 *word);
asm(".pushsection .user_text, \"ax\"\n"
    ".balign 4\n"
    ".globl user_steps\n"
    "user_steps:\n"
    "  mov x1, #3\n"
    "1: subs x1, x1, #1\n"
    "  b.ne 1b\n"
    "  ldxr x2, [x0]\n"
    "  clrex\n"
    "  mov x8, #2\n" /* SYS_EXIT */
    "  mov x0, #7\n"
    "  svc #0\n"
    ".globl user_store\n"
    "user_store:\n"
    "  mov x9, #0x77\n"
    "  str x9, [x0]\n"
    "  mov x8, #2\n"
    "  mov x0, #8\n"
    "  svc #0\n"
    ".popsection\n");

static void check_el0(void) {
  mmu_init();
  el0_map_user_pages();
  mmu_enable();

  /* From here EL1 is not debuggable (KDE clear, PSTATE.D set): only the EL0 task is. Stepping EL1's
   * own ERET into the task would make the step handler's ERET rewrite ELR/SPSR_EL1 under it. */
  set_mdscr(0, MDSCR_KDE);
  asm volatile("msr daifset, #8" ::: "memory");

  /* Step from the ERET into the task (SPSR.SS = 0: ISV = 0) through its SVC exit. */
  clear_records();
  set_mdscr(MDSCR_SS, 0);
  CHECK_EQ(400, run_user(user_steps, (u64 *)user_word, &user_stack[256]), 7);
  CHECK_EQ(401, step_count, 12);
  CHECK_EQ(402, step_elr[0], (u64)user_steps);
  CHECK_EQ(403, ESR_EC(step_esr[0]), 0x32); /* Software Step from a lower EL */
  CHECK_EQ(404, ESR_ISS(step_esr[0]), 0x22);
  for (unsigned i = 1; i < 12; i++) CHECK_EQ(405, ESR_ISS(step_esr[i]) & ~(1UL << 6), (1UL << 24) | 0x22);
  CHECK_EQ(406, step_elr[8], (u64)user_steps + 16); /* after the LDXR: EX = 1 */
  CHECK_EQ(407, (step_esr[8] >> 6) & 1, 1);
  CHECK_EQ(408, (step_esr[7] >> 6) & 1, 0);
  CHECK_EQ(409, step_elr[11], (u64)user_steps + 28); /* before the SVC */
  CHECK_EQ(410, step_spsr[11] & 0xf, 0);           /* EL0t */
  CHECK_EQ(411, read_sysreg(mdscr_el1) & MDSCR_SS, 0);

  /* An EL0 watchpoint and an EL0 breakpoint fire from EL0 even with KDE clear and PSTATE.D set at EL1. */
  clear_records();
  watched = (u64 *)&user_word[1];
  user_word[1] = 5;
  write_sysreg(dbgwvr0_el1, (u64)&user_word[1]);
  write_sysreg(dbgwcr0_el1, WCR(2, LSC_STORE, 0xff, 0));
  write_sysreg(dbgbvr0_el1, (u64)user_store + 12);
  write_sysreg(dbgbcr0_el1, BCR_EL0);
  user_word[1] = 6; /* EL1: PAC says EL0 only */
  CHECK_EQ(420, run_user(user_store, (u64 *)&user_word[1], &user_stack[256]), 8);
  CHECK_EQ(421, watchpoint_count, 1);
  CHECK_EQ(422, ESR_EC(watch_esr), 0x34); /* Watchpoint from a lower EL */
  CHECK_EQ(423, ESR_ISS(watch_esr), (1UL << 6) | 0x22);
  CHECK_EQ(424, watch_far, (u64)&user_word[1]);
  CHECK_EQ(425, watch_elr, (u64)user_store + 4);
  CHECK_EQ(426, watch_memory, 6);
  CHECK_EQ(427, user_word[1], 0x77);
  CHECK_EQ(428, breakpoint_count, 1);
  CHECK_EQ(429, ESR_EC(breakpoint_esr), 0x30); /* Breakpoint from a lower EL */
  CHECK_EQ(430, breakpoint_elr, (u64)user_store + 12);
  CHECK_EQ(431, step_count, 1); /* stepping past it */
  write_sysreg(dbgbcr0_el1, 0);
}

/* The first breakpoint and watchpoint past the ones ID_AA64DFR0_EL1 advertises do not exist. */
static void check_missing_comparators(void) {
  u64 dfr0 = read_sysreg(id_aa64dfr0_el1);
  u64 breakpoints = ((dfr0 >> 12) & 0xf) + 1, watchpoints = ((dfr0 >> 20) & 0xf) + 1;
  CHECK_EQ(1, breakpoints >= 2 && watchpoints >= 2, 1); /* the architecture's minimum */
  switch (breakpoints) {
  case 2: (void)read_sysreg(s2_0_c0_c2_4); break; /* DBGBVR2_EL1 */
  case 6: (void)read_sysreg(s2_0_c0_c6_4); break; /* DBGBVR6_EL1: qemu's Cortex-A53 has 6 */
  default: check_failed(2, breakpoints, 2, "breakpoints");
  }
  switch (watchpoints) {
  case 2: write_sysreg(s2_0_c0_c2_7, 1); break; /* DBGWCR2_EL1 */
  case 4: write_sysreg(s2_0_c0_c4_7, 1); break; /* DBGWCR4_EL1: qemu's Cortex-A53 has 4 */
  default: check_failed(3, watchpoints, 2, "watchpoints");
  }
  CHECK_EQ(4, undefined_count, 2);
}

int main(void) {
  on_exception = debug_hook;
  check_missing_comparators();
  check_breakpoints();
  check_watchpoints();
  check_step_el1();
  check_el0();
  console_puts("debug: every check passed\n"); /* the end marker where no HVC can end the run (qemu) */
  return 0;
}
