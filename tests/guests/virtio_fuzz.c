/*
 * A hostile bare-metal virtio driver for the VM of examples/virtio (tests/virtio/fuzz-guest.test.ts boots it
 * as the guest's raw-binary kernel, at RAM base + 0x80000). It sets up the VMM's four virtio-mmio devices
 * (console 0x130000, blk 0x150000, net 0x160000, sound 0x170000), then, from a deterministic PRNG, feeds each:
 * adversarial chains (loops, links beyond the table, buffers outside RAM, huge lengths, indirect tables inside
 * indirect tables or malformed, available-index jumps, heads beyond the table, write-only headers, requests
 * without a status byte, zero-length buffers), rings the device must refuse, notifications of queues it never
 * set up, random MMIO accesses, random chains, and random well-formed requests. After each case it checks
 * Status (DEVICE_NEEDS_RESET exactly where a broken rule requires it) or the request's own status, resets the
 * device and sets it up again. Last, one valid request per device and a line of console input. Everything it
 * says goes out through the virtio console (buffered while the console itself is under test); it ends with
 * PSCI SYSTEM_OFF.
 * Lines for the test: "expect <device> <queue>: <where>" (a fault report the VMM must make), "reset seen
 * <device> <count>", "random requests: ... statuses" (answers by status code: blk OK IOERR UNSUPP, sound
 * OK BAD_MSG NOT_SUPP IO_ERR), "... ok: ..." for the final requests, "FAIL ..." for a failed check.
 */
#include "lib/gicv.h"
#include "lib/virtio_mmio.h"

/* Guest RAM (examples/virtio: guest_ram, 256 MiB at 0x40000000) ends here. */
#define RAM_END 0x50000000UL
/* Buffers the devices may read and write: nothing of this program lives there. */
#define SCRATCH 0x48000000UL
#define SCRATCH_SIZE 0x100000UL
/* Zeroed before random MMIO, whose queue addresses point here (or outside RAM): empty rings. */
#define ZONE 0x4a000000UL
#define ZONE_SIZE 0x10000UL

#define PSCI_SYSTEM_OFF 0x84000008UL

/* The GIC distributor (GICv2, QEMU virt's address; the VMM emulates it) and the devices' SPIs 42-45. */
#define GICD 0x08000000UL
#define GICD_CTLR 0x000
#define GICD_ISENABLER 0x100
#define GICD_IPRIORITYR 0x400
#define GICD_ITARGETSR 0x800
#define FIRST_INTID (32 + 42)

#define WINDOW 0x200
#define S_RUNNING (S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK)

#define QSIZE 16
#define MAX_QUEUES 4

struct vq {
  struct virtq_desc desc[QSIZE];
  struct {
    u16 flags, idx, ring[QSIZE], used_event;
  } avail;
  struct {
    u16 flags, idx;
    struct {
      u32 id, len;
    } ring[QSIZE];
    u16 avail_event;
  } used __attribute__((aligned(4)));
};

enum { CONSOLE, BLK, NET, SOUND, DEVICES };

struct device {
  const char *name;
  u64 base;
  u32 id;
  u32 queues;
  /* Queues whose chains the device walks when notified (the others wait for input). */
  u32 work_queues[2];
  u32 work_count;
};

static const struct device devices[DEVICES] = {
    [CONSOLE] = {"virtio-console", 0x130000, 3, 2, {1}, 1},
    [BLK] = {"virtio-blk", 0x150000, 2, 1, {0}, 1},
    [NET] = {"virtio-net", 0x160000, 1, 2, {1}, 1},
    [SOUND] = {"virtio-snd", 0x170000, 25, 4, {0, 2}, 2},
};

static volatile struct vq queues[DEVICES][MAX_QUEUES] __attribute__((aligned(4096)));
/* Indirect tables: here, never in scratch, so what a device wrote never becomes a descriptor. */
static volatile struct virtq_desc indirect[QSIZE] __attribute__((aligned(16)));
static volatile u8 txbuf[2048] __attribute__((aligned(16)));
static volatile u8 netbuf[4][2048] __attribute__((aligned(16)));
static u32 console_up;
static u32 failures;
static u32 resets_seen[DEVICES];
/* What the interrupt handler saw: interrupts taken, InterruptStatus bits, interrupts with nothing to say. */
static volatile u32 irqs[DEVICES], isr_seen[DEVICES], empty_irqs[DEVICES];

/* ---- MMIO: single loads and stores, so every access has a valid syndrome for the VMM ---------------- */

