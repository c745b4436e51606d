// libvmm's cross-VM connectors without a guest: the connections' checks and messages, the device-tree
// nodes they write, and the VMM's emulation of doorbells, event pages, SPIs and unmapped dataports.
import { describe, expect, it } from "vitest";
import {
  CrossVm,
  CrossVmConfigError,
  UIO_KERNEL_ARGUMENT,
  readDataportString,
  type CrossVmConnections,
} from "../../src/libvmm/crossvm.ts";
import { guestDtb } from "../../src/guest/dtb/guest-dtb.ts";
import { guestLayout } from "../../src/guest/layout.ts";
import { boardNamed } from "../../src/machine/boards/index.ts";
import { cellsOf, findNode, getProperty, readFdt, stringsOf } from "../../src/libvmm/fdt.ts";
import { Vmm } from "../../src/libvmm/vmm.ts";
import { FakeVcpuControl, dataAbortEsr, recordingLog } from "../libvmm/fake-vcpu.ts";
import { printConnections } from "../../examples/crossvm/connections.ts";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureCrossvmGuest } from "../../src/guest/crossvm/build.ts";

const SEED: CrossVmConnections = printConnections();

function expectProblems(connections: CrossVmConnections, ...problems: string[]): void {
  let message = "";
  try {
    new CrossVm(connections);
  } catch (error) {
    expect(error).toBeInstanceOf(CrossVmConfigError);
    message = (error as Error).message;
  }
  expect(message).toMatch(/^the cross-VM connections are not consistent:\n/);
  for (const problem of problems) expect(message).toContain(`  - ${problem}`);
}

function setup(connections: CrossVmConnections = SEED) {
  const control = new FakeVcpuControl(1);
  const log = recordingLog("VMM");
  const events: string[] = [];
  const vmm = new Vmm({
    vmName: "linux",
    vcpuCount: 1,
    log,
    control,
    gic: { version: 2, distributor: 0x800_0000 },
    interrupts: {
      injectIrq: (v, intid) => events.push(`inject ${v} ${intid}`),
      ackVppi: () => {},
      irqAck: () => {},
    },
    readInstruction: () => 0xb9000001, // str w1, [x0]
  });
  vmm.guest.start(0, { pc: 0x4008_0000n, x0: 0n });
  const crossvm = new CrossVm(connections);
  crossvm.attach(
    vmm,
    { name: "VMM", notify: (ch) => events.push(`notify ${ch}`), notifications: 1n << 2n },
    log,
  );
  const regs = control.regs[0]!;
  const access = (ipa: number, size: 1 | 2 | 4 | 8, write: boolean) =>
    vmm.handleFault(0, {
      kind: "VMFault",
      ip: regs.pc,
      addr: BigInt(ipa),
      prefetch: false,
      fsr: dataAbortEsr({ size, srt: 1, write }),
    });
  // Let the guest enable the SPI, as the consumes_event module's request_irq does.
  vmm.vgic.setEnabled(0, 40, true);
  vmm.vgic.control = 3;
  return { vmm, crossvm, regs, log, events, access };
}

