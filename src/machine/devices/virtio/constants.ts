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

/** Block device feature bits (virtio 1.2 §5.2.3), as bit numbers. */
export const VirtioBlkFeature = {
  SIZE_MAX: 1,
  SEG_MAX: 2,
  GEOMETRY: 4,
  RO: 5,
  BLK_SIZE: 6,
  FLUSH: 9,
  TOPOLOGY: 10,
  CONFIG_WCE: 11,
  MQ: 12,
  DISCARD: 13,
  WRITE_ZEROES: 14,
  LIFETIME: 15,
  SECURE_ERASE: 16,
} as const;

/** The block device's one queue without VIRTIO_BLK_F_MQ. */
export const VIRTIO_BLK_REQUEST_QUEUE = 0;
/** struct virtio_blk_config field offsets (virtio 1.2 §5.2.4). */
export const VirtioBlkConfig = {
  capacity: 0,
  size_max: 8,
  seg_max: 12,
  geometry_cylinders: 16,
  geometry_heads: 18,
  geometry_sectors: 19,
  blk_size: 20,
  physical_block_exp: 24,
  alignment_offset: 25,
  min_io_size: 26,
  opt_io_size: 28,
  writeback: 32,
  num_queues: 34,
} as const;
/** Bytes of struct virtio_blk_config up to and including the secure-erase fields (virtio 1.2). */
export const VIRTIO_BLK_CONFIG_SIZE = 72;
/** Request types (virtio 1.2 §5.2.6). */
export const VirtioBlkRequest = {
  IN: 0,
  OUT: 1,
  FLUSH: 4,
  GET_ID: 8,
  GET_LIFETIME: 10,
  DISCARD: 11,
  WRITE_ZEROES: 13,
  SECURE_ERASE: 14,
} as const;
/** The status byte a request ends with. */
export const VirtioBlkStatus = { OK: 0, IOERR: 1, UNSUPP: 2 } as const;
/** struct virtio_blk_req's header: le32 type, le32 reserved (ioprio), le64 sector. */
export const VIRTIO_BLK_HEADER_SIZE = 16;
/** Sectors are 512 bytes whatever the block size (virtio 1.2 §5.2.6). */
export const VIRTIO_BLK_SECTOR_SIZE = 512;
/** GET_ID answers a 20-byte string, NUL-padded. */
export const VIRTIO_BLK_ID_BYTES = 20;

/** The console device's queues without VIRTIO_CONSOLE_F_MULTIPORT (virtio 1.2 §5.3.2). */
export const VIRTIO_CONSOLE_RX_QUEUE = 0;
export const VIRTIO_CONSOLE_TX_QUEUE = 1;
/** Console feature bits (virtio 1.2 §5.3.3). */
export const VirtioConsoleFeature = { SIZE: 0, MULTIPORT: 1, EMERG_WRITE: 2 } as const;
/** struct virtio_console_config: le16 cols, le16 rows, le32 max_nr_ports, le32 emerg_wr. */
export const VIRTIO_CONSOLE_CONFIG_SIZE = 12;

/** The sound device's queues (virtio 1.2 §5.14.2). */
export const VirtioSndQueue = { CONTROL: 0, EVENT: 1, TX: 2, RX: 3 } as const;
/** struct virtio_snd_config: le32 jacks, le32 streams, le32 chmaps. */
export const VIRTIO_SND_CONFIG_SIZE = 12;
/** Request codes, event codes and status codes (virtio 1.2 §5.14.6). */
export const VirtioSnd = {
  R_JACK_INFO: 1,
  R_JACK_REMAP: 2,
  R_PCM_INFO: 0x0100,
  R_PCM_SET_PARAMS: 0x0101,
  R_PCM_PREPARE: 0x0102,
  R_PCM_RELEASE: 0x0103,
  R_PCM_START: 0x0104,
  R_PCM_STOP: 0x0105,
  R_CHMAP_INFO: 0x0200,
  EVT_JACK_CONNECTED: 0x1000,
  EVT_JACK_DISCONNECTED: 0x1001,
  EVT_PCM_PERIOD_ELAPSED: 0x1100,
  EVT_PCM_XRUN: 0x1101,
  S_OK: 0x8000,
  S_BAD_MSG: 0x8001,
  S_NOT_SUPP: 0x8002,
  S_IO_ERR: 0x8003,
} as const;
/** Stream directions. */
export const VIRTIO_SND_D_OUTPUT = 0;
export const VIRTIO_SND_D_INPUT = 1;
/** PCM sample formats (VIRTIO_SND_PCM_FMT_*), by code. */
export const VirtioSndFormat = {
  IMA_ADPCM: 0,
  MU_LAW: 1,
  A_LAW: 2,
  S8: 3,
  U8: 4,
  S16: 5,
  U16: 6,
  S18_3: 7,
  U18_3: 8,
  S20_3: 9,
  U20_3: 10,
  S24_3: 11,
  U24_3: 12,
  S20: 13,
  U20: 14,
  S24: 15,
  U24: 16,
  S32: 17,
  U32: 18,
  FLOAT: 19,
  FLOAT64: 20,
  DSD_U8: 21,
  DSD_U16: 22,
  DSD_U32: 23,
  IEC958_SUBFRAME: 24,
} as const;
/** Bytes of one sample of each linear PCM format (0: not a linear PCM format the device can frame). */
export const VIRTIO_SND_FORMAT_BYTES: readonly number[] = [
  0, 1, 1, 1, 1, 2, 2, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 8, 1, 2, 4, 4,
];
/** PCM frame rates (VIRTIO_SND_PCM_RATE_*): the code is the index. */
export const VIRTIO_SND_RATES: readonly number[] = [
  5512, 8000, 11025, 16000, 22050, 32000, 44100, 48000, 64000, 88200, 96000, 176400, 192000, 384000,
];
/** Request and response sizes. */
export const VIRTIO_SND_HDR_SIZE = 4;
export const VIRTIO_SND_QUERY_INFO_SIZE = 16;
export const VIRTIO_SND_PCM_INFO_SIZE = 32;
export const VIRTIO_SND_PCM_HDR_SIZE = 8;
export const VIRTIO_SND_PCM_SET_PARAMS_SIZE = 24;
export const VIRTIO_SND_PCM_XFER_SIZE = 4;
export const VIRTIO_SND_PCM_STATUS_SIZE = 8;
export const VIRTIO_SND_EVENT_SIZE = 8;
