// The CPU benchmark's workload: xorshift fill, heapsort and a table-driven CRC-32 over 16 KiB, repeated.
// Compiled once into one object that both the Linux (qemu-aarch64) and the bare-metal (virtkit)
// programs link, so both run exactly the same instructions.
typedef unsigned long u64;
typedef unsigned int u32;
typedef unsigned char u8;

#define N 4096

static u32 data[N];
static u32 crc_table[256];
static u64 state;

static u32 next_random(void) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return (u32)(state >> 32);
}

static void crc_init(void) {
  for (u32 i = 0; i < 256; i++) {
    u32 c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
    crc_table[i] = c;
  }
}

static u32 crc32(const u8 *p, u64 n) {
  u32 c = 0xffffffffu;
  for (u64 i = 0; i < n; i++) c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

static void sift_down(u32 *a, u64 start, u64 end) {
  u64 root = start;
  while (2 * root + 1 < end) {
    u64 child = 2 * root + 1;
    if (child + 1 < end && a[child] < a[child + 1]) child++;
    if (a[root] >= a[child]) return;
    u32 t = a[root];
    a[root] = a[child];
    a[child] = t;
    root = child;
  }
}

static void heapsort(u32 *a, u64 n) {
  for (u64 i = n / 2; i-- > 0;) sift_down(a, i, n);
  for (u64 end = n; end-- > 1;) {
    u32 t = a[0];
    a[0] = a[end];
    a[end] = t;
    sift_down(a, 0, end);
  }
}

u64 workload(u64 iterations) {
  state = 0x9e3779b97f4a7c15UL;
  crc_init();
  u64 sum = 0;
  for (u64 it = 0; it < iterations; it++) {
    for (u64 i = 0; i < N; i++) data[i] = next_random();
    heapsort(data, N);
    sum = sum * 31 + crc32((const u8 *)data, sizeof data) + data[it % N];
  }
  return sum;
}