describe("cross-VM connections", () => {
  it("place the event pages in the window, emitted events first", () => {
    const crossvm = new CrossVm(SEED);
    expect(crossvm.eventPage("emits", 1)).toBe(0x5010_0000);
    expect(crossvm.eventPage("consumes", 1)).toBe(0x5010_1000);
    expect(crossvm.kernelArguments()).toEqual([]);
    expect(
      new CrossVm(
        printConnections({ data: "module", doPrint: "uio", donePrinting: "module" }),
      ).kernelArguments(),
    ).toEqual([UIO_KERNEL_ARGUMENT]);
  });

  it("refuse ids that are not contiguous from 1, bad names and duplicate names", () => {
    expectProblems(
      {
        ...SEED,
        emits: [
          { id: 2, name: "do_print", channel: 2 },
          { id: 3, name: "data", channel: 4 },
        ],
      },
      "emitted event ids must be contiguous from 1 (the nth argument of the guest's init tool is id n): found 2, 3",
      "two connections are both named 'data'",
    );
    expectProblems(
      { ...SEED, dataports: [{ ...SEED.dataports![0]!, name: "my data" }] },
      "dataport 1's name 'my data' must be a C identifier, as in a CAmkES interface",
    );
  });

  it("refuse misaligned or overlapping ranges, shared channels and SPIs", () => {
    const [data] = SEED.dataports!;
    expectProblems(
      { ...SEED, dataports: [{ ...data!, gpa: 0x5000_0800, size: 100 }] },
      "dataport 1 ('data'): its guest-physical address 0x50000800 must be 4 KiB aligned",
      "dataport 1 ('data'): its size 100 must be a non-zero multiple of 4096 bytes",
    );
    expectProblems(
      { ...SEED, eventWindow: 0x5000_0000 },
      "dataport 1 ('data') [0x50000000..0x50001000) overlaps emitted event 1 ('do_print')'s page [0x50000000..0x50001000)",
    );
    expectProblems(
      {
        ...SEED,
        consumes: [
          { id: 1, name: "a", channel: 3, spi: 40 },
          { id: 2, name: "b", channel: 3, spi: 40 },
          { id: 3, name: "c", channel: 62, spi: 20 },
        ],
      },
      "two consumed events use channel 3, so one side could not tell them apart; give each its own channel",
      "two consumed events use interrupt 40; give each its own SPI",
      "consumed event 3 ('c') uses channel 62; channels are 0 to 61",
      "consumed event 3 ('c') has interrupt 20; give it an SPI (INTID 32 to 1019)",
    );
  });

  it("write device-tree nodes the guest's modules and uio_pdrv_genirq bind", () => {
    const connections = printConnections({ data: "module", doPrint: "module", donePrinting: "uio" });
    const nodes = new CrossVm(connections).deviceTreeNodes();
    const layout = guestLayout(boardNamed());
    const tree = readFdt(guestDtb({ ...layout.deviceTree(0), extraNodes: nodes }), "test").root;
    const dataport = findNode(tree, "/crossvm-dataport-1@50000000")!;
    expect(stringsOf(getProperty(dataport, "compatible")!)).toEqual(["virtkit,crossvm-dataport"]);
    expect(cellsOf(getProperty(dataport, "reg")!)).toEqual([0, 0x5000_0000, 0, 0x1000]);
    expect(cellsOf(getProperty(dataport, "virtkit,id")!)).toEqual([1]);
    expect(stringsOf(getProperty(dataport, "virtkit,name")!)).toEqual(["data"]);
    const doorbell = findNode(tree, "/crossvm-emits-event-1@50100000")!;
    expect(stringsOf(getProperty(doorbell, "compatible")!)).toEqual(["virtkit,crossvm-emits-event"]);
    const consumed = findNode(tree, "/crossvm-consumes-event-1@50101000")!;
    expect(stringsOf(getProperty(consumed, "compatible")!)).toEqual(["generic-uio", "virtkit,crossvm-uio"]);
    // SPI 8 = INTID 40, rising edge.
    expect(cellsOf(getProperty(consumed, "interrupts")!)).toEqual([0, 8, 1]);
  });

  it("refuse an emitted event on a channel the VMM cannot notify", () => {
    const other = new Vmm({
      vmName: "linux",
      vcpuCount: 1,
      log: recordingLog(),
      control: new FakeVcpuControl(1),
      gic: { version: 2, distributor: 0x800_0000 },
      interrupts: { injectIrq: () => {}, ackVppi: () => {}, irqAck: () => {} },
    });
    expect(() =>
      new CrossVm(SEED).attach(other, { name: "VMM", notify: () => {}, notifications: 0n }),
    ).toThrow(
      `emitted event 1 ('do_print') notifies the native PD on channel 2, which 'VMM' does not have: add <channel><end pd="VMM" id="2" />`,
    );
  });
});

