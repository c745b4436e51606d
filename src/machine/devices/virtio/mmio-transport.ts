// The virtio-mmio transport (virtio 1.2 §4.2), modern (version 2) or legacy (version 1), for one device.

import type { AccessSize, IrqLine } from "../mmio.ts";
import {
  VIRTIO_MMIO_MAGIC,
  VIRTIO_MMIO_VERSION_LEGACY,
  VIRTIO_MMIO_VERSION_MODERN,
  VIRTIO_VENDOR_QEMU,
  VIRTQ_DESC_SIZE,
  VirtioFeature,
  VirtioInterrupt,
  VirtioMmio,
  VirtioStatus,
} from "./constants.ts";
import { hex } from "../../../util/hex.ts";
import { DeviceDma } from "./dma.ts";
import type { VirtioDevice, VirtioTransport, VirtioTransportOptions } from "./transport.ts";
import { SplitVirtqueue, VirtqueueFault, checkSplitRing, type SplitRingAddresses } from "./virtqueue.ts";

export type { VirtioDevice } from "./transport.ts";

/** The virtio-mmio transport's options (the same as every transport's). */
export type VirtioMmioTransportOptions = VirtioTransportOptions;

interface QueueState {
  /** QueueNum as last written. */
  num: number;
  /** Modern: the three areas' addresses, as [low, high] words. */
  desc: [number, number];
  driver: [number, number];
  device: [number, number];
  /** Modern QueueReady as read back. */
  ready: boolean;
  /** Legacy: QueuePFN as read back (0: not in use) and QueueAlign. */
  pfn: number;
  align: number;
  /** The queue the device works on, once the driver enabled it with a valid layout. */
  live: SplitVirtqueue | undefined;
  /** The driver broke the queue's rules: the device does not touch it again until reset. */
  broken: boolean;
}

/** QEMU's default legacy QueueAlign (VIRTIO_PCI_VRING_ALIGN): a page. */
const LEGACY_DEFAULT_ALIGN = 4096;
const LEGACY_ONLY = new Set<number>([VirtioMmio.GuestPageSize, VirtioMmio.QueueAlign, VirtioMmio.QueuePFN]);
const MODERN_ONLY = new Set<number>([
  VirtioMmio.QueueReady,
  VirtioMmio.QueueDescLow,
  VirtioMmio.QueueDescHigh,
  VirtioMmio.QueueDriverLow,
  VirtioMmio.QueueDriverHigh,
  VirtioMmio.QueueDeviceLow,
  VirtioMmio.QueueDeviceHigh,
  VirtioMmio.SHMSel,
  VirtioMmio.SHMLenLow,
  VirtioMmio.SHMLenHigh,
  VirtioMmio.SHMBaseLow,
  VirtioMmio.SHMBaseHigh,
  VirtioMmio.QueueReset,
  VirtioMmio.ConfigGeneration,
]);

function newQueue(sizeMax: number): QueueState {
  return {
    num: sizeMax,
    desc: [0, 0],
    driver: [0, 0],
    device: [0, 0],
    ready: false,
    pfn: 0,
    align: LEGACY_DEFAULT_ALIGN,
    live: undefined,
    broken: false,
  };
}

const address = ([low, high]: [number, number]) => high * 0x1_0000_0000 + low;
const bit = (n: number) => 1n << BigInt(n);

export class VirtioMmioTransport implements VirtioTransport {
  readonly name: string;
  readonly legacy: boolean;
  readonly dma: DeviceDma;
  private readonly device: VirtioDevice;
  private readonly irq: IrqLine;
  private readonly onError: ((message: string) => void) | undefined;
  /** The device's feature offer through this transport, asked at creation and again at each reset. */
  private offeredFeatures: bigint;

  private status = 0;
  private needsReset = false;
  private interruptStatus = 0;
  private deviceFeaturesSel = 0;
  private driverFeaturesSel = 0;
  private driverFeatures = 0n;
  /** The driver wrote a non-zero feature word beyond bit 63: features no device offers. */
  private driverFeaturesBeyond64 = false;
  /** Modern: the features the device accepted with FEATURES_OK. */
  private acceptedFeatures = 0n;
  private configGeneration = 0;
  private queueSel = 0;
  /**
   * Legacy GuestPageSize as a shift. Not cleared by a reset: Linux writes it once at probe, before the
   * reset that registering the device does. 0 (a page of one byte) until written, as in QEMU.
   */
  private guestPageShift = 0;
  private queues: QueueState[];

