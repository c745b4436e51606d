// A bare-metal virtio-net driver for the NIC in QEMU virt's virtio-mmio slot 31 (0xa003e00, INTID 79), modern
// transport: refused and accepted feature negotiation, RX and TX queues, a frame out and its answer back by
// interrupt, then a transmit buffer outside RAM that must make the device ask for a reset.
#include "lib/gicv.h"
#include "lib/virtio_mmio.h"

#define NIC 0x0a003e00UL
#define NIC_INTID 79

#define F_CSUM (1u << 0)
#define F_MAC (1u << 5)
#define F_STATUS (1u << 16)
#define F_VERSION_1_HIGH (1u << 0) /* bit 32 */

#define NET_HDR 12
#define QSIZE 8
#define BUF 1536

struct queue {
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

static volatile struct queue rxq __attribute__((aligned(4096)));
static volatile struct queue txq __attribute__((aligned(4096)));
static volatile u8 rx_buf[2][BUF] __attribute__((aligned(16)));
static volatile u8 tx_buf[BUF] __attribute__((aligned(16)));

static volatile u32 irqs, isr_seen;

static u32 nic_read(u64 offset) {
  return *(volatile u32 *)(NIC + offset);
}

static void nic_write(u64 offset, u32 value) {
  *(volatile u32 *)(NIC + offset) = value;
}

static void put_hex8(u32 v) {
  console_putc("0123456789abcdef"[(v >> 4) & 0xf]);
  console_putc("0123456789abcdef"[v & 0xf]);
}

static void put_hex32(u32 v) {
  console_puts("0x");
  for (int i = 28; i >= 0; i -= 4) console_putc("0123456789abcdef"[(v >> i) & 0xf]);
}

static void put_dec(u32 v) {
  char digits[10];
  int n = 0;
  do digits[n++] = (char)('0' + v % 10), v /= 10;
  while (v);
  while (n) console_putc(digits[--n]);
}

/* The interrupt handler of Linux's virtio_mmio: read InterruptStatus, acknowledge exactly that. */
static int irq_hook(struct frame *f, unsigned vector) {
  (void)f;
  if (vector != VEC_EL1_IRQ) return 0;
  u32 iar = gicv_read(GICV_IAR);
  if ((iar & 0x3ff) == NIC_INTID) {
    u32 isr = nic_read(INTERRUPT_STATUS);
    nic_write(INTERRUPT_ACK, isr);
    isr_seen |= isr;
    irqs++;
  }
  gicv_write(GICV_EOIR, iar);
  return 1;
}

static void negotiate(u32 low, u32 high) {
  nic_write(STATUS, 0);
  nic_write(STATUS, S_ACKNOWLEDGE);
  nic_write(STATUS, S_ACKNOWLEDGE | S_DRIVER);
  nic_write(DRIVER_FEATURES_SEL, 1);
  nic_write(DRIVER_FEATURES, high);
  nic_write(DRIVER_FEATURES_SEL, 0);
  nic_write(DRIVER_FEATURES, low);
  nic_write(STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
}

static void setup_queue(u32 index, volatile struct queue *q) {
  nic_write(QUEUE_SEL, index);
  CHECK_EQ(0x20 + index, nic_read(QUEUE_READY), 0);
  CHECK_EQ(0x22 + index, nic_read(QUEUE_NUM_MAX) >= QSIZE, 1);
  nic_write(QUEUE_NUM, QSIZE);
  nic_write(QUEUE_DESC_LOW, (u32)(u64)q->desc);
  nic_write(QUEUE_DESC_HIGH, (u32)((u64)q->desc >> 32));
  nic_write(QUEUE_DRIVER_LOW, (u32)(u64)&q->avail);
  nic_write(QUEUE_DRIVER_HIGH, (u32)((u64)&q->avail >> 32));
  nic_write(QUEUE_DEVICE_LOW, (u32)(u64)&q->used);
  nic_write(QUEUE_DEVICE_HIGH, (u32)((u64)&q->used >> 32));
  nic_write(QUEUE_READY, 1);
  CHECK_EQ(0x24 + index, nic_read(QUEUE_READY), 1);
}

static void set_desc(volatile struct queue *q, u32 i, u64 addr, u32 len, u16 flags, u16 next) {
  q->desc[i].addr = addr;
  q->desc[i].len = len;
  q->desc[i].flags = flags;
  q->desc[i].next = next;
}

/* Makes chain `head` available and tells the device. */
static void publish(volatile struct queue *q, u32 index, u16 head) {
  q->avail.ring[q->avail.idx % QSIZE] = head;
  dsb();
  q->avail.idx = q->avail.idx + 1;
  dsb();
  nic_write(QUEUE_NOTIFY, index);
}

/* Sleeps until an interrupt delivered bit `bit` of InterruptStatus (the host skips idle WFIs). */
static void wait_for(u32 bit, u32 code) {
  for (int i = 0; i < 1000 && !(isr_seen & bit); i++) asm volatile("wfi" ::: "memory");
  CHECK_EQ(code, isr_seen & bit, bit);
}

int main(void) {
  static const u8 payload[] = "hello from the guest";
  on_exception = irq_hook;
  gicv_write(GICV_PMR, 0xf8);
  gicv_write(GICV_CTLR, 1);

  CHECK_EQ(1, nic_read(MAGIC_VALUE), VIRTIO_MMIO_MAGIC);
  CHECK_EQ(2, nic_read(VERSION), 2);
  CHECK_EQ(3, nic_read(DEVICE_ID), 1);
  nic_write(DEVICE_FEATURES_SEL, 1);
  u32 high = nic_read(DEVICE_FEATURES);
  nic_write(DEVICE_FEATURES_SEL, 0);
  u32 low = nic_read(DEVICE_FEATURES);
  console_puts("virtio-net: version 2, device features ");
  put_hex32(high);
  console_putc(' ');
  put_hex32(low);
  console_putc('\n');

  /* CSUM is not offered: the device must leave FEATURES_OK clear. */
  negotiate(F_CSUM | F_MAC, F_VERSION_1_HIGH);
  CHECK_EQ(4, nic_read(STATUS), S_ACKNOWLEDGE | S_DRIVER);
  console_puts("FEATURES_OK refused for CSUM\n");
  negotiate(F_MAC | F_STATUS, F_VERSION_1_HIGH);
  CHECK_EQ(5, nic_read(STATUS), S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
  console_puts("FEATURES_OK accepted for MAC STATUS VERSION_1\n");

  /* The configuration space as virtio_net reads it: the MAC byte by byte, the status as a 16-bit load. */
  u8 mac[6];
  console_puts("mac ");
  for (int i = 0; i < 6; i++) {
    mac[i] = *(volatile u8 *)(NIC + CONFIG + i);
    if (i) console_putc(':');
    put_hex8(mac[i]);
  }
  u16 link = *(volatile u16 *)(NIC + CONFIG + 6);
  console_puts(link & 1 ? ", link up\n" : ", link down\n");

  setup_queue(0, &rxq);
  setup_queue(1, &txq);
  nic_write(STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);

  /* Two receive buffers, device-writable, header and frame together (Linux's small buffers). */
  for (u32 i = 0; i < 2; i++) {
    set_desc(&rxq, i, (u64)rx_buf[i], NET_HDR + 1514, VIRTQ_DESC_F_WRITE, 0);
    rxq.avail.ring[i] = (u16)i;
  }
  dsb();
  rxq.avail.idx = 2;
  dsb();
  nic_write(QUEUE_NOTIFY, 0);

  /* A broadcast frame of the local experimental EtherType 0x88b5: the header in one descriptor, the frame in another. */
  volatile u8 *eth = tx_buf + 64;
  for (int i = 0; i < NET_HDR; i++) tx_buf[i] = 0;
  for (int i = 0; i < 6; i++) eth[i] = 0xff, eth[6 + i] = mac[i];
  eth[12] = 0x88;
  eth[13] = 0xb5;
  u32 frame_len = 14;
  for (u32 i = 0; i < sizeof payload - 1; i++) eth[frame_len++] = payload[i];
  set_desc(&txq, 0, (u64)tx_buf, NET_HDR, VIRTQ_DESC_F_NEXT, 1);
  set_desc(&txq, 1, (u64)eth, frame_len, 0, 0);
  publish(&txq, 1, 0);
  console_puts("sent ");
  put_dec(frame_len);
  console_puts(" bytes\n");

  /* The host's wire answers at once; its interrupt is taken when IRQs are unmasked. */
  irqs_on();
  wait_for(1, 6);
  CHECK_EQ(7, txq.used.idx, 1);
  CHECK_EQ(8, txq.used.ring[0].id, 0);
  CHECK_EQ(9, rxq.used.idx, 1);
  CHECK_EQ(10, rxq.used.ring[0].id, 0);
  u32 got = rxq.used.ring[0].len;
  volatile u8 *rx = rx_buf[0];
  CHECK_EQ(11, rx[0] | rx[1] | rx[2] | rx[3] | rx[4] | rx[5] | rx[6] | rx[7] | rx[8] | rx[9], 0);
  CHECK_EQ(12, rx[10] | (rx[11] << 8), 1); /* num_buffers */
  for (int i = 0; i < 6; i++) CHECK_EQ(13, rx[NET_HDR + i], mac[i]);
  console_puts("received ");
  put_dec(got - NET_HDR);
  console_puts(" bytes from ");
  for (int i = 0; i < 6; i++) {
    if (i) console_putc(':');
    put_hex8(rx[NET_HDR + 6 + i]);
  }
  console_puts(": ");
  for (u32 i = NET_HDR + 14; i < got; i++) console_putc((char)rx[i]);
  console_putc('\n');
  console_puts("interrupts ");
  put_dec(irqs);
  console_puts(", InterruptStatus now ");
  put_dec(nic_read(INTERRUPT_STATUS));
  console_putc('\n');

  /* A transmit buffer outside RAM: the device stops the queue, sets DEVICE_NEEDS_RESET and says so. */
  isr_seen = 0;
  set_desc(&txq, 2, 0x10000000UL, 64, 0, 0);
  publish(&txq, 1, 2);
  wait_for(2, 14);
  u32 status = nic_read(STATUS);
  CHECK_EQ(15, status & S_NEEDS_RESET, S_NEEDS_RESET);
  CHECK_EQ(16, txq.used.idx, 1);
  console_puts("malformed chain: status ");
  put_hex32(status);
  console_putc('\n');
  nic_write(STATUS, 0);
  CHECK_EQ(17, nic_read(STATUS), 0);
  console_puts("reset: status 0\n");
  return 0;
}