describe("the VMM's side of the connections", () => {
  it("turns a store of every size anywhere in the doorbell page into one notification, and steps past it", () => {
    const { crossvm, regs, access, events } = setup();
    const doorbell = crossvm.eventPage("emits", 1);
    const sizes = [1, 2, 4, 8] as const;
    for (const [i, size] of sizes.entries()) {
      const pc = regs.pc;
      expect(access(doorbell + i * 8, size, true)).toBe(true);
      expect(regs.pc).toBe(pc + 4n);
    }
    expect(events).toEqual(["notify 2", "notify 2", "notify 2", "notify 2"]);
    expect(crossvm.emitted.get(1)).toBe(4);
    // A read of the doorbell reads zero and notifies nobody.
    regs.setX(1, 0x1234n);
    expect(access(doorbell, 4, false)).toBe(true);
    expect(regs.getX(1)).toBe(0n);
    expect(events).toHaveLength(4);
  });

  it("counts a consumed event in its page and injects its SPI", () => {
    const { crossvm, regs, access, events } = setup();
    const page = crossvm.eventPage("consumes", 1);
    expect(access(page, 4, false)).toBe(true);
    expect(regs.getX(1)).toBe(1n); // the id
    expect(crossvm.handleNotification(3)).toBe(true);
    expect(crossvm.handleNotification(2)).toBe(false);
    expect(events).toEqual(["inject 0 40"]);
    expect(access(page + 4, 4, false)).toBe(true);
    expect(regs.getX(1)).toBe(1n); // the count
    crossvm.handleNotification(3);
    expect(access(page, 8, false)).toBe(true);
    expect(regs.getX(1)).toBe((2n << 32n) | 1n);
  });

  it("ignores writes to the event page, and stops a vCPU that reads it misaligned", () => {
    const { crossvm, access, log } = setup();
    const page = crossvm.eventPage("consumes", 1);
    expect(access(page + 4, 4, true)).toBe(true);
    expect(log.lines).toContain(
      "VMM|ERROR: consumed event 1 ('done_printing'): the guest wrote read-only register 0x4; ignored",
    );
    expect(access(page + 2, 4, false)).toBe(false);
    expect(log.lines.join("\n")).toContain("consumed event 1's registers take naturally aligned reads");
  });

  it("explains an access to a dataport the system does not map into the VM", () => {
    const { access, log } = setup();
    expect(access(0x5000_0010, 4, true)).toBe(false);
    expect(log.lines.join("\n")).toContain(
      `dataport 1 ('data', memory region 'data') is not mapped into this VM at 0x50000000: add <map mr="data" vaddr="0x50000000" perms="rw" /> to the <virtual_machine>`,
    );
  });
});

describe("readDataportString", () => {
  it("stops at the first NUL and never reads past the dataport", () => {
    expect(readDataportString(new TextEncoder().encode("hello\0world"))).toEqual({
      text: "hello",
      terminated: true,
    });
    expect(readDataportString(new Uint8Array(8).fill(0x41))).toEqual({ text: "AAAAAAAA", terminated: false });
    expect(readDataportString(new Uint8Array(0))).toEqual({ text: "", terminated: false });
  });
});

describe("the guest side's build", () => {
  it("needs a kernel built with its module tree, and says which", async () => {
    const dir = mkdtempSync(join(tmpdir(), "virtkit-crossvm-kernel-"));
    const kernel = {
      dir,
      path: join(dir, "Image"),
      built: false,
      manifest: {
        kind: "kernel" as const,
        name: "debian",
        file: "Image",
        size: 0,
        sha256: "",
        source: "linux-image-6.1 (stock)",
      },
    };
    await expect(ensureCrossvmGuest({ cacheRoot: dir, kernel, onProgress: () => {} })).rejects.toThrow(
      "linux-image-6.1 (stock) has no module build tree: boot the minimal kernel (--kernel minimal)",
    );
  });
});