  constructor(options: VirtioMmioTransportOptions) {
    this.name = options.name;
    this.legacy = options.legacy ?? false;
    this.dma = new DeviceDma(options.memory);
    this.device = options.device;
    this.irq = options.irq;
    this.onError = options.onError;
    this.offeredFeatures = this.device.offeredFeatures(this.legacy);
    this.queues = this.freshQueues();
  }

  // ---- what the device model uses -------------------------------------------------------------

  /** DRIVER_OK is set: the device may use its queues. */
  get driverOk(): boolean {
    return (this.status & VirtioStatus.DRIVER_OK) !== 0;
  }

  /** Whether feature `bitNumber` is in force: accepted with FEATURES_OK (modern), or written and offered (legacy). */
  negotiated(bitNumber: number): boolean {
    const features = this.legacy ? this.driverFeatures & this.offeredFeatures : this.acceptedFeatures;
    return (features & bit(bitNumber)) !== 0n;
  }

  /** Queue `index` if the device may work on it now: DRIVER_OK, enabled by the driver and not broken. */
  queue(index: number): SplitVirtqueue | undefined {
    const q = this.queues[index];
    return this.driverOk && q && !q.broken ? q.live : undefined;
  }

  /**
   * Runs `work` on queue `index`; a VirtqueueFault it throws (the driver broke a rule) is reported and
   * stops the queue. Returns false when the queue faulted.
   */
  runQueue(index: number, work: () => void): boolean {
    try {
      work();
      return true;
    } catch (e) {
      if (!(e instanceof VirtqueueFault)) throw e;
      this.queueFault(index, e);
      return false;
    }
  }

  /** The device put buffers in queue `index`'s used ring: interrupt unless the driver suppressed it. */
  usedBuffers(index: number): void {
    const q = this.queues[index]?.live;
    if (q && q.wantsInterrupt()) this.raise(VirtioInterrupt.USED_BUFFER);
  }

  /** The configuration space changed: a new ConfigGeneration, and a notification once the driver is up. */
  configChanged(): void {
    this.configGeneration = (this.configGeneration + 1) >>> 0;
    if (this.driverOk) this.raise(VirtioInterrupt.CONFIG_CHANGE);
  }

  /**
   * The driver broke queue `index`'s rules: stop the queue, set DEVICE_NEEDS_RESET, tell a modern
   * driver with a configuration-change interrupt (§2.1.2: required once DRIVER_OK is set; legacy
   * drivers have no such bit), and report what was wrong.
   */
  queueFault(index: number, fault: VirtqueueFault): void {
    const q = this.queues[index];
    if (q) q.broken = true;
    this.needsReset = true;
    if (!this.legacy && this.driverOk) this.raise(VirtioInterrupt.CONFIG_CHANGE);
    const queue = `queue ${index} (${this.device.queueName(index)})`;
    const subject = fault.where ? `${queue}: ${fault.where}` : queue;
    this.report(
      `${this.name}: ${subject} ${fault.problem}. ${fault.remedy} The device stopped queue ${index} and set ` +
        `DEVICE_NEEDS_RESET (0x40) in Status; the driver must reset it (write 0 to Status) and set it up again.`,
    );
  }

  /** Reports a problem; a throwing callback cannot reach the guest's access. */
  report(message: string): void {
    try {
      this.onError?.(message);
    } catch {
      // The report is best effort: a broken sink must not break the device.
    }
  }

  // ---- MmioDevice ------------------------------------------------------------------------------

  /** `cpu` is ignored: the transport has no banked registers. */
  read(offset: number, size: AccessSize, _cpu = 0): bigint {
    try {
      // A 64-bit access is two 32-bit ones, low word first, as QEMU's bus splits it for this device.
      if (size === 8) {
        const low = BigInt(this.readRegister(offset, 4) >>> 0);
        return low | (BigInt(this.readRegister(offset + 4, 4) >>> 0) << 32n);
      }
      return BigInt(this.readRegister(offset, size) >>> 0);
    } catch (e) {
      this.internalError(`a ${size}-byte read at offset ${hex(offset)}`, e);
      return 0n;
    }
  }

