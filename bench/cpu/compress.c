// The CPU benchmark's second workload, which is not one tight loop: LZ77 (LZSS) compression with hash
// chains of generated text, then decompression and a check of the round trip, repeated on new text.
// Data-dependent branches, byte loads and stores, short copy loops and calls, as in real programs.
// Compiled once into one object that both the Linux (qemu-aarch64) and the bare-metal (virtkit)
// programs link, as workload.c is.
typedef unsigned long u64;
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

#define TEXT_SIZE 16384
/** Matches reach back at most this far (12-bit offsets) and are 3..18 bytes long (4-bit lengths). */
#define WINDOW 4096
#define MIN_MATCH 3
#define MAX_MATCH 18
#define HASH_BITS 12
/** How many earlier occurrences of a 3-byte prefix are tried for the longest match. */
#define MAX_CHAIN 24

static u8 text[TEXT_SIZE];
/** A flag byte per 8 items (bit set: a match), a literal byte or a 2-byte match each. */
static u8 packed[TEXT_SIZE + TEXT_SIZE / 8 + 16];
static u8 unpacked[TEXT_SIZE];
/** The latest position + 1 of each 3-byte hash (0: none), and each position's previous one. */
static u16 head[1 << HASH_BITS];
static u16 prev[TEXT_SIZE];
static u64 state;

static const char *const words[] = {
    "the",   "seL4",   "kernel", "protection", "domain", "channel", "memory", "region",
    "guest", "vcpu",   "fault",  "notify",     "map",    "irq",     "a",      "of",
    "to",    "and",    "ppc",    "virtual",    "Linux",  "boots",   "on",     "microkit",
};

static u32 next_random(void) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return (u32)(state >> 32);
}

/** Words from the list, some with numbers, separated by spaces, commas and full stops. */
static void generate_text(void) {
  u64 n = 0;
  while (n < TEXT_SIZE) {
    u32 r = next_random();
    const char *w = words[r % (sizeof words / sizeof words[0])];
    while (*w && n < TEXT_SIZE) text[n++] = (u8)*w++;
    if ((r >> 8) % 7 == 0 && n < TEXT_SIZE) text[n++] = (u8)('0' + (r >> 12) % 10);
    u32 sep = (r >> 16) % 16;
    if (sep == 0 && n < TEXT_SIZE) text[n++] = '.';
    if (sep == 1 && n < TEXT_SIZE) text[n++] = ',';
    if (n < TEXT_SIZE) text[n++] = sep == 0 ? '\n' : ' ';
  }
}

static u32 hash3(const u8 *p) {
  return ((u32)p[0] << 8 ^ (u32)p[1] << 4 ^ p[2]) * 2654435761u >> (32 - HASH_BITS);
}

static void insert(u64 pos, u64 n) {
  if (pos + MIN_MATCH > n) return;
  u32 h = hash3(text + pos);
  prev[pos] = head[h];
  head[h] = (u16)(pos + 1);
}

/** Compresses text[0..n) into packed; returns the packed size. */
static u64 compress(u64 n) {
  for (u32 i = 0; i < (1u << HASH_BITS); i++) head[i] = 0;
  u64 out = 0, flags_at = 0;
  u32 items = 0;
  u64 pos = 0;
  while (pos < n) {
    if (items == 0) {
      flags_at = out++;
      packed[flags_at] = 0;
    }
    u64 best_len = 0, best_offset = 0;
    if (pos + MIN_MATCH <= n) {
      u64 limit = n - pos < MAX_MATCH ? n - pos : MAX_MATCH;
      u32 candidate = head[hash3(text + pos)];
      for (u32 chain = 0; candidate != 0 && chain < MAX_CHAIN; chain++) {
        u64 at = candidate - 1;
        if (pos - at > WINDOW) break;
        u64 len = 0;
        while (len < limit && text[at + len] == text[pos + len]) len++;
        if (len > best_len) {
          best_len = len;
          best_offset = pos - at;
          if (len == limit) break;
        }
        candidate = prev[at];
      }
    }
    if (best_len >= MIN_MATCH) {
      packed[flags_at] |= (u8)(1u << items);
      packed[out++] = (u8)(best_offset - 1);
      packed[out++] = (u8)(((best_offset - 1) >> 8) | ((best_len - MIN_MATCH) << 4));
      for (u64 end = pos + best_len; pos < end; pos++) insert(pos, n);
    } else {
      packed[out++] = text[pos];
      insert(pos, n);
      pos++;
    }
    items = (items + 1) & 7;
  }
  return out;
}

/** Decompresses packed into unpacked until n bytes are out. */
static void decompress(u64 n) {
  u64 in = 0, out = 0;
  while (out < n) {
    u8 flags = packed[in++];
    for (u32 i = 0; i < 8 && out < n; i++) {
      if (flags & (1u << i)) {
        u32 low = packed[in++], high = packed[in++];
        u64 offset = (low | (high & 15) << 8) + 1;
        for (u32 len = (high >> 4) + MIN_MATCH; len > 0; len--, out++) unpacked[out] = unpacked[out - offset];
      } else {
        unpacked[out++] = packed[in++];
      }
    }
  }
}

/** A checksum over every iteration's packed bytes and size; 0 if any round trip came back different. */
u64 workload(u64 iterations) {
  state = 0x2545f4914f6cdd1dUL;
  u64 sum = 0xcbf29ce484222325UL;
  for (u64 it = 0; it < iterations; it++) {
    generate_text();
    u64 size = compress(TEXT_SIZE);
    decompress(TEXT_SIZE);
    for (u64 i = 0; i < TEXT_SIZE; i++) {
      if (unpacked[i] != text[i]) return 0;
    }
    for (u64 i = 0; i < size; i++) sum = (sum ^ packed[i]) * 0x100000001b3UL;
    sum = (sum ^ size) * 0x100000001b3UL;
  }
  return sum;
}
