// A VMM for the libvmm virtIO tests: a Vmm over fake vCPUs with one region of guest RAM, the vGIC's
// injections recorded, and a virtio driver that reaches a device through the VMM's emulated MMIO.
import { GuestRam } from "../../../src/libvmm/guest-ram.ts";
import { Vmm } from "../../../src/libvmm/vmm.ts";
import type { VirtioVmm } from "../../../src/libvmm/virtio/mmio.ts";
import { VirtioTestDriver } from "../../machine/virtio-test-driver.ts";
import { FakeVcpuControl, recordingLog } from "../fake-vcpu.ts";

export const RAM_BASE = 0x4000_0000;
export const RAM_SIZE = 4 * 1024 * 1024;

export function testVmm() {
  const log = recordingLog("vmm");
  const injected: { intid: number; lr: number }[] = [];
  const control = new FakeVcpuControl(1);
  const ram = new GuestRam([{ gpa: RAM_BASE, bytes: new Uint8Array(RAM_SIZE) }]);
  const vmm = new Vmm({
    vmName: "linux",
    vcpuCount: 1,
    log,
    control,
    gic: { version: 2, distributor: 0x800_0000 },
    interrupts: {
      injectIrq: (_v, intid, _prio, _group, lr) => injected.push({ intid, lr }),
      ackVppi: () => undefined,
      irqAck: () => undefined,
    },
    ram,
  });
  vmm.guest.start(0, { pc: 0x4008_0000n, x0: 0n });
  const host: VirtioVmm = { vmm, ram, log };
  /** Turns on the distributor and `intid`, as the guest's GIC driver and request_irq do. */
  const enable = (intid: number) => {
    vmm.vgic.setControl(1);
    vmm.vgic.setEnabled(0, intid, true);
  };
  /** The guest EOIs the newest injection of `intid`. */
  const eoi = (intid: number) => {
    const last = [...injected].reverse().find((i) => i.intid === intid);
    if (!last) throw new Error(`INTID ${intid} was never injected`);
    vmm.vgic.handleMaintenance(0, last.lr);
  };
  /** A driver for the device at `base`, through the VMM's MMIO map, rings in guest RAM from `arena`. */
  const driver = (base: number, arena = RAM_BASE) => {
    const region = vmm.mmio.find(base);
    if (!region) throw new Error(`nothing at ${base.toString(16)}`);
    return new VirtioTestDriver(region.handler, ram, arena);
  };
  return { vmm, ram, log, host, injected, enable, eoi, driver, control };
}
