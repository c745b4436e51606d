// virtio over PCI (virtio 1.2 §4.1), modern only: one PCI function per device, its registers in a 32-bit
// memory BAR described by vendor capabilities (common, notify, ISR, device configuration, and the PCI
// configuration access window), its interrupt INTx. The common configuration drives the same feature,
// status and queue state machine as the virtio-mmio transport, which it wraps, so both transports behave
// alike where a guest can observe it.

import type { AccessSize } from "../mmio.ts";
import { VirtioDeviceId, VirtioMmio, VirtioStatus } from "./constants.ts";
import { VirtioMmioTransport } from "./mmio-transport.ts";
import type { VirtioTransport, VirtioTransportOptions } from "./transport.ts";
import type { VirtqueueFault } from "./virtqueue.ts";
import { hex } from "../../../util/hex.ts";

/** The PCI vendor of every virtio device, and the modern device IDs: 0x1040 + the virtio device ID. */
export const VIRTIO_PCI_VENDOR = 0x1af4;
export const VIRTIO_PCI_MODERN_DEVICE_BASE = 0x1040;
/** Bytes of the function's BAR 0: common configuration, ISR, device configuration and notifications. */
export const VIRTIO_PCI_BAR_SIZE = 0x4000;

/** Where each structure is in BAR 0. */
export const VirtioPciBar = { common: 0x0000, isr: 0x1000, device: 0x2000, notify: 0x3000 } as const;
/** Bytes between two queues' notification addresses (notify_off_multiplier); queue n's notify_off is n. */
export const VIRTIO_PCI_NOTIFY_MULTIPLIER = 4;

/** virtio_pci_cap cfg_type values. */
export const VirtioPciCap = { COMMON: 1, NOTIFY: 2, ISR: 3, DEVICE: 4, PCI: 5 } as const;

/** struct virtio_pci_common_cfg offsets (virtio 1.2 §4.1.4.3). */
export const VirtioPciCommon = {
  device_feature_select: 0x00,
  device_feature: 0x04,
  driver_feature_select: 0x08,
  driver_feature: 0x0c,
  config_msix_vector: 0x10,
  num_queues: 0x12,
  device_status: 0x14,
  config_generation: 0x15,
  queue_select: 0x16,
  queue_size: 0x18,
  queue_msix_vector: 0x1a,
  queue_enable: 0x1c,
  queue_notify_off: 0x1e,
  queue_desc: 0x20,
  queue_driver: 0x28,
  queue_device: 0x30,
  queue_notif_config_data: 0x38,
  queue_reset: 0x3a,
  size: 0x3c,
} as const;

/** PCI configuration header offsets and bits used here (PCI Local Bus 3.0, type 0 header). */
export const PciConfig = {
  VENDOR_ID: 0x00,
  DEVICE_ID: 0x02,
  COMMAND: 0x04,
  STATUS: 0x06,
  REVISION_ID: 0x08,
  CLASS_CODE: 0x09,
  HEADER_TYPE: 0x0e,
  BAR0: 0x10,
  SUBSYSTEM_VENDOR_ID: 0x2c,
  SUBSYSTEM_ID: 0x2e,
  CAPABILITIES: 0x34,
  INTERRUPT_LINE: 0x3c,
  INTERRUPT_PIN: 0x3d,
  COMMAND_MEMORY: 0x0002,
  COMMAND_BUS_MASTER: 0x0004,
  COMMAND_INTX_DISABLE: 0x0400,
  STATUS_INTERRUPT: 0x0008,
  STATUS_CAPABILITIES: 0x0010,
} as const;

/** MSI-X is not offered: every vector register reads VIRTIO_MSI_NO_VECTOR and the driver uses INTx. */
const NO_VECTOR = 0xffff;
const CAP_VENDOR = 0x09;
/** The capability list: [offset, cfg_type, structure offset in BAR 0, length, cap_len]. */
const CAPS = [
  [0x40, VirtioPciCap.COMMON, VirtioPciBar.common, VirtioPciCommon.size, 16],
  [0x50, VirtioPciCap.NOTIFY, VirtioPciBar.notify, 0x1000, 20],
  [0x64, VirtioPciCap.ISR, VirtioPciBar.isr, 1, 16],
  [0x74, VirtioPciCap.DEVICE, VirtioPciBar.device, 0x1000, 16],
  [0x84, VirtioPciCap.PCI, 0, 0, 20],
] as const;
const PCI_CFG_CAP = 0x84;

