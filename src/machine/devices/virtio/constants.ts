// virtio 1.2 facts, once: MMIO registers, status and feature bits, split rings, device IDs, virtio-net.

/** "virt" in little-endian ASCII: what MagicValue reads on every virtio-mmio transport. */
export const VIRTIO_MMIO_MAGIC = 0x74726976;
/** Version register: 1 is the legacy interface (virtio 1.2 §4.2.4), 2 the modern one (§4.2.2). */
export const VIRTIO_MMIO_VERSION_LEGACY = 1;
export const VIRTIO_MMIO_VERSION_MODERN = 2;
/** VendorID "QEMU", as QEMU's virt machine reports it (Linux ignores the vendor). */
export const VIRTIO_VENDOR_QEMU = 0x554d4551;
/** Size of one virtio-mmio register window on QEMU's virt machine. */
export const VIRTIO_MMIO_WINDOW = 0x200;

/** Register offsets of the virtio-mmio transport (virtio 1.2 §4.2.2 and, for legacy, §4.2.4). */
export const VirtioMmio = {
  MagicValue: 0x000,
  Version: 0x004,
  DeviceID: 0x008,
  VendorID: 0x00c,
  /** Legacy name: HostFeatures. */
  DeviceFeatures: 0x010,
  /** Legacy name: HostFeaturesSel. */
  DeviceFeaturesSel: 0x014,
  /** Legacy name: GuestFeatures. */
  DriverFeatures: 0x020,
  /** Legacy name: GuestFeaturesSel. */
  DriverFeaturesSel: 0x024,
  /** Legacy only: the page size QueuePFN counts in. */
  GuestPageSize: 0x028,
  QueueSel: 0x030,
  QueueNumMax: 0x034,
  QueueNum: 0x038,
  /** Legacy only: alignment of the used ring. */
  QueueAlign: 0x03c,
  /** Legacy only: page number of the queue's first page; 0 means the queue is not in use. */
  QueuePFN: 0x040,
  /** Modern only. */
  QueueReady: 0x044,
  QueueNotify: 0x050,
  InterruptStatus: 0x060,
  InterruptACK: 0x064,
  Status: 0x070,
  /** Modern only: the descriptor area (QueueDescLow/High). */
  QueueDescLow: 0x080,
  QueueDescHigh: 0x084,
  /** Modern only: the driver area, the available ring (QueueDriverLow/High; Linux: QUEUE_AVAIL). */
  QueueDriverLow: 0x090,
  QueueDriverHigh: 0x094,
  /** Modern only: the device area, the used ring (QueueDeviceLow/High; Linux: QUEUE_USED). */
  QueueDeviceLow: 0x0a0,
  QueueDeviceHigh: 0x0a4,
  /** Modern only: shared memory regions (none here). */
  SHMSel: 0x0ac,
  SHMLenLow: 0x0b0,
  SHMLenHigh: 0x0b4,
  SHMBaseLow: 0x0b8,
  SHMBaseHigh: 0x0bc,
  /** Modern only (VIRTIO_F_RING_RESET, not offered here). */
  QueueReset: 0x0c0,
  /** Modern only. */
  ConfigGeneration: 0x0fc,
  /** The device-specific configuration space starts here. */
  Config: 0x100,
} as const;

/** Device status bits (virtio 1.2 §2.1). */
export const VirtioStatus = {
  ACKNOWLEDGE: 0x01,
  DRIVER: 0x02,
  DRIVER_OK: 0x04,
  FEATURES_OK: 0x08,
  DEVICE_NEEDS_RESET: 0x40,
  FAILED: 0x80,
} as const;

/** InterruptStatus / InterruptACK bits (virtio 1.2 §4.2.2). */
export const VirtioInterrupt = {
  /** Used Buffer Notification: some queue has new used buffers. */
  USED_BUFFER: 0x1,
  /** Configuration Change Notification (also how DEVICE_NEEDS_RESET is announced). */
  CONFIG_CHANGE: 0x2,
} as const;