  write(offset: number, size: AccessSize, value: bigint, _cpu = 0): void {
    try {
      const word = BigInt.asUintN(64, BigInt(value));
      if (size === 8) {
        this.writeRegister(offset, 4, Number(word & 0xffff_ffffn));
        this.writeRegister(offset + 4, 4, Number(word >> 32n));
        return;
      }
      this.writeRegister(offset, size, Number(BigInt.asUintN(8 * size, word)));
    } catch (e) {
      this.internalError(`a ${size}-byte write at offset ${hex(offset)}`, e);
    }
  }

  private internalError(access: string, e: unknown): void {
    this.report(
      `${this.name}: internal error during ${access}: ${e instanceof Error ? e.message : String(e)}. ` +
        `The access was ignored; this is a virtkit bug, please report it.`,
    );
  }

  private isRegisterOf(offset: number): boolean {
    return !(this.legacy ? MODERN_ONLY : LEGACY_ONLY).has(offset);
  }

  /** A config-space access: 1, 2 or 4 bytes inside the device's configuration. */
  private configAccess(offset: number, size: 1 | 2 | 4): number | undefined {
    const at = offset - VirtioMmio.Config;
    return at + size > this.device.configSize ? undefined : at;
  }

  private readRegister(offset: number, size: 1 | 2 | 4): number {
    if (!Number.isInteger(offset) || offset < 0) return 0;
    if (offset >= VirtioMmio.Config) {
      const at = this.configAccess(offset, size);
      return at === undefined ? 0 : this.device.readConfig(at, size) >>> 0;
    }
    // The control registers take aligned 32-bit accesses only (§4.2.2.2); others read 0, as in QEMU.
    if (size !== 4 || offset % 4 !== 0 || !this.isRegisterOf(offset)) return 0;
    const q = this.queues[this.queueSel];
    switch (offset) {
      case VirtioMmio.MagicValue:
        return VIRTIO_MMIO_MAGIC;
      case VirtioMmio.Version:
        return this.legacy ? VIRTIO_MMIO_VERSION_LEGACY : VIRTIO_MMIO_VERSION_MODERN;
      case VirtioMmio.DeviceID:
        return this.device.deviceId;
      case VirtioMmio.VendorID:
        return VIRTIO_VENDOR_QEMU;
      case VirtioMmio.DeviceFeatures: {
        // Legacy devices have one 32-bit feature word.
        const words = this.legacy ? 1 : 2;
        if (this.deviceFeaturesSel >= words) return 0;
        return Number((this.offeredFeatures >> BigInt(32 * this.deviceFeaturesSel)) & 0xffff_ffffn);
      }
      case VirtioMmio.QueueNumMax:
        return q ? this.device.queueSizeMax : 0;
      case VirtioMmio.QueuePFN:
        return q ? q.pfn : 0;
      case VirtioMmio.QueueReady:
        return q?.ready ? 1 : 0;
      case VirtioMmio.QueueDescLow:
        return q ? q.desc[0] : 0;
      case VirtioMmio.QueueDescHigh:
        return q ? q.desc[1] : 0;
      case VirtioMmio.QueueDriverLow:
        return q ? q.driver[0] : 0;
      case VirtioMmio.QueueDriverHigh:
        return q ? q.driver[1] : 0;
      case VirtioMmio.QueueDeviceLow:
        return q ? q.device[0] : 0;
      case VirtioMmio.QueueDeviceHigh:
        return q ? q.device[1] : 0;
      case VirtioMmio.InterruptStatus:
        return this.interruptStatus;
      case VirtioMmio.Status:
        return this.status | (this.needsReset ? VirtioStatus.DEVICE_NEEDS_RESET : 0);
      case VirtioMmio.SHMLenLow:
      case VirtioMmio.SHMLenHigh:
      case VirtioMmio.SHMBaseLow:
      case VirtioMmio.SHMBaseHigh:
        // No shared memory regions: every SHMSel reads a length of -1 (§4.2.2).
        return 0xffff_ffff;
      case VirtioMmio.ConfigGeneration:
        return this.configGeneration;
      default:
        // Write-only and unknown registers read 0.
        return 0;
    }
  }