/** PCI class codes (base, sub, interface) by virtio device, as QEMU gives them. */
function classCode(deviceId: number): number {
  switch (deviceId) {
    case VirtioDeviceId.NET:
      return 0x02_00_00; // network controller, Ethernet
    case VirtioDeviceId.BLOCK:
      return 0x01_00_00; // mass storage, SCSI
    case VirtioDeviceId.CONSOLE:
      return 0x07_80_00; // communication controller, other
    case VirtioDeviceId.SOUND:
      return 0x04_01_00; // multimedia, audio
    default:
      return 0xff_00_00;
  }
}

/** One virtio device as a PCI function: configuration space and BAR 0. The device model's transport. */
export class VirtioPciFunction implements VirtioTransport {
  readonly name: string;
  readonly legacy = false;
  private readonly inner: VirtioMmioTransport;
  private readonly options: VirtioTransportOptions;
  private command = 0;
  private bar0 = 0;
  private interruptLine = 0;
  private intx = false;
  private intxOut = false;
  /** Shadows of registers the virtio-mmio register file does not read back. */
  private deviceFeatureSelect = 0;
  private driverFeatureSelect = 0;
  private driverFeatureWords = [0, 0];
  private queueSelect = 0;
  private queueSizes: number[];
  /** The PCI configuration access capability's bar, offset and length. */
  private cfgBar = 0;
  private cfgOffset = 0;
  private cfgLength = 0;

  constructor(options: VirtioTransportOptions) {
    this.options = options;
    this.name = options.name;
    this.inner = new VirtioMmioTransport({
      ...options,
      legacy: false,
      irq: {
        set: (high) => {
          this.intx = high;
          this.updateIntx();
        },
      },
    });
    this.queueSizes = this.freshSizes();
  }

  // ---- VirtioTransport: the device model's side, as the virtio-mmio transport's ----------------

  get dma() {
    return this.inner.dma;
  }
  get driverOk(): boolean {
    return this.inner.driverOk;
  }
  negotiated(bitNumber: number): boolean {
    return this.inner.negotiated(bitNumber);
  }
  queue(index: number) {
    return this.inner.queue(index);
  }
  runQueue(index: number, work: () => void): boolean {
    return this.inner.runQueue(index, work);
  }
  usedBuffers(index: number): void {
    this.inner.usedBuffers(index);
  }
  configChanged(): void {
    this.inner.configChanged();
  }
  queueFault(index: number, fault: VirtqueueFault): void {
    this.inner.queueFault(index, fault);
  }
  report(message: string): void {
    this.inner.report(message);
  }

  // ---- the bus's side -------------------------------------------------------------------------

  /** Where BAR 0 is, when the driver has memory decoding on; undefined otherwise. */
  get barBase(): number | undefined {
    return this.command & PciConfig.COMMAND_MEMORY ? this.bar0 : undefined;
  }

  /** Places BAR 0 and turns memory decoding on, as firmware does before the OS runs. */
  assignBar(base: number): void {
    this.bar0 = base & ~(VIRTIO_PCI_BAR_SIZE - 1) & 0xffff_fff0;
    this.command |= PciConfig.COMMAND_MEMORY | PciConfig.COMMAND_BUS_MASTER;
  }

  /** A read of the function's configuration space: `size` bytes at `offset` (0..4095). */
  configRead(offset: number, size: 1 | 2 | 4): number {
    let value = 0;
    for (let i = size - 1; i >= 0; i--) value = value * 256 + this.configByte(offset + i);
    return value;
  }

  configWrite(offset: number, size: 1 | 2 | 4, value: number): void {
    // Registers narrower or wider than the access: assemble per register from the bytes written.
    const word = offset & ~3;
    const shift = 8 * (offset & 3);
    const mask = (size === 4 ? 0xffff_ffff : ((1 << (8 * size)) - 1) << shift) >>> 0;
    const current = this.configRead(word, 4);
    const merged = ((current & ~mask) | ((value << shift) & mask)) >>> 0;
    this.configWriteWord(word, merged, mask);
  }

  // ---- MmioDevice: BAR 0 --------------------------------------------------------------------------

  read(offset: number, size: AccessSize, _cpu = 0): bigint {
    try {
      if (size === 8) {
        const low = BigInt(this.barRead(offset, 4) >>> 0);
        return low | (BigInt(this.barRead(offset + 4, 4) >>> 0) << 32n);
      }
      return BigInt(this.barRead(offset, size) >>> 0);
    } catch (e) {
      this.report(
        `${this.name}: internal error during a BAR read at ${hex(offset)}: ${(e as Error).message}`,
      );
      return 0n;
    }
  }