static u32 rd32(u64 a) {
  u32 v;
  asm volatile("ldr %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
  return v;
}
static void wr32(u64 a, u32 v) {
  asm volatile("str %w0, [%1]" ::"r"(v), "r"(a) : "memory");
}
static u64 mmio_read(u64 a, u32 size) {
  u64 v = 0;
  if (size == 1) asm volatile("ldrb %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
  else if (size == 2) asm volatile("ldrh %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
  else if (size == 4) asm volatile("ldr %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
  else asm volatile("ldr %0, [%1]" : "=r"(v) : "r"(a) : "memory");
  return v;
}
static void mmio_write(u64 a, u32 size, u64 v) {
  if (size == 1) asm volatile("strb %w0, [%1]" ::"r"(v), "r"(a) : "memory");
  else if (size == 2) asm volatile("strh %w0, [%1]" ::"r"(v), "r"(a) : "memory");
  else if (size == 4) asm volatile("str %w0, [%1]" ::"r"(v), "r"(a) : "memory");
  else asm volatile("str %0, [%1]" ::"r"(v), "r"(a) : "memory");
}

static u32 reg(int d, u32 offset) {
  return rd32(devices[d].base + offset);
}
static void set_reg(int d, u32 offset, u32 v) {
  wr32(devices[d].base + offset, v);
}

static void power_off(void) __attribute__((noreturn));
static void power_off(void) {
  register u64 x0 asm("x0") = PSCI_SYSTEM_OFF;
  for (;;) asm volatile("hvc #0" : "+r"(x0)::"memory");
}

/* ---- output: buffered, sent through the console's transmitq when the console is set up ---------------- */

static char out[0x10000];
static u32 out_len;

static void put(char c) {
  if (out_len < sizeof out) out[out_len++] = c;
}
static void say(const char *s) {
  while (*s) put(*s++);
}
static void say_hex(u64 v) {
  say("0x");
  int i = 60;
  while (i > 0 && !((v >> i) & 0xf)) i -= 4;
  for (; i >= 0; i -= 4) put("0123456789abcdef"[(v >> i) & 0xf]);
}
static void say_dec(u64 v) {
  char digits[20];
  int n = 0;
  do digits[n++] = (char)('0' + v % 10), v /= 10;
  while (v);
  while (n) put(digits[--n]);
}

static void publish(volatile struct vq *q, u16 head);
static void flush(void);

/* Polls for the device to return `want` chains (or ask for a reset); MMIO reads give the VMM the CPU. */
static int settle(int d, u32 queue, u16 want, u32 polls) {
  volatile struct vq *q = &queues[d][queue];
  for (u32 i = 0; i < polls; i++) {
    dsb();
    if (q->used.idx == want) return 1;
    /* Used-buffer notifications are acknowledged; a configuration change stays for the caller to see. */
    if (reg(d, INTERRUPT_STATUS) & ISR_USED) set_reg(d, INTERRUPT_ACK, ISR_USED);
    if (reg(d, STATUS) & S_NEEDS_RESET) return 0;
  }
  return 0;
}

static void flush(void) {
  if (!console_up) return;
  u32 sent = 0;
  while (sent < out_len) {
    u32 n = out_len - sent < sizeof txbuf ? out_len - sent : sizeof txbuf;
    for (u32 i = 0; i < n; i++) txbuf[i] = (u8)out[sent + i];
    volatile struct vq *q = &queues[CONSOLE][1];
    u16 head = q->avail.idx % QSIZE;
    q->desc[head].addr = (u64)txbuf;
    q->desc[head].len = n;
    q->desc[head].flags = 0;
    q->desc[head].next = 0;
    publish(q, head);
    set_reg(CONSOLE, QUEUE_NOTIFY, 1);
    if (!settle(CONSOLE, 1, q->avail.idx, 5000000)) {
      console_up = 0; /* nothing more can be said */
      power_off();
    }
    sent += n;
  }
  out_len = 0;
}

static void fail(const char *what, u64 got, u64 want) {
  failures++;
  say("FAIL ");
  say(what);
  say(": got ");
  say_hex(got);
  say(", want ");
  say_hex(want);
  put('\n');
}

#define EXPECT(what, got, want)                        \
  do {                                                 \
    u64 __g = (u64)(got), __w = (u64)(want);           \
    if (__g != __w) fail(what, __g, __w);              \
  } while (0)

/*
 * The devices' level-triggered SPIs, handled as Linux's virtio_mmio does: read InterruptStatus and acknowledge
 * exactly that. A level the device dropped before the guest took it must have been withdrawn, so every
 * interrupt taken finds a bit set.
 */
static int on_exception_or_irq(struct frame *f, unsigned vector) {
  if (vector == VEC_EL1_IRQ) {
    u32 iar = gicv_read(GICV_IAR), intid = iar & 0x3ff;
    if (intid >= FIRST_INTID && intid < FIRST_INTID + DEVICES) {
      int d = (int)(intid - FIRST_INTID);
      u32 isr = reg(d, INTERRUPT_STATUS);
      if (isr) set_reg(d, INTERRUPT_ACK, isr);
      else empty_irqs[d]++;
      isr_seen[d] |= isr;
      irqs[d]++;
    }
    if (intid != SPURIOUS) gicv_write(GICV_EOIR, iar);
    return 1;
  }
  say("FAIL unexpected exception: vector ");
  say_dec(vector);
  say(" esr ");
  say_hex(f->esr);
  say(" elr ");
  say_hex(f->elr);
  say(" far ");
  say_hex(f->far);
  put('\n');
  flush();
  power_off();
}

static void interrupts_on(void) {
  wr32(GICD + GICD_CTLR, 1);
  /* Priority and target bytes, a word at a time: the words holding INTIDs 72-79. */
  for (u32 word = FIRST_INTID & ~3u; word < FIRST_INTID + DEVICES; word += 4) {
    wr32(GICD + GICD_IPRIORITYR + word, 0xa0a0a0a0);
    wr32(GICD + GICD_ITARGETSR + word, 0x01010101);
  }
  wr32(GICD + GICD_ISENABLER + 4 * (FIRST_INTID / 32), 0xfu << (FIRST_INTID % 32));
  gicv_write(GICV_PMR, 0xf8);
  gicv_write(GICV_CTLR, 1);
  irqs_on();
}

/* ---- PRNG: xorshift64*, fixed seed, so every run feeds the same chains ------------------------------- */

static u64 prng_state = 0x9e3779b97f4a7c15UL;
static u64 rnd(void) {
  prng_state ^= prng_state >> 12;
  prng_state ^= prng_state << 25;
  prng_state ^= prng_state >> 27;
  return prng_state * 0x2545f4914f6cdd1dUL;
}
static u32 below(u32 n) {
  return (u32)(rnd() % n);
}

/* ---- device setup --------------------------------------------------------------------------------------- */

static void zero(volatile void *p, u64 n) {
  volatile u8 *b = p;
  for (u64 i = 0; i < n; i++) b[i] = 0;
}

static void device_reset(int d) {
  set_reg(d, STATUS, 0);
  EXPECT("Status after reset", reg(d, STATUS), 0);
}

/* The driver initialisation of virtio 1.2 §3.1.1, accepting every offered feature; queues in `mask`. */
static void setup(int d, u32 mask) {
  const struct device *dev = &devices[d];
  device_reset(d);
  EXPECT("MagicValue", reg(d, MAGIC_VALUE), VIRTIO_MMIO_MAGIC);
  EXPECT("Version", reg(d, VERSION), 2);
  EXPECT("DeviceID", reg(d, DEVICE_ID), dev->id);
  set_reg(d, STATUS, S_ACKNOWLEDGE);
  set_reg(d, STATUS, S_ACKNOWLEDGE | S_DRIVER);
  u32 features[2];
  for (u32 sel = 0; sel < 2; sel++) {
    set_reg(d, DEVICE_FEATURES_SEL, sel);
    features[sel] = reg(d, DEVICE_FEATURES);
  }
  for (u32 sel = 0; sel < 2; sel++) {
    set_reg(d, DRIVER_FEATURES_SEL, sel);
    set_reg(d, DRIVER_FEATURES, features[sel]);
  }
  set_reg(d, STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
  EXPECT("FEATURES_OK kept", reg(d, STATUS), S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
  for (u32 i = 0; i < dev->queues; i++) {
    volatile struct vq *q = &queues[d][i];
    zero(q, sizeof *q);
    if (!(mask & (1u << i))) continue;
    set_reg(d, QUEUE_SEL, i);
    EXPECT("QueueReady before setup", reg(d, QUEUE_READY), 0);
    if (reg(d, QUEUE_NUM_MAX) < QSIZE) fail("QueueNumMax", reg(d, QUEUE_NUM_MAX), QSIZE);
    set_reg(d, QUEUE_NUM, QSIZE);
    set_reg(d, QUEUE_DESC_LOW, (u32)(u64)q->desc);
    set_reg(d, QUEUE_DESC_HIGH, (u32)((u64)q->desc >> 32));
    set_reg(d, QUEUE_DRIVER_LOW, (u32)(u64)&q->avail);
    set_reg(d, QUEUE_DRIVER_HIGH, (u32)((u64)&q->avail >> 32));
    set_reg(d, QUEUE_DEVICE_LOW, (u32)(u64)&q->used);
    set_reg(d, QUEUE_DEVICE_HIGH, (u32)((u64)&q->used >> 32));
    set_reg(d, QUEUE_READY, 1);
    EXPECT("QueueReady after setup", reg(d, QUEUE_READY), 1);
  }
  set_reg(d, STATUS, S_RUNNING);
  EXPECT("Status after DRIVER_OK", reg(d, STATUS), S_RUNNING);
  if (d == CONSOLE) console_up = 1;
}

static void setup_all_queues(int d) {
  setup(d, (1u << devices[d].queues) - 1);
}

/* Resets and sets the device up again; the console then says what waited. */
static void recover(int d) {
  if (d == CONSOLE) console_up = 0;
  setup_all_queues(d);
  /* What the old driver left in flight may complete now: it must touch nothing of the new one. */
  u32 isr = 0;
  for (u32 i = 0; i < 100; i++) isr |= reg(d, INTERRUPT_STATUS);
  EXPECT("InterruptStatus of a device just set up", isr, 0);
  for (u32 i = 0; i < devices[d].queues; i++)
    EXPECT("used index of a queue just set up", queues[d][i].used.idx, 0);
  if (d == CONSOLE) flush();
}

static void publish(volatile struct vq *q, u16 head) {
  q->avail.ring[q->avail.idx % QSIZE] = head;
  dsb();
  q->avail.idx = q->avail.idx + 1;
  dsb();
}

/* ---- requests: valid templates, then broken ------------------------------------------------------------ */

struct seg {
  u64 addr;
  u32 len;
  u16 flags; /* VIRTQ_DESC_F_WRITE or 0 */
};

#define MAX_SEGS 6
static const u8 GUEST_MAC[6] = {0x52, 0x54, 0x01, 0x00, 0x00, 0x10};

static void put16(u64 a, u16 v) {
  *(volatile u8 *)a = (u8)v;
  *(volatile u8 *)(a + 1) = (u8)(v >> 8);
}
static void put32(u64 a, u32 v) {
  put16(a, (u16)v);
  put16(a + 2, (u16)(v >> 16));
}

/* A valid request for queue `queue` of device `d` in scratch slot `slot`: its buffers; returns the count. */
static u32 valid_request(int d, u32 queue, u32 slot, struct seg *s) {
  u64 at = SCRATCH + 0x10000 * (u64)(1 + slot);
  switch (d) {
    case CONSOLE: /* transmitq0: a blank line */
      put16(at, 0x0a0d);
      s[0] = (struct seg){at, 2, 0};
      return 1;
    case BLK: /* requestq: read sector 0 */
      zero((volatile void *)at, 16);
      s[0] = (struct seg){at, 16, 0};
      s[1] = (struct seg){at + 0x1000, 512, VIRTQ_DESC_F_WRITE};
      s[2] = (struct seg){at + 0x2000, 1, VIRTQ_DESC_F_WRITE};
      return 3;
    case NET: { /* transmitq1: a broadcast frame of the local experimental EtherType 0x88b5 */
      zero((volatile void *)at, 12 + 60);
      for (u32 i = 0; i < 6; i++) {
        *(volatile u8 *)(at + 12 + i) = 0xff;
        *(volatile u8 *)(at + 12 + 6 + i) = GUEST_MAC[i];
      }
      put16(at + 12 + 12, 0xb588);
      s[0] = (struct seg){at, 12, 0};
      s[1] = (struct seg){at + 12, 60, 0};
      return 2;
    }
    default:
      if (queue == 0) { /* controlq: PCM_INFO of stream 0 */
        put32(at, 0x0100);
        put32(at + 4, 0);
        put32(at + 8, 1);
        put32(at + 12, 32);
        s[0] = (struct seg){at, 16, 0};
        s[1] = (struct seg){at + 0x1000, 4 + 32, VIRTQ_DESC_F_WRITE};
        return 2;
      }
      /* txq: 64 bytes of PCM for stream 0 */
      put32(at, 0);
      s[0] = (struct seg){at, 4, 0};
      s[1] = (struct seg){at + 0x100, 64, 0};
      s[2] = (struct seg){at + 0x1000, 8, VIRTQ_DESC_F_WRITE};
      return 3;
  }
}

/* Descriptor indices in a random order: the chains use them from the front. */
static u16 order[QSIZE];
static u32 order_next;
static void shuffle(void) {
  for (u32 i = 0; i < QSIZE; i++) order[i] = (u16)i;
  for (u32 i = QSIZE - 1; i > 0; i--) {
    u32 j = below(i + 1);
    u16 t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  order_next = 0;
}

/* Writes `n` segments as a chain into the table from the shuffled indices; fills `idx`; returns the head. */
static u16 place(volatile struct vq *q, const struct seg *s, u32 n, u16 *idx) {
  for (u32 i = 0; i < n; i++) idx[i] = order[order_next++];
  for (u32 i = 0; i < n; i++) {
    q->desc[idx[i]].addr = s[i].addr;
    q->desc[idx[i]].len = s[i].len;
    q->desc[idx[i]].flags = (u16)(s[i].flags | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
    q->desc[idx[i]].next = i + 1 < n ? idx[i + 1] : 0;
  }
  return idx[0];
}

static void say_device(int d, u32 queue) {
  say(devices[d].name);
  put(' ');
  say_dec(queue);
}

/* The fault report the VMM must make: "<where>" after the queue (a "has ..." clause has no colon). */
static void expect_report(int d, u32 queue, const char *where, u64 number, const char *tail, u64 number2) {
  say("expect ");
  say_device(d, queue);
  say(": ");
  say(where);
  if (number != (u64)-1) say_dec(number);
  if (tail) {
    say(tail);
    say_dec(number2);
  }
  put('\n');
}

enum broken {
  LOOP,
  NEXT_BEYOND,
  OUTSIDE_RAM,
  HUGE_LENGTH,
  INDIRECT_IN_INDIRECT,
  BAD_INDIRECT,
  AVAIL_JUMP,
  HEAD_BEYOND,
  WRITE_ONLY_HEADER,
  NO_STATUS,
  ZERO_LENGTHS,
  KINDS
};
static const char *const kind_names[KINDS] = {
    "loop", "next beyond the table", "buffer outside RAM", "huge length", "indirect in indirect",
    "bad indirect table", "available index jump", "head beyond the table", "write-only header",
    "no status byte", "zero-length buffers",
};

static u32 cases;

static const u64 OUTSIDE[] = {0x0, 0x1000, 0x08000000, 0x3ffff000, 0x50000000, 0x80000000, 0xfffffffffffff000UL,
                              0x0000ffff00000000UL};

/*
 * One adversarial case: `valid` well-formed requests, then one broken as `kind` says, made available at
 * once. A case that breaks a rule of the queue must end in DEVICE_NEEDS_RESET and a report naming the
 * descriptor; one that does not (zero-length buffers) must complete.
 */
static void adversarial(int d, u32 queue, enum broken kind) {
  volatile struct vq *q = &queues[d][queue];
  struct seg s[MAX_SEGS];
  u16 idx[MAX_SEGS];
  u32 valid = below(3);
  u16 returned = q->used.idx; /* the console's own output went through its transmitq already */
  cases++;
  shuffle();
  say("case ");
  say_dec(cases);
  put(' ');
  say_device(d, queue);
  say(": ");
  say(kind_names[kind]);
  say(" after ");
  say_dec(valid);
  say(" valid\n");
  for (u32 v = 0; v < valid; v++) {
    u32 n = valid_request(d, queue, v, s);
    publish(q, place(q, s, n, idx));
  }
  u32 n = valid_request(d, queue, valid, s);
  int faults = 1;
  isr_seen[d] = 0;
  switch (kind) {
    case LOOP: {
      /* Back to the first device-writable descriptor (or the first), so only the loop is wrong. */
      u32 back = 0;
      for (u32 i = 0; i < n; i++)
        if (s[i].flags & VIRTQ_DESC_F_WRITE) {
          back = i;
          break;
        }
      u16 head = place(q, s, n, idx);
      q->desc[idx[n - 1]].flags |= VIRTQ_DESC_F_NEXT;
      q->desc[idx[n - 1]].next = idx[back];
      /* The walk takes QSIZE descriptors; the one after them is named. */
      u32 at = 0;
      for (u32 step = 0; step < QSIZE; step++) at = at + 1 < n ? at + 1 : back;
      publish(q, head);
      expect_report(d, queue, "descriptor ", idx[at], 0, 0);
      break;
    }
    case NEXT_BEYOND: {
      u32 i = below(n);
      u16 head = place(q, s, n, idx);
      q->desc[idx[i]].flags |= VIRTQ_DESC_F_NEXT;
      q->desc[idx[i]].next = (u16)(QSIZE + below(0x10000 - QSIZE));
      publish(q, head);
      expect_report(d, queue, "descriptor ", idx[i], 0, 0);
      break;
    }
    case OUTSIDE_RAM:
    case HUGE_LENGTH: {
      u32 i = below(n);
      if (kind == OUTSIDE_RAM) {
        s[i].addr = OUTSIDE[below(sizeof OUTSIDE / sizeof OUTSIDE[0])];
        if (s[i].len == 0) s[i].len = 1;
        if (s[i].addr == 0x3ffff000) s[i].len = 0x2000; /* straddles the start of RAM */
      } else {
        u32 pick = below(3);
        s[i].len = pick == 0   ? 0xffffffffu
                   : pick == 1 ? 0x80000000u + below(0x1000)
                               : (u32)(RAM_END - s[i].addr + 1); /* one byte beyond RAM */
      }
      publish(q, place(q, s, n, idx));
      expect_report(d, queue, "descriptor ", idx[i], 0, 0);
      break;
    }
    case INDIRECT_IN_INDIRECT:
    case BAD_INDIRECT: {
      for (u32 i = 0; i < n; i++) {
        indirect[i].addr = s[i].addr;
        indirect[i].len = s[i].len;
        indirect[i].flags = (u16)(s[i].flags | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
        indirect[i].next = (u16)(i + 1);
      }
      u16 head = order[order_next++];
      q->desc[head].addr = (u64)indirect;
      q->desc[head].len = 16 * n;
      q->desc[head].flags = VIRTQ_DESC_F_INDIRECT;
      q->desc[head].next = 0;
      if (kind == INDIRECT_IN_INDIRECT) {
        u32 k = below(n);
        indirect[k].flags |= VIRTQ_DESC_F_INDIRECT;
        publish(q, head);
        expect_report(d, queue, "entry ", k, " of the indirect table in descriptor ", head);
      } else {
        switch (below(5)) {
          case 0:
            q->desc[head].len = 16 * n + 8;
            break;
          case 1:
            q->desc[head].len = 0;
            break;
          case 2:
            q->desc[head].addr = (u64)indirect + 8;
            break;
          case 3:
            q->desc[head].addr = OUTSIDE[below(sizeof OUTSIDE / sizeof OUTSIDE[0])] & ~15UL;
            break;
          default:
            q->desc[head].flags |= VIRTQ_DESC_F_NEXT;
            q->desc[head].next = order[order_next];
            break;
        }
        publish(q, head);
        expect_report(d, queue, "descriptor ", head, 0, 0);
      }
      break;
    }
    case AVAIL_JUMP: {
      publish(q, place(q, s, n, idx));
      q->avail.idx = (u16)(q->avail.idx + QSIZE + below(0x10000 - 2 * QSIZE));
      dsb();
      expect_report(d, queue, "has available-ring idx ", q->avail.idx, 0, 0);
      break;
    }
    case HEAD_BEYOND: {
      u32 entry = q->avail.idx % QSIZE;
      publish(q, (u16)(QSIZE + below(0x10000 - QSIZE)));
      expect_report(d, queue, "available-ring entry ", entry, 0, 0);
      break;
    }
    case WRITE_ONLY_HEADER: {
      s[0].flags = VIRTQ_DESC_F_WRITE;
      publish(q, place(q, s, n, idx));
      /* A readable buffer after it breaks the order; else the device has no request to read. */
      u32 named = n > 1 && !(s[1].flags & VIRTQ_DESC_F_WRITE) ? 1 : 0;
      expect_report(d, queue, "descriptor ", idx[named], 0, 0);
      break;
    }
    case NO_STATUS: {
      u32 readable = 0;
      while (readable < n && !(s[readable].flags & VIRTQ_DESC_F_WRITE)) readable++;
      if (readable < n) { /* drop the device-writable part: no status to answer in */
        publish(q, place(q, s, readable, idx));
        expect_report(d, queue, "descriptor ", idx[0], 0, 0);
      } else { /* a transmit queue: a device-writable buffer it has no use for */
        s[n] = (struct seg){SCRATCH, 16, VIRTQ_DESC_F_WRITE};
        publish(q, place(q, s, n + 1, idx));
        expect_report(d, queue, "descriptor ", idx[n], 0, 0);
      }
      break;
    }
    case ZERO_LENGTHS: {
      if (below(2) && d != CONSOLE) { /* every buffer empty: no room for the header */
        for (u32 i = 0; i < n; i++) s[i].len = 0;
        publish(q, place(q, s, n, idx));
        expect_report(d, queue, "descriptor ", idx[0], 0, 0);
      } else { /* empty buffers between the real ones: a well-formed request */
        struct seg t[MAX_SEGS];
        u32 m = 0;
        for (u32 i = 0; i < n && m < MAX_SEGS; i++) {
          t[m++] = s[i];
          if (m < MAX_SEGS && i + 1 < n && (s[i + 1].flags & VIRTQ_DESC_F_WRITE) == s[i].flags)
            t[m++] = (struct seg){SCRATCH + 0x8000, 0, s[i].flags};
        }
        publish(q, place(q, t, m, idx));
        faults = 0;
      }
      break;
    }
    default:
      break;
  }
  set_reg(d, QUEUE_NOTIFY, queue);
  if (faults) {
    settle(d, queue, 0xffff, 200000); /* only DEVICE_NEEDS_RESET ends it */
    u32 status = reg(d, STATUS);
    u32 isr = reg(d, INTERRUPT_STATUS) | isr_seen[d];
    EXPECT("Status after a broken chain", status, S_RUNNING | S_NEEDS_RESET);
    EXPECT("InterruptStatus configuration change", isr & ISR_CONFIG, ISR_CONFIG);
    if (status & S_NEEDS_RESET) resets_seen[d]++;
  } else {
    if (!settle(d, queue, (u16)(returned + valid + 1), 200000))
      fail("chains returned", q->used.idx, returned + valid + 1);
    EXPECT("Status after a well-formed chain", reg(d, STATUS), S_RUNNING);
    if (d == BLK) EXPECT("blk status byte", *(volatile u8 *)(s[2].addr), 0);
  }
  recover(d);
}

/* ---- rings the device must refuse, queues never set up, random MMIO, random chains ---------------------- */

/* A queue enabled with a size that is not a power of two, or a ring part misaligned or outside RAM. */
static void bad_ring(int d) {
  u32 queue = below(devices[d].queues);
  volatile struct vq *q = &queues[d][queue];
  cases++;
  say("case ");
  say_dec(cases);
  put(' ');
  say_device(d, queue);
  say(": bad ring\n");
  setup(d, 0);
  set_reg(d, STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
  u64 desc = (u64)q->desc, avail = (u64)&q->avail, used = (u64)&q->used;
  u32 num = QSIZE;
  set_reg(d, QUEUE_SEL, queue);
  switch (below(5)) {
    case 0:
      num = below(2) ? 12 : 0x10000 + below(0x1000);
      expect_report(d, queue, "has size ", num, 0, 0);
      break;
    case 1:
      desc += 8;
      expect_report(d, queue, "has its descriptor table at ", (u64)-1, 0, 0);
      break;
    case 2:
      avail = OUTSIDE[below(sizeof OUTSIDE / sizeof OUTSIDE[0])];
      expect_report(d, queue, "has its available ring at ", (u64)-1, 0, 0);
      break;
    case 3:
      used = RAM_END - 4; /* its last part is beyond RAM */
      expect_report(d, queue, "has its used ring at ", (u64)-1, 0, 0);
      break;
    default:
      used += 2;
      expect_report(d, queue, "has its used ring at ", (u64)-1, 0, 0);
      break;
  }
  set_reg(d, QUEUE_NUM, num);
  set_reg(d, QUEUE_DESC_LOW, (u32)desc);
  set_reg(d, QUEUE_DESC_HIGH, (u32)(desc >> 32));
  set_reg(d, QUEUE_DRIVER_LOW, (u32)avail);
  set_reg(d, QUEUE_DRIVER_HIGH, (u32)(avail >> 32));
  set_reg(d, QUEUE_DEVICE_LOW, (u32)used);
  set_reg(d, QUEUE_DEVICE_HIGH, (u32)(used >> 32));
  set_reg(d, QUEUE_READY, 1);
  EXPECT("QueueReady of a refused ring", reg(d, QUEUE_READY), 0);
  u32 status = reg(d, STATUS);
  EXPECT("Status after a refused ring", status, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_NEEDS_RESET);
  if (status & S_NEEDS_RESET) resets_seen[d]++;
  recover(d);
}

static void notify_unset(int d) {
  setup(d, 1); /* queue 0 only */
  static const u32 values[] = {1, 2, 3, 4, 7, 8, 0xffff, 0x10000, 0x7fffffff, 0xffffffff};
  for (u32 i = 0; i < sizeof values / sizeof values[0]; i++) set_reg(d, QUEUE_NOTIFY, values[i]);
  for (u32 i = 0; i < 8; i++) set_reg(d, QUEUE_NOTIFY, (u32)rnd());
  EXPECT("Status after notifying queues never set up", reg(d, STATUS), S_RUNNING);
  say("notified queues never set up: ");
  say(devices[d].name);
  say(" still running\n");
  recover(d);
}

static void random_mmio(int d, u32 accesses) {
  zero((volatile void *)ZONE, ZONE_SIZE);
  for (u32 i = 0; i < accesses; i++) {
    u32 size = 1u << below(4);
    u32 offset = below(WINDOW) & ~(size - 1);
    u64 at = devices[d].base + offset;
    if (below(2)) {
      (void)mmio_read(at, size);
      continue;
    }
    u64 value = rnd();
    /* Queue addresses: the zeroed zone or outside RAM, so no ring a device reads holds anything. */
    if (offset >= QUEUE_DESC_LOW && offset < QUEUE_DEVICE_HIGH + 4 && offset < CONFIG)
      value = below(2) ? ZONE + (value & (ZONE_SIZE / 2 - 1)) : value | 0x80000000UL;
    mmio_write(at, size, value);
  }
  say("random MMIO: ");
  say_dec(accesses);
  say(" accesses to ");
  say(devices[d].name);
  say(", status ");
  say_hex(reg(d, STATUS));
  put('\n');
  recover(d);
}

/* A random buffer: in scratch, outside RAM, across the end of RAM, or huge. */
static void random_buffer(volatile struct virtq_desc *x) {
  u32 pick = below(10);
  u32 len = pick < 5    ? below(4) * 512 + below(40)
            : pick < 7  ? below(3)
            : pick == 7 ? 0x1000 + below(0x8000)
                        : (u32)rnd();
  u64 addr = SCRATCH + below(SCRATCH_SIZE / 2);
  u32 where = below(10);
  if (where == 8) addr = OUTSIDE[below(sizeof OUTSIDE / sizeof OUTSIDE[0])];
  if (where == 9) addr = RAM_END - below(64);
  if (addr >= SCRATCH && addr < SCRATCH + SCRATCH_SIZE && len > SCRATCH + SCRATCH_SIZE - addr &&
      addr + len <= RAM_END)
    len = (u32)(SCRATCH + SCRATCH_SIZE - addr); /* in RAM only within scratch */
  x->addr = addr;
  x->len = len;
  x->flags = (u16)(below(4) == 0 ? VIRTQ_DESC_F_WRITE : 0);
  if (below(3)) x->flags |= VIRTQ_DESC_F_NEXT;
  x->next = (u16)(below(8) ? below(QSIZE) : below(0x10000));
}

static void random_chains(int d, u32 rounds) {
  u32 resets = 0;
  for (u32 r = 0; r < rounds; r++) {
    u32 queue = below(devices[d].queues);
    volatile struct vq *q = &queues[d][queue];
    for (u32 i = 0; i < QSIZE; i++) {
      random_buffer(&q->desc[i]);
      random_buffer(&indirect[i]);
      if (below(12) == 0) {
        q->desc[i].flags = (u16)(VIRTQ_DESC_F_INDIRECT | (below(4) ? 0 : VIRTQ_DESC_F_NEXT));
        q->desc[i].addr = (u64)indirect + (below(8) ? 0 : 8);
        q->desc[i].len = 16 * (1 + below(QSIZE)) + (below(8) ? 0 : 4);
      }
      if (below(16) == 0) indirect[i].flags |= VIRTQ_DESC_F_INDIRECT;
    }
    u32 count = 1 + below(4);
    for (u32 c = 0; c < count; c++) publish(q, (u16)(below(8) ? below(QSIZE) : rnd()));
    if (below(10) == 0) q->avail.idx = (u16)rnd();
    dsb();
    set_reg(d, QUEUE_NOTIFY, below(8) ? queue : below(8));
    settle(d, queue, q->avail.idx, 300);
    if (reg(d, STATUS) & S_NEEDS_RESET) resets++;
    recover(d);
  }
  resets_seen[d] += resets;
  say("random chains: ");
  say_dec(rounds);
  say(" rounds on ");
  say(devices[d].name);
  say(", ");
  say_dec(resets);
  say(" needed a reset\n");
}

/*
 * Well-formed chains with random contents: request types, sectors, stream ids, parameters and lengths drawn
 * from the interesting values, buffers split at random offsets, sometimes behind an indirect table. They
 * break no rule of the queue, so the device must answer each in its own status (never ask for a reset).
 */
static const u32 SND_CODES[] = {0x0100, 0x0101, 0x0102, 0x0103, 0x0104, 0x0105, 0x0001, 0x0002, 0x0200, 0x0106};

static u32 pick_u32(const u32 *values, u32 count) {
  return below(4) ? values[below(count)] : (u32)rnd();
}

/* A request of device `d` in scratch slot `slot` with random contents; returns the segment count. */
static u32 random_request(int d, u32 queue, u32 slot, struct seg *s) {
  u64 at = SCRATCH + 0x10000 * (u64)(1 + slot);
  static const u32 lengths[] = {0, 1, 2, 8, 511, 512, 513, 1024, 4096, 4097, 0x8000, 0xc000};
  switch (d) {
    case CONSOLE: /* what it prints goes to the UART at the UART's pace: short */
      s[0] = (struct seg){at, lengths[below(7)], 0};
      return 1;
    case BLK: {
      static const u32 types[] = {0, 1, 4, 8, 10, 11, 13, 14, 2, 3};
      u32 type = pick_u32(types, sizeof types / sizeof types[0]);
      u64 capacity = *(volatile u32 *)(devices[BLK].base + CONFIG);
      u64 sectors[] = {0, 1, capacity - 1, capacity, capacity + 1, 0x100000000UL, rnd(), below((u32)capacity)};
      u64 sector = sectors[below(sizeof sectors / sizeof sectors[0])];
      if (type == 1 && sector < 8) sector += 8; /* writes keep off the partition's first block, checked last */
      zero((volatile void *)at, 16);
      put32(at, type);
      put32(at + 4, (u32)rnd());
      put32(at + 8, (u32)sector);
      put32(at + 12, (u32)(sector >> 32));
      u32 len = lengths[below(sizeof lengths / sizeof lengths[0])];
      s[0] = (struct seg){at, 16, 0};
      s[1] = (struct seg){at + 0x1000, len, (u16)(type == 1 ? 0 : VIRTQ_DESC_F_WRITE)};
      s[2] = (struct seg){at + 0xf000, 1 + below(2), VIRTQ_DESC_F_WRITE};
      *(volatile u8 *)(at + 0xf000) = 0xee;
      *(volatile u8 *)(at + 0xf001) = 0xee;
      return 3;
    }
    case NET: {
      static const u32 frames[] = {0, 1, 14, 60, 1514, 1515, 9000, 0xc000};
      zero((volatile void *)at, 12);
      s[0] = (struct seg){at, 12, 0};
      s[1] = (struct seg){at + 12, frames[below(sizeof frames / sizeof frames[0])], 0};
      return 2;
    }
    default: {
      u32 stream = below(4) ? below(3) : (u32)rnd();
      if (queue == 0 && below(2)) { /* a request the stream state machine may take: S16, 44.1 or 48 kHz */
        static const u32 codes[] = {0x0101, 0x0102, 0x0103, 0x0104, 0x0105};
        u32 code = codes[below(5)];
        put32(at, code);
        put32(at + 4, below(2));
        put32(at + 8, 4096 << below(2));
        put32(at + 12, 1024 << below(3));
        put32(at + 16, 0);
        put32(at + 20, (1 + below(2)) | 5 << 8 | (6 + below(2)) << 16);
        s[0] = (struct seg){at, code == 0x0101 ? 24 : 8, 0};
        s[1] = (struct seg){at + 0x1000, 4, VIRTQ_DESC_F_WRITE};
        return 2;
      }
      if (queue == 0) {
        u32 code = pick_u32(SND_CODES, sizeof SND_CODES / sizeof SND_CODES[0]);
        put32(at, code);
        put32(at + 4, stream);
        /* PCM_INFO: start, count, size; SET_PARAMS: buffer and period bytes, features, channels, format,
           rate. */
        static const u32 words[] = {0, 1, 2, 32, 64, 4096, 8192, 0x10000, 0xffffffff};
        put32(at + 8, pick_u32(words, sizeof words / sizeof words[0]));
        put32(at + 12, pick_u32(words, sizeof words / sizeof words[0]));
        put32(at + 16, below(4) ? 0 : (u32)rnd());
        put32(at + 20, (below(4) ? 1 + below(2) : below(256)) | below(26) << 8 | below(15) << 16);
        static const u32 sizes[] = {4, 8, 16, 24, 25, 64};
        s[0] = (struct seg){at, sizes[below(sizeof sizes / sizeof sizes[0])], 0};
        s[1] = (struct seg){at + 0x1000, 4 + 32 * below(4), VIRTQ_DESC_F_WRITE};
        return 2;
      }
      put32(at, below(4) ? queue - 2 : stream); /* mostly the stream of the queue's direction */
      u32 len = lengths[below(sizeof lengths / sizeof lengths[0])];
      s[0] = (struct seg){at, 4, 0};
      s[1] = (struct seg){at + 0x100, len, (u16)(queue == 2 ? 0 : VIRTQ_DESC_F_WRITE)};
      s[2] = (struct seg){at + 0xf000, 8, VIRTQ_DESC_F_WRITE};
      return 3;
    }
  }
}

/* Splits buffers at random offsets (at most MAX_SEGS), keeping their order and flags. */
static u32 split(struct seg *s, u32 n) {
  for (u32 i = 0; i < n && n < MAX_SEGS; i++) {
    if (s[i].len < 2 || below(3)) continue;
    u32 cut = 1 + below(s[i].len - 1);
    for (u32 k = n; k > i + 1; k--) s[k] = s[k - 1];
    s[i + 1] = (struct seg){s[i].addr + cut, s[i].len - cut, s[i].flags};
    s[i].len = cut;
    n++;
    i++;
  }
  return n;
}

/* The status a request's last writable bytes hold, or -1 when it has none the device fills. */
static s64 answer_of(int d, u32 queue, const struct seg *s, u32 n) {
  const struct seg *last = &s[n - 1];
  if (!(last->flags & VIRTQ_DESC_F_WRITE)) return -1;
  if (d == BLK) return *(volatile u8 *)(last->addr + last->len - 1);
  if (d != SOUND) return -1;
  /* virtio_snd_hdr at the start of a control response; virtio_snd_pcm_status ends a transfer. */
  u64 a = queue == 0 ? s[n - 1].addr : last->addr + last->len - 8;
  if (queue == 0) {
    for (u32 i = 0; i < n; i++)
      if (s[i].flags & VIRTQ_DESC_F_WRITE) {
        a = s[i].addr;
        if (s[i].len < 4) return -1; /* the header is split: not worth gathering here */
        break;
      }
  } else if (last->len < 8) {
    return -1;
  }
  volatile u8 *b = (volatile u8 *)a;
  return b[0] | b[1] << 8 | b[2] << 16 | (u32)b[3] << 24;
}

static u32 request(int d, u32 queue, const struct seg *s, u32 n);

/* SET_PARAMS (S16 stereo, 48 kHz), PREPARE, maybe RELEASE and PREPARE again, maybe START on output stream
   0, so transfers and the later control requests meet a stream that is prepared or running. */
static void sound_prologue(void) {
  u64 at = SCRATCH + 0xa0000;
  u32 codes[5] = {0x0101, 0x0102}, steps = 2;
  if (below(2)) codes[steps++] = 0x0103, codes[steps++] = 0x0102;
  if (below(2)) codes[steps++] = 0x0104;
  for (u32 i = 0; i < steps; i++) {
    put32(at, codes[i]);
    put32(at + 4, 0);
    put32(at + 8, 8192);
    put32(at + 12, 4096);
    put32(at + 16, 0);
    put32(at + 20, 2 | 5 << 8 | 7 << 16);
    put32(at + 0x1000, 0);
    struct seg control[] = {{at, codes[i] == 0x0101 ? 24 : 8, 0}, {at + 0x1000, 4, VIRTQ_DESC_F_WRITE}};
    request(SOUND, 0, control, 2);
    EXPECT("sound set-up status", *(volatile u32 *)(at + 0x1000), 0x8000);
  }
}

static void random_requests(int d, u32 rounds) {
  u32 answered = 0, statuses[4] = {0, 0, 0, 0};
  for (u32 r = 0; r < rounds; r++) {
    u32 queue = d == SOUND ? (below(2) ? 0 : 2 + below(2)) : devices[d].work_queues[0];
    volatile struct vq *q = &queues[d][queue];
    struct seg reqs[3][MAX_SEGS];
    u32 counts[3];
    u32 count = 1 + below(3);
    if (d == SOUND && below(2)) sound_prologue();
    u16 returned = q->used.idx;
    shuffle();
    for (u32 c = 0; c < count; c++) {
      counts[c] = split(reqs[c], random_request(d, queue, c, reqs[c]));
      if (below(4) == 0 && order_next < QSIZE) { /* behind an indirect table (one per round) */
        u32 n = counts[c];
        volatile struct virtq_desc *table = indirect;
        for (u32 i = 0; i < n; i++)
          table[i] = (struct virtq_desc){reqs[c][i].addr, reqs[c][i].len,
                                   (u16)(reqs[c][i].flags | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)), (u16)(i + 1)};
        u16 head = order[order_next++];
        q->desc[head] = (struct virtq_desc){(u64)indirect, 16 * n, VIRTQ_DESC_F_INDIRECT, 0};
        publish(q, head);
        count = c + 1;
        break;
      }
      u16 idx[MAX_SEGS];
      if (order_next + counts[c] > QSIZE) {
        count = c;
        break;
      }
      publish(q, place(q, reqs[c], counts[c], idx));
    }
    set_reg(d, QUEUE_NOTIFY, queue);
    int all = settle(d, queue, (u16)(returned + count), 20000);
    u32 status = reg(d, STATUS);
    if (status & S_NEEDS_RESET) {
      fail("DEVICE_NEEDS_RESET after well-formed requests", status, S_RUNNING);
      resets_seen[d]++;
    }
    if (all) {
      answered += count;
      for (u32 c = 0; c < count; c++) {
        s64 a = answer_of(d, queue, reqs[c], counts[c]);
        if (a < 0) continue;
        u32 v = d == BLK ? (u32)a : (u32)a - 0x8000;
        if (v > 3 || (d == BLK && v == 3))
          fail("the status a request was answered with", (u64)a, d == BLK ? 0 : 0x8000);
        else statuses[v]++;
      }
    }
    recover(d);
  }
  say("random requests: ");
  say_dec(rounds);
  say(" rounds on ");
  say(devices[d].name);
  say(", ");
  say_dec(answered);
  say(" answered, statuses");
  for (u32 i = 0; i < 4; i++) {
    put(' ');
    say_dec(statuses[i]);
  }
  put('\n');
}

/*
 * Partial writes around one 4 KiB sDDF block, up to three at once (the VMM reads, merges and writes back whole
 * blocks, and keeps requests that share a block in order), then the sectors read back: each holds what the
 * last write to it put there.
 */
static void blk_overlapping_writes(u32 rounds) {
  enum { SPAN = 12 };
  u64 hdr = SCRATCH + 0xb0000, data = SCRATCH + 0xb1000, status = SCRATCH + 0xbf000;
  u64 back = SCRATCH + 0xc4000;
  u8 want[SPAN][4]; /* bytes 0, 128, 256 and 384 of each sector */
  u32 mismatches = 0;
  volatile struct vq *q = &queues[BLK][0];
  for (u32 r = 0; r < rounds; r++) {
    u64 first = 8 * (2 + below(64)) - 2; /* a block's sectors and one more on each side */
    zero((volatile void *)status, 16);
    struct seg read[] = {
        {hdr + 0x30, 16, 0}, {back, SPAN * 512, VIRTQ_DESC_F_WRITE}, {status + 8, 1, VIRTQ_DESC_F_WRITE}};
    zero((volatile void *)(hdr + 0x30), 16);
    put32(hdr + 0x38, (u32)first);
    request(BLK, 0, read, 3);
    for (u32 i = 0; i < SPAN; i++)
      for (u32 k = 0; k < 4; k++) want[i][k] = *(volatile u8 *)(back + 512 * i + 128 * k);
    u32 count = 1 + below(3);
    u16 returned = q->used.idx;
    shuffle();
    for (u32 c = 0; c < count; c++) {
      u32 at = below(SPAN - 1), sectors = 1 + below(3);
      if (at + sectors > SPAN) sectors = SPAN - at;
      u8 pattern = (u8)(1 + below(255));
      zero((volatile void *)(hdr + 0x10 * c), 16);
      put32(hdr + 0x10 * c, 1);
      put32(hdr + 0x10 * c + 8, (u32)(first + at));
      for (u32 i = 0; i < 512 * sectors; i++) *(volatile u8 *)(data + 0x1800 * c + i) = pattern;
      for (u32 i = 0; i < sectors; i++)
        for (u32 k = 0; k < 4; k++) want[at + i][k] = pattern;
      struct seg w[] = {
          {hdr + 0x10 * c, 16, 0}, {data + 0x1800 * c, 512 * sectors, 0}, {status + c, 1, VIRTQ_DESC_F_WRITE}};
      u16 idx[3];
      publish(q, place(q, w, 3, idx));
    }
    set_reg(BLK, QUEUE_NOTIFY, 0);
    if (!settle(BLK, 0, (u16)(returned + count), 2000000))
      fail("overlapping writes returned", q->used.idx, returned + count);
    for (u32 c = 0; c < count; c++) EXPECT("overlapping write status", *(volatile u8 *)(status + c), 0);
    request(BLK, 0, read, 3);
    for (u32 i = 0; i < SPAN; i++)
      for (u32 k = 0; k < 4; k++)
        if (*(volatile u8 *)(back + 512 * i + 128 * k) != want[i][k]) mismatches++;
  }
  EXPECT("bytes that differ from the last write to their sector", mismatches, 0);
  say("blk overlapping writes: ");
  say_dec(rounds);
  say(" rounds, ");
  say_dec(mismatches);
  say(" mismatches\n");
}

/* ---- one valid request per device ---------------------------------------------------------------------- */

/* Makes `n` segments available as one chain on queue `queue` and waits until the device returns it. */
static u32 request(int d, u32 queue, const struct seg *s, u32 n) {
  volatile struct vq *q = &queues[d][queue];
  u16 idx[MAX_SEGS];
  u16 used = q->used.idx;
  shuffle();
  publish(q, place(q, s, n, idx));
  set_reg(d, QUEUE_NOTIFY, queue);
  if (!settle(d, queue, (u16)(used + 1), 2000000)) {
    fail("request returned", q->used.idx, used + 1);
    return 0;
  }
  return q->used.ring[used % QSIZE].len;
}

static void check_blk(void) {
  u64 hdr = SCRATCH + 0xc0000, data = SCRATCH + 0xc1000, status = SCRATCH + 0xc2000;
  const char pattern[] = "written by virtio_fuzz";
  /* Write sector 1, flush, read sectors 0 and 1. */
  zero((volatile void *)hdr, 16);
  put32(hdr, 1);
  put32(hdr + 8, 1);
  zero((volatile void *)data, 1024);
  for (u32 i = 0; i < sizeof pattern - 1; i++) *(volatile u8 *)(data + i) = (u8)pattern[i];
  *(volatile u8 *)status = 0xff;
  request(BLK, 0, (struct seg[]){{hdr, 16, 0}, {data, 512, 0}, {status, 1, VIRTQ_DESC_F_WRITE}}, 3);
  EXPECT("blk write status", *(volatile u8 *)status, 0);
  put32(hdr, 4);
  put32(hdr + 8, 0);
  *(volatile u8 *)status = 0xff;
  request(BLK, 0, (struct seg[]){{hdr, 16, 0}, {status, 1, VIRTQ_DESC_F_WRITE}}, 2);
  EXPECT("blk flush status", *(volatile u8 *)status, 0);
  put32(hdr, 0);
  zero((volatile void *)data, 1024);
  *(volatile u8 *)status = 0xff;
  struct seg read[] = {{hdr, 16, 0}, {data, 1024, VIRTQ_DESC_F_WRITE}, {status, 1, VIRTQ_DESC_F_WRITE}};
  u32 got = request(BLK, 0, read, 3);
  EXPECT("blk read status", *(volatile u8 *)status, 0);
  EXPECT("blk read length", got, 1025);
  volatile u8 *b = (volatile u8 *)data;
  for (u32 i = 0; i < sizeof pattern - 1; i++) EXPECT("blk sector 1 read back", b[512 + i], (u8)pattern[i]);
  say("blk ok: sector 0 ends ");
  say_hex(b[510]);
  put(' ');
  say_hex(b[511]);
  say(", sector 1 reads back \"");
  for (u32 i = 0; i < sizeof pattern - 1; i++) put((char)b[512 + i]);
  say("\"\n");
}

static void check_net(void) {
  /* Receive buffers, then an ARP request for the gateway 10.0.2.2 from 10.0.2.15. */
  volatile struct vq *rx = &queues[NET][0];
  for (u32 i = 0; i < 4; i++) {
    rx->desc[i] = (struct virtq_desc){(u64)netbuf[i], sizeof netbuf[i], VIRTQ_DESC_F_WRITE, 0};
    publish(rx, (u16)i);
  }
  set_reg(NET, QUEUE_NOTIFY, 0);
  u64 f = SCRATCH + 0xd0000;
  static const u8 arp[42] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x01, 0x00, 0x00, 0x10, 0x08, 0x06,
                             0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x52, 0x54, 0x01, 0x00, 0x00, 0x10,
                             10,   0,    2,    15,   0,    0,    0,    0,    0,    0,    10,   0,    2,    2};
  zero((volatile void *)f, 12 + 60);
  for (u32 i = 0; i < sizeof arp; i++) *(volatile u8 *)(f + 12 + i) = arp[i];
  request(NET, 1, (struct seg[]){{f, 12 + 60, 0}}, 1);
  for (u16 seen = 0; seen < 4; seen++) {
    if (rx->used.idx == seen && !settle(NET, 0, (u16)(seen + 1), 2000000)) break;
    volatile u8 *frame = netbuf[rx->used.ring[seen % QSIZE].id % 4] + 12;
    if (frame[12] == 0x08 && frame[13] == 0x06 && frame[21] == 2 && frame[28] == 10 && frame[31] == 2) {
      say("net ok: ARP reply, 10.0.2.2 is at ");
      for (u32 i = 0; i < 6; i++) {
        if (i) put(':');
        put("0123456789abcdef"[frame[22 + i] >> 4]);
        put("0123456789abcdef"[frame[22 + i] & 0xf]);
      }
      put('\n');
      return;
    }
    say("net: received EtherType ");
    say_hex((u32)frame[12] << 8 | frame[13]);
    say(" from ");
    for (u32 i = 0; i < 6; i++) say_hex(frame[6 + i]);
    put('\n');
  }
  fail("ARP reply from 10.0.2.2", rx->used.idx, 1);
}

static void check_sound(void) {
  u32 streams = reg(SOUND, CONFIG + 4);
  if (streams > 8) streams = 8;
  u64 req = SCRATCH + 0xe0000, resp = SCRATCH + 0xe1000;
  put32(req, 0x0100);
  put32(req + 4, 0);
  put32(req + 8, streams);
  put32(req + 12, 32);
  zero((volatile void *)resp, 4 + 32 * 8);
  u32 got = request(SOUND, 0, (struct seg[]){{req, 16, 0}, {resp, 4 + 32 * streams, VIRTQ_DESC_F_WRITE}}, 2);
  volatile u8 *r = (volatile u8 *)resp;
  u32 status = r[0] | r[1] << 8 | r[2] << 16 | (u32)r[3] << 24;
  EXPECT("sound PCM_INFO status", status, 0x8000);
  EXPECT("sound PCM_INFO length", got, 4 + 32 * streams);
  if (streams == 0) fail("sound streams", 0, 1);
  say("sound ok: PCM_INFO answered for ");
  say_dec(streams);
  say(" streams, stream 0 ");
  /* struct virtio_snd_pcm_info: direction at 24, channels_min and channels_max after it. */
  say(r[4 + 24] == 0 ? "output" : "input");
  say(", channels ");
  say_dec(r[4 + 25]);
  put('-');
  say_dec(r[4 + 26]);
  put('\n');
}

/* Console input: receive buffers, then wait for a line the test types. */
static void check_console_input(void) {
  volatile struct vq *rx = &queues[CONSOLE][0];
  u64 buf = SCRATCH + 0xf0000;
  for (u32 i = 0; i < 4; i++) {
    rx->desc[i] = (struct virtq_desc){buf + 256 * i, 256, VIRTQ_DESC_F_WRITE, 0};
    publish(rx, (u16)i);
  }
  set_reg(CONSOLE, QUEUE_NOTIFY, 0);
  say("console: waiting for input\n");
  flush();
  char line[64];
  u32 len = 0;
  u16 seen = 0;
  for (u32 polls = 0; polls < 50000000; polls++) {
    dsb();
    if (rx->used.idx == seen) {
      u32 isr = reg(CONSOLE, INTERRUPT_STATUS);
      if (isr) set_reg(CONSOLE, INTERRUPT_ACK, isr);
      continue;
    }
    u32 id = rx->used.ring[seen % QSIZE].id % 4, n = rx->used.ring[seen % QSIZE].len;
    volatile u8 *b = (volatile u8 *)(buf + 256 * id);
    seen++;
    for (u32 i = 0; i < n; i++) {
      if (b[i] == '\r' || b[i] == '\n') {
        if (len == 0) continue;
        say("console ok: received \"");
        for (u32 k = 0; k < len; k++) put(line[k]);
        say("\"\n");
        return;
      }
      if (len < sizeof line) line[len++] = (char)b[i];
    }
    rx->desc[id] = (struct virtq_desc){buf + 256 * id, 256, VIRTQ_DESC_F_WRITE, 0};
    publish(rx, (u16)id);
    set_reg(CONSOLE, QUEUE_NOTIFY, 0);
  }
  fail("console input", len, 1);
}

int main(void) {
  on_exception = on_exception_or_irq;
  /* '~': what random console chains print; as a block request's type, one no device knows. */
  for (u64 a = SCRATCH; a < SCRATCH + SCRATCH_SIZE; a += 8) *(volatile u64 *)a = 0x7e7e7e7e7e7e7e7eUL;
  for (int d = 0; d < DEVICES; d++) setup_all_queues(d);
  interrupts_on();
  say("virtio_fuzz: seed ");
  say_hex(prng_state);
  say(", console, blk, net and sound set up\n");
  flush();

  for (int d = 0; d < DEVICES; d++) {
    for (u32 w = 0; w < devices[d].work_count; w++)
      for (u32 k = 0; k < KINDS; k++) adversarial(d, devices[d].work_queues[w], (enum broken)k);
    for (u32 r = 0; r < 30; r++)
      adversarial(d, devices[d].work_queues[below(devices[d].work_count)], (enum broken)below(KINDS));
    for (u32 r = 0; r < 5; r++) bad_ring(d);
    notify_unset(d);
    random_mmio(d, 2000);
    random_requests(d, 200);
    random_chains(d, 200);
    say("reset seen ");
    say(devices[d].name);
    put(' ');
    say_dec(resets_seen[d]);
    put('\n');
    flush();
  }

  say("console ok: still writing\n");
  blk_overlapping_writes(40);
  check_blk();
  check_net();
  check_sound();
  for (int d = 0; d < DEVICES; d++) EXPECT("Status at the end", reg(d, STATUS), S_RUNNING);
  say("interrupts:");
  for (int d = 0; d < DEVICES; d++) {
    put(' ');
    say(devices[d].name);
    put(' ');
    say_dec(irqs[d]);
  }
  say(", with nothing in InterruptStatus:");
  for (int d = 0; d < DEVICES; d++) {
    put(' ');
    say_dec(empty_irqs[d]);
  }
  put('\n');
  say("fuzz cases ");
  say_dec(cases);
  say(", failures ");
  say_dec(failures);
  put('\n');
  check_console_input();
  say(failures ? "virtio_fuzz: FAILED\n" : "virtio_fuzz: done\n");
  flush();
  power_off();
}