  /** `value` is already cut to `size` bytes. */
  private writeRegister(offset: number, size: 1 | 2 | 4, value: number): void {
    if (!Number.isInteger(offset) || offset < 0) return;
    if (offset >= VirtioMmio.Config) {
      const at = this.configAccess(offset, size);
      if (at !== undefined) this.device.writeConfig(at, size, value);
      return;
    }
    if (size !== 4 || offset % 4 !== 0 || !this.isRegisterOf(offset)) return;
    const q = this.queues[this.queueSel];
    switch (offset) {
      case VirtioMmio.DeviceFeaturesSel:
        this.deviceFeaturesSel = value;
        return;
      case VirtioMmio.DriverFeaturesSel:
        this.driverFeaturesSel = value;
        return;
      case VirtioMmio.DriverFeatures:
        this.writeDriverFeatures(value);
        return;
      case VirtioMmio.GuestPageSize:
        // As QEMU: the page size is the lowest set bit; 0 means one byte.
        this.guestPageShift = value === 0 ? 0 : 31 - Math.clz32(value & -value);
        return;
      case VirtioMmio.QueueSel:
        this.queueSel = value;
        return;
      case VirtioMmio.QueueNum:
        // The size is fixed while the queue is in use.
        if (q && !q.ready && q.pfn === 0) q.num = value;
        return;
      case VirtioMmio.QueueAlign:
        if (q && q.pfn === 0) q.align = value;
        return;
      case VirtioMmio.QueuePFN:
        if (q) this.writeQueuePfn(this.queueSel, q, value);
        return;
      case VirtioMmio.QueueReady:
        if (q) this.writeQueueReady(this.queueSel, q, value);
        return;
      case VirtioMmio.QueueDescLow:
      case VirtioMmio.QueueDescHigh:
        if (q && !q.ready) q.desc[offset === VirtioMmio.QueueDescLow ? 0 : 1] = value;
        return;
      case VirtioMmio.QueueDriverLow:
      case VirtioMmio.QueueDriverHigh:
        if (q && !q.ready) q.driver[offset === VirtioMmio.QueueDriverLow ? 0 : 1] = value;
        return;
      case VirtioMmio.QueueDeviceLow:
      case VirtioMmio.QueueDeviceHigh:
        if (q && !q.ready) q.device[offset === VirtioMmio.QueueDeviceLow ? 0 : 1] = value;
        return;
      case VirtioMmio.QueueNotify:
        // Without VIRTIO_F_NOTIFICATION_DATA the value is the queue index.
        if (this.queue(value)) this.runQueue(value, () => this.device.queueNotify(value));
        return;
      case VirtioMmio.InterruptACK:
        this.acknowledge(value);
        return;
      case VirtioMmio.Status:
        this.writeStatus(value & 0xff);
        return;
      default:
        // Read-only and unknown registers ignore writes; so does SHMSel, as there are no regions.
        return;
    }
  }

  private writeDriverFeatures(value: number): void {
    // Once FEATURES_OK is accepted the feature set is fixed (§2.2).
    if (!this.legacy && this.status & VirtioStatus.FEATURES_OK) return;
    const sel = this.driverFeaturesSel;
    if (sel > 1 || (this.legacy && sel > 0)) {
      // Beyond the device's feature words: nothing there is offered.
      if (!this.legacy && value !== 0) this.driverFeaturesBeyond64 = true;
      return;
    }
    const shift = BigInt(32 * sel);
    this.driverFeatures = (this.driverFeatures & ~(0xffff_ffffn << shift)) | (BigInt(value) << shift);
  }