  write(offset: number, size: AccessSize, value: bigint, _cpu = 0): void {
    try {
      const word = BigInt.asUintN(64, BigInt(value));
      if (size === 8) {
        this.barWrite(offset, 4, Number(word & 0xffff_ffffn));
        this.barWrite(offset + 4, 4, Number(word >> 32n));
        return;
      }
      this.barWrite(offset, size, Number(BigInt.asUintN(8 * size, word)));
    } catch (e) {
      this.report(
        `${this.name}: internal error during a BAR write at ${hex(offset)}: ${(e as Error).message}`,
      );
    }
  }

  // ---- configuration space ------------------------------------------------------------------------

  private header(): Uint8Array {
    const h = new Uint8Array(256);
    const v = new DataView(h.buffer);
    const device = this.options.device;
    v.setUint16(PciConfig.VENDOR_ID, VIRTIO_PCI_VENDOR, true);
    v.setUint16(PciConfig.DEVICE_ID, VIRTIO_PCI_MODERN_DEVICE_BASE + device.deviceId, true);
    v.setUint16(PciConfig.COMMAND, this.command, true);
    v.setUint16(
      PciConfig.STATUS,
      PciConfig.STATUS_CAPABILITIES | (this.intx ? PciConfig.STATUS_INTERRUPT : 0),
      true,
    );
    h[PciConfig.REVISION_ID] = 1; // modern-only devices have revision 1 or more
    const cls = classCode(device.deviceId);
    h[PciConfig.CLASS_CODE] = cls & 0xff;
    h[PciConfig.CLASS_CODE + 1] = (cls >> 8) & 0xff;
    h[PciConfig.CLASS_CODE + 2] = (cls >> 16) & 0xff;
    h[PciConfig.HEADER_TYPE] = 0;
    v.setUint32(PciConfig.BAR0, this.bar0, true); // 32-bit memory, not prefetchable: low bits 0
    v.setUint16(PciConfig.SUBSYSTEM_VENDOR_ID, VIRTIO_PCI_VENDOR, true);
    v.setUint16(PciConfig.SUBSYSTEM_ID, 0x1100, true);
    h[PciConfig.CAPABILITIES] = CAPS[0][0];
    h[PciConfig.INTERRUPT_LINE] = this.interruptLine;
    h[PciConfig.INTERRUPT_PIN] = 1; // INTA#
    CAPS.forEach(([at, type, offset, length, capLen], i) => {
      h[at] = CAP_VENDOR;
      h[at + 1] = CAPS[i + 1]?.[0] ?? 0;
      h[at + 2] = capLen;
      h[at + 3] = type;
      h[at + 4] = at === PCI_CFG_CAP ? this.cfgBar : 0; // bar
      h[at + 5] = 0; // id
      v.setUint32(at + 8, at === PCI_CFG_CAP ? this.cfgOffset : offset, true);
      v.setUint32(at + 12, at === PCI_CFG_CAP ? this.cfgLength : length, true);
      if (type === VirtioPciCap.NOTIFY) v.setUint32(at + 16, VIRTIO_PCI_NOTIFY_MULTIPLIER, true);
    });
    return h;
  }

  private configByte(offset: number): number {
    if (!Number.isInteger(offset) || offset < 0 || offset >= 256) return 0;
    if (offset >= PCI_CFG_CAP + 16 && offset < PCI_CFG_CAP + 20) {
      // pci_cfg_data: the BAR access the capability describes.
      return (this.cfgAccess(undefined) >>> (8 * (offset - PCI_CFG_CAP - 16))) & 0xff;
    }
    return this.header()[offset]!;
  }

  private configWriteWord(word: number, value: number, mask: number): void {
    if (word === PciConfig.COMMAND) {
      const keep = PciConfig.COMMAND_MEMORY | PciConfig.COMMAND_BUS_MASTER | PciConfig.COMMAND_INTX_DISABLE;
      if (mask & 0xffff) this.command = value & keep;
      this.updateIntx();
    } else if (word === PciConfig.BAR0) {
      // Sizing: the size's bits read back as zero whatever is written.
      this.bar0 = (value & ~(VIRTIO_PCI_BAR_SIZE - 1)) >>> 0;
    } else if (word === PciConfig.INTERRUPT_LINE) {
      if (mask & 0xff) this.interruptLine = value & 0xff;
    } else if (word === PCI_CFG_CAP + 4) {
      if (mask & 0xff) this.cfgBar = value & 0xff;
    } else if (word === PCI_CFG_CAP + 8) {
      this.cfgOffset = value;
    } else if (word === PCI_CFG_CAP + 12) {
      this.cfgLength = value;
    } else if (word === PCI_CFG_CAP + 16) {
      this.cfgAccess(value);
    }
    // Everything else is read-only (other BARs are not implemented and read 0).
  }

