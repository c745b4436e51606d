// What the example's components must agree on beyond the .system file: queue capacities and the guest's MAC.

/** Entries in each block request/response queue (a 4 KiB region holds 64 32-byte requests). */
export const BLK_QUEUE_CAPACITY = 64;
/** Buffers in each net queue (8 KiB regions), and 2 KiB buffers in each data region (512 KiB). */
export const NET_QUEUE_CAPACITY = 256;
/** The guest's eth0, which the RX virtualiser routes frames by. */
export const GUEST_MAC = "52:54:01:00:00:10";