  private writeStatus(value: number): void {
    if (value === 0) {
      this.reset();
      return;
    }
    const old = this.status;
    // DEVICE_NEEDS_RESET belongs to the device: the driver neither sets nor clears it.
    let next = value & ~VirtioStatus.DEVICE_NEEDS_RESET;
    if (!this.legacy && next & VirtioStatus.FEATURES_OK && !(old & VirtioStatus.FEATURES_OK)) {
      // FEATURES_OK sticks only for a subset of the offered features that includes VERSION_1 (§2.2.2, §4.2.2.1).
      const acceptable =
        !this.driverFeaturesBeyond64 &&
        (this.driverFeatures & ~this.offeredFeatures) === 0n &&
        (this.driverFeatures & bit(VirtioFeature.VERSION_1)) !== 0n;
      if (acceptable) this.acceptedFeatures = this.driverFeatures;
      else next &= ~VirtioStatus.FEATURES_OK;
    }
    this.status = next;
    if (next & VirtioStatus.DRIVER_OK && !(old & VirtioStatus.DRIVER_OK)) {
      // Buffers the driver made available before DRIVER_OK (and notified) are the device's now.
      for (let index = 0; index < this.device.queueCount; index++) {
        if (this.queue(index)) this.runQueue(index, () => this.device.queueNotify(index));
      }
    }
  }

  private writeQueueReady(index: number, q: QueueState, value: number): void {
    if (value === 0) {
      q.ready = false;
      q.live = undefined;
      return;
    }
    if (value !== 1 || q.ready || q.broken) return;
    const ring: SplitRingAddresses = {
      size: q.num,
      desc: address(q.desc),
      avail: address(q.driver),
      used: address(q.device),
    };
    this.enableQueue(index, q, ring, () => (q.ready = true));
  }

  private writeQueuePfn(index: number, q: QueueState, pfn: number): void {
    if (pfn === 0) {
      q.pfn = 0;
      q.live = undefined;
      return;
    }
    if (q.broken) return;
    // The legacy layout (§2.7.2): descriptors, the available ring right after them, then the used
    // ring at the next QueueAlign boundary.
    const align = q.align;
    if (align === 0 || (align & (align - 1)) !== 0) {
      this.queueFault(
        index,
        new VirtqueueFault(
          undefined,
          `has QueueAlign ${align}`,
          "Write a power of two (the page size, 4096) to QueueAlign before QueuePFN.",
        ),
      );
      return;
    }
    const desc = pfn * 2 ** this.guestPageShift;
    const avail = desc + VIRTQ_DESC_SIZE * q.num;
    const used = Math.ceil((avail + 6 + 2 * q.num) / align) * align;
    this.enableQueue(index, q, { size: q.num, desc, avail, used }, () => (q.pfn = pfn));
  }

  private enableQueue(index: number, q: QueueState, ring: SplitRingAddresses, enabled: () => void): void {
    const fault = checkSplitRing(this.dma, ring, this.device.queueSizeMax);
    if (fault) {
      this.queueFault(index, fault);
      return;
    }
    q.live = new SplitVirtqueue(this.dma, ring, this.negotiated(VirtioFeature.INDIRECT_DESC));
    enabled();
  }

  private raise(bits: number): void {
    const before = this.interruptStatus;
    this.interruptStatus |= bits;
    if (before === 0 && this.interruptStatus !== 0) this.irq.set(true);
  }

  private acknowledge(bits: number): void {
    const before = this.interruptStatus;
    this.interruptStatus &= ~bits;
    if (before !== 0 && this.interruptStatus === 0) this.irq.set(false);
  }

  private freshQueues(): QueueState[] {
    return Array.from({ length: this.device.queueCount }, () => newQueue(this.device.queueSizeMax));
  }

  /** Writing 0 to Status: everything the driver set up is forgotten (GuestPageSize excepted, see above). */
  private reset(): void {
    this.status = 0;
    this.needsReset = false;
    this.deviceFeaturesSel = 0;
    this.driverFeaturesSel = 0;
    this.driverFeatures = 0n;
    this.driverFeaturesBeyond64 = false;
    this.acceptedFeatures = 0n;
    this.queueSel = 0;
    this.queues = this.freshQueues();
    this.acknowledge(0xffff_ffff);
    this.device.reset();
    // Asked again after the device's reset: a back-end that learnt more (a read-only disk) offers it to the next driver.
    this.offeredFeatures = this.device.offeredFeatures(this.legacy);
  }
}