/** Device-independent feature bits (virtio 1.2 §6), as bit numbers. */
export const VirtioFeature = {
  /** Legacy only: the device also notifies when a queue runs empty. */
  NOTIFY_ON_EMPTY: 24,
  /** Legacy only: no assumptions about how buffers are split into descriptors. */
  ANY_LAYOUT: 27,
  INDIRECT_DESC: 28,
  EVENT_IDX: 29,
  VERSION_1: 32,
  ACCESS_PLATFORM: 33,
  RING_PACKED: 34,
  IN_ORDER: 35,
  ORDER_PLATFORM: 36,
  SR_IOV: 37,
  NOTIFICATION_DATA: 38,
  NOTIF_CONFIG_DATA: 39,
  RING_RESET: 40,
} as const;

/** A feature set with the given bit numbers. */
export function featureBits(...bits: number[]): bigint {
  let set = 0n;
  for (const bit of bits) set |= 1n << BigInt(bit);
  return set;
}

/** Device IDs (virtio 1.2 §5). */
export const VirtioDeviceId = {
  NET: 1,
  BLOCK: 2,
  CONSOLE: 3,
  ENTROPY: 4,
  SOUND: 25,
} as const;

/** Split-virtqueue descriptor flags (virtio 1.2 §2.7.5). */
export const VIRTQ_DESC_F_NEXT = 1;
export const VIRTQ_DESC_F_WRITE = 2;
export const VIRTQ_DESC_F_INDIRECT = 4;
/** Available-ring flag: the driver does not want used-buffer notifications (without EVENT_IDX). */
export const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
/** Used-ring flag: the device does not want available-buffer notifications (without EVENT_IDX). */
export const VIRTQ_USED_F_NO_NOTIFY = 1;
/** Bytes of one descriptor: le64 addr, le32 len, le16 flags, le16 next. */
export const VIRTQ_DESC_SIZE = 16;
/** Bytes of one used-ring element: le32 id, le32 len. */
export const VIRTQ_USED_ELEM_SIZE = 8;
/** The largest queue size a split virtqueue may have (virtio 1.2 §2.7). */
export const VIRTQ_MAX_SIZE = 32768;

/** Byte size of a split ring's parts for a queue of `size` entries (virtio 1.2 §2.7, with the event words). */
export function splitRingSizes(size: number): { desc: number; avail: number; used: number } {
  return { desc: VIRTQ_DESC_SIZE * size, avail: 6 + 2 * size, used: 6 + VIRTQ_USED_ELEM_SIZE * size };
}

/** Network device feature bits (virtio 1.2 §5.1.3), as bit numbers. */
export const VirtioNetFeature = {
  CSUM: 0,
  GUEST_CSUM: 1,
  CTRL_GUEST_OFFLOADS: 2,
  MTU: 3,
  MAC: 5,
  GUEST_TSO4: 7,
  GUEST_TSO6: 8,
  GUEST_ECN: 9,
  GUEST_UFO: 10,
  HOST_TSO4: 11,
  HOST_TSO6: 12,
  HOST_ECN: 13,
  HOST_UFO: 14,
  MRG_RXBUF: 15,
  STATUS: 16,
  CTRL_VQ: 17,
  CTRL_RX: 18,
  CTRL_VLAN: 19,
  GUEST_ANNOUNCE: 21,
  MQ: 22,
  CTRL_MAC_ADDR: 23,
} as const;

/** The network device's queues without VIRTIO_NET_F_MQ (virtio 1.2 §5.1.2). */
export const VIRTIO_NET_RX_QUEUE = 0;
export const VIRTIO_NET_TX_QUEUE = 1;
/** Configuration space: mac[6] at 0, le16 status at 6 (with VIRTIO_NET_F_STATUS). */
export const VIRTIO_NET_CONFIG_MAC = 0;
export const VIRTIO_NET_CONFIG_STATUS = 6;
export const VIRTIO_NET_CONFIG_SIZE = 8;
/** Status field bits. */
export const VIRTIO_NET_S_LINK_UP = 1;
export const VIRTIO_NET_S_ANNOUNCE = 2;
/**
 * struct virtio_net_hdr: flags u8, gso_type u8, hdr_len, gso_size, csum_start, csum_offset (le16 each)
 * = 10 bytes, plus le16 num_buffers = 12 bytes when VIRTIO_F_VERSION_1 or VIRTIO_NET_F_MRG_RXBUF is negotiated.
 */
export const VIRTIO_NET_HDR_SIZE_LEGACY = 10;
export const VIRTIO_NET_HDR_SIZE = 12;
export const VIRTIO_NET_HDR_NUM_BUFFERS = 10;
export const VIRTIO_NET_HDR_GSO_NONE = 0;