  /** The PCI configuration access window: reads (`value` undefined) or writes BAR 0 at the capability's offset. */
  private cfgAccess(value: number | undefined): number {
    const length = this.cfgLength;
    if (this.cfgBar !== 0 || (length !== 1 && length !== 2 && length !== 4)) return 0;
    if (this.cfgOffset % length !== 0) return 0;
    if (value === undefined) return this.barRead(this.cfgOffset, length);
    this.barWrite(this.cfgOffset, length, length === 4 ? value >>> 0 : value & ((1 << (8 * length)) - 1));
    return 0;
  }

  // ---- BAR 0 --------------------------------------------------------------------------------------

  private barRead(offset: number, size: 1 | 2 | 4): number {
    if (!Number.isInteger(offset) || offset < 0) return 0;
    if (offset < VirtioPciBar.common + VirtioPciCommon.size) return this.commonRead(offset, size);
    if (offset === VirtioPciBar.isr && size === 1) {
      // Reading the ISR status clears it (and lowers INTx).
      const status = Number(this.inner.read(VirtioMmio.InterruptStatus, 4));
      if (status !== 0) this.inner.write(VirtioMmio.InterruptACK, 4, BigInt(status));
      return status & 0xff;
    }
    if (offset >= VirtioPciBar.device && offset < VirtioPciBar.device + 0x1000) {
      return Number(this.inner.read(VirtioMmio.Config + (offset - VirtioPciBar.device), size));
    }
    return 0;
  }

  private barWrite(offset: number, size: 1 | 2 | 4, value: number): void {
    if (!Number.isInteger(offset) || offset < 0) return;
    if (offset < VirtioPciBar.common + VirtioPciCommon.size) return this.commonWrite(offset, size, value);
    if (offset >= VirtioPciBar.notify && offset < VirtioPciBar.notify + 0x1000) {
      // Without VIRTIO_F_NOTIFICATION_DATA the driver writes the queue's index at its notify address.
      const queue = (offset - VirtioPciBar.notify) / VIRTIO_PCI_NOTIFY_MULTIPLIER;
      if (Number.isInteger(queue) && queue === (value & 0xffff))
        this.inner.write(VirtioMmio.QueueNotify, 4, BigInt(queue));
      return;
    }
    if (offset >= VirtioPciBar.device && offset < VirtioPciBar.device + 0x1000) {
      this.inner.write(VirtioMmio.Config + (offset - VirtioPciBar.device), size, BigInt(value));
    }
  }

  /** Fields of the common configuration, each read at its own width (narrower reads see part of it). */
  private commonRead(offset: number, size: 1 | 2 | 4): number {
    let value = 0;
    for (let i = size - 1; i >= 0; i--) value = value * 256 + this.commonByte(offset + i);
    return value;
  }

  private commonByte(at: number): number {
    const C = VirtioPciCommon;
    const field = (start: number, width: number, read: () => number) =>
      at >= start && at < start + width ? Math.floor(read() / 2 ** (8 * (at - start))) % 256 : undefined;
    const mmio = (register: number) => Number(this.inner.read(register, 4));
    const q = this.queueSelect;
    const exists = q < this.options.device.queueCount;
    const address = (low: number, high: number) => mmio(high) * 0x1_0000_0000 + mmio(low);
    const withQueue = (read: () => number) => () => (exists ? (this.selectQueue(), read()) : 0);
    return (
      field(C.device_feature_select, 4, () => this.deviceFeatureSelect) ??
      field(C.device_feature, 4, () => {
        this.inner.write(VirtioMmio.DeviceFeaturesSel, 4, BigInt(this.deviceFeatureSelect));
        return mmio(VirtioMmio.DeviceFeatures);
      }) ??
      field(C.driver_feature_select, 4, () => this.driverFeatureSelect) ??
      field(C.driver_feature, 4, () => this.driverFeatureWords[this.driverFeatureSelect] ?? 0) ??
      field(C.config_msix_vector, 2, () => NO_VECTOR) ??
      field(C.num_queues, 2, () => this.options.device.queueCount) ??
      field(C.device_status, 1, () => mmio(VirtioMmio.Status) & 0xff) ??
      field(C.config_generation, 1, () => mmio(VirtioMmio.ConfigGeneration) & 0xff) ??
      field(C.queue_select, 2, () => q) ??
      field(C.queue_size, 2, () => (exists ? this.queueSizes[q]! : 0)) ??
      field(C.queue_msix_vector, 2, () => NO_VECTOR) ??
      field(
        C.queue_enable,
        2,
        withQueue(() => mmio(VirtioMmio.QueueReady)),
      ) ??
      field(C.queue_notify_off, 2, () => (exists ? q : 0)) ??
      field(
        C.queue_desc,
        8,
        withQueue(() => address(VirtioMmio.QueueDescLow, VirtioMmio.QueueDescHigh)),
      ) ??
      field(
        C.queue_driver,
        8,
        withQueue(() => address(VirtioMmio.QueueDriverLow, VirtioMmio.QueueDriverHigh)),
      ) ??
      field(
        C.queue_device,
        8,
        withQueue(() => address(VirtioMmio.QueueDeviceLow, VirtioMmio.QueueDeviceHigh)),
      ) ??
      0
    );
  }

  private selectQueue(): void {
    this.inner.write(VirtioMmio.QueueSel, 4, BigInt(this.queueSelect));
  }

  private commonWrite(offset: number, size: 1 | 2 | 4, value: number): void {
    const C = VirtioPciCommon;
    const mmio = (register: number, v: number) => this.inner.write(register, 4, BigInt(v >>> 0));
    const q = this.queueSelect;
    const exists = q < this.options.device.queueCount;
    // 64-bit queue addresses may be written as two 32-bit halves or whole.
    const halves: [number, number, number][] = [
      [C.queue_desc, VirtioMmio.QueueDescLow, VirtioMmio.QueueDescHigh],
      [C.queue_driver, VirtioMmio.QueueDriverLow, VirtioMmio.QueueDriverHigh],
      [C.queue_device, VirtioMmio.QueueDeviceLow, VirtioMmio.QueueDeviceHigh],
    ];
    for (const [start, low, high] of halves) {
      if (offset === start && size === 4) return exists ? (this.selectQueue(), mmio(low, value)) : undefined;
      if (offset === start + 4 && size === 4)
        return exists ? (this.selectQueue(), mmio(high, value)) : undefined;
    }
    switch (offset) {
      case C.device_feature_select:
        if (size === 4) this.deviceFeatureSelect = value >>> 0;
        return;
      case C.driver_feature_select:
        if (size === 4) this.driverFeatureSelect = value >>> 0;
        return;
      case C.driver_feature:
        if (size !== 4) return;
        mmio(VirtioMmio.DriverFeaturesSel, this.driverFeatureSelect);
        mmio(VirtioMmio.DriverFeatures, value);
        // Read back as the transport kept it (it ignores writes once FEATURES_OK is set).
        if (this.driverFeatureSelect < 2 && !(this.status() & VirtioStatus.FEATURES_OK)) {
          this.driverFeatureWords[this.driverFeatureSelect] = value >>> 0;
        }
        return;
      case C.device_status:
        if (size !== 1) return;
        mmio(VirtioMmio.Status, value & 0xff);
        if ((value & 0xff) === 0) this.resetShadows();
        return;
      case C.queue_select:
        if (size === 2) this.queueSelect = value & 0xffff;
        return;
      case C.queue_size:
        if (size !== 2 || !exists || this.queueEnabled()) return;
        this.queueSizes[q] = value & 0xffff;
        this.selectQueue();
        mmio(VirtioMmio.QueueNum, value & 0xffff);
        return;
      case C.queue_enable:
        if (size !== 2 || !exists) return;
        this.selectQueue();
        mmio(VirtioMmio.QueueReady, value & 0xffff);
        return;
      default:
        // config_msix_vector and queue_msix_vector keep NO_VECTOR (no MSI-X); the rest is read-only.
        return;
    }
  }

  private status(): number {
    return Number(this.inner.read(VirtioMmio.Status, 4));
  }

  private queueEnabled(): boolean {
    this.selectQueue();
    return Number(this.inner.read(VirtioMmio.QueueReady, 4)) !== 0;
  }

  private resetShadows(): void {
    this.driverFeatureWords = [0, 0];
    this.queueSelect = 0;
    this.queueSizes = this.freshSizes();
  }

  private freshSizes(): number[] {
    return Array.from({ length: this.options.device.queueCount }, () => this.options.device.queueSizeMax);
  }

  private updateIntx(): void {
    const out = this.intx && !(this.command & PciConfig.COMMAND_INTX_DISABLE);
    if (out === this.intxOut) return;
    this.intxOut = out;
    this.options.irq.set(out);
  }
}
