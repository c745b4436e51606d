import { describe, expect, it } from "vitest";
import { makeVgic } from "./vgic-helpers.ts";

function enabledVgic(vcpuCount = 1) {
  const ctx = makeVgic(2, vcpuCount);
  ctx.vgic.setControl(1);
  return ctx;
}

describe("Vgic injection", () => {
  it("delivers a registered, enabled interrupt into the first free list register", () => {
    const { vgic, injected } = enabledVgic();
    vgic.registerIrq(0, 33);
    vgic.setEnabled(0, 33, true);
    vgic.setPriority(0, 33, 0xa7);
    expect(vgic.inject(0, 33)).toBe("listed");
    expect(injected).toEqual(["0:33:20:0@0"]); // 0xa0 >> 3
  });

  it("latches an interrupt while it or the distributor is disabled and delivers it on enable", () => {
    const { vgic, injected } = makeVgic(2, 1);
    vgic.registerIrq(0, 40);
    expect(vgic.inject(0, 40)).toBe("latched");
    vgic.setEnabled(0, 40, true);
    expect(injected).toEqual([]);
    vgic.setControl(1);
    expect(injected).toEqual(["0:40:0:0@0"]);
  });

  it("respects the group enables of GICD_CTLR", () => {
    const { vgic, injected } = makeVgic(2, 1);
    vgic.registerIrq(0, 40);
    vgic.setEnabled(0, 40, true);
    vgic.setGroup(0, 40, 1);
    vgic.setControl(1);
    vgic.inject(0, 40);
    expect(injected).toEqual([]);
    vgic.setControl(2);
    expect(injected).toEqual(["0:40:0:1@0"]);
  });

  it("coalesces an interrupt that is already pending", () => {
    const { vgic, injected } = enabledVgic();
    vgic.registerIrq(0, 33);
    vgic.setEnabled(0, 33, true);
    vgic.inject(0, 33);
    expect(vgic.inject(0, 33)).toBe("coalesced");
    expect(injected).toHaveLength(1);
  });

  it("queues beyond four list registers and refills the most urgent first on EOI", () => {
    const { vgic, injected } = enabledVgic();
    const acks: number[] = [];
    for (let intid = 40; intid < 47; intid++) {
      vgic.registerIrq(0, intid, (_v, i) => acks.push(i));
      vgic.setEnabled(0, intid, true);
      vgic.setPriority(0, intid, 0x80);
    }
    vgic.setPriority(0, 46, 0x10);
    acks.length = 0;
    for (let intid = 40; intid < 47; intid++) vgic.inject(0, intid);
    expect(injected).toEqual(["0:40:16:0@0", "0:41:16:0@1", "0:42:16:0@2", "0:43:16:0@3"]);
    expect(vgic.listRegisters[0]!.queued.map((q) => q.intid)).toEqual([44, 45, 46]);
    vgic.handleMaintenance(0, 2);
    expect(acks).toEqual([42]);
    expect(injected.at(-1)).toBe("0:46:2:0@2");
    vgic.handleMaintenance(0, 0);
    expect(injected.at(-1)).toBe("0:44:16:0@0");
    expect(vgic.pendingSources(0, 42)).toBe(0);
    expect(vgic.listRegisters[0]!.queued.map((q) => q.intid)).toEqual([45]);
  });

  it("refuses to inject an unregistered interrupt, saying so", () => {
    const { vgic, log } = enabledVgic();
    expect(vgic.inject(0, 50)).toBe("unregistered");
    expect(log.lines).toEqual([
      "vmm|ERROR: vGIC: interrupt 50 was injected into vCPU 0 without being registered; dropped",
    ]);
  });

  it("re-delivers an edge that arrived while the interrupt was listed, once", () => {
    const { vgic, injected } = enabledVgic();
    vgic.registerIrq(0, 48);
    vgic.setEnabled(0, 48, true);
    vgic.setEdgeTriggered(0, 48, true);
    vgic.inject(0, 48);
    expect(vgic.inject(0, 48)).toBe("coalesced");
    expect(vgic.inject(0, 48)).toBe("coalesced");
    vgic.handleMaintenance(0, 0);
    expect(injected).toEqual(["0:48:0:0@0", "0:48:0:0@0"]);
    vgic.handleMaintenance(0, 0);
    expect(injected).toHaveLength(2);
    expect(vgic.pendingSources(0, 48)).toBe(0);
  });

  it("withdraws a queued interrupt whose pending state is cleared", () => {
    const { vgic, injected } = enabledVgic();
    for (let intid = 40; intid < 45; intid++) {
      vgic.registerIrq(0, intid);
      vgic.setEnabled(0, intid, true);
      vgic.inject(0, intid);
    }
    vgic.setPending(0, 44, false);
    vgic.handleMaintenance(0, 0);
    expect(injected).toHaveLength(4);
    expect(vgic.listRegisters[0]!.queued).toEqual([]);
  });

  it("acks a latched interrupt whose pending state the guest clears, as no EOI will ever ack it", () => {
    const { vgic } = makeVgic(2, 1);
    const acks: string[] = [];
    vgic.registerVtimer(0, (v, intid) => acks.push(`ackVppi ${v} ${intid}`));
    // A VPPI event before the guest set up its GIC (seL4 has masked the timer): latched, then discarded.
    expect(vgic.inject(0, 27)).toBe("latched");
    vgic.setPending(0, 27, false);
    expect(acks).toEqual(["ackVppi 0 27"]);
    vgic.setPending(0, 27, false); // nothing was pending: no second ack
    expect(acks).toHaveLength(1);
  });

  it("does not ack a listed interrupt whose pending state is cleared: its EOI will", () => {
    const { vgic } = enabledVgic();
    const acks: number[] = [];
    vgic.registerIrq(0, 40, (_v, intid) => acks.push(intid));
    vgic.setEnabled(0, 40, true);
    acks.length = 0;
    expect(vgic.inject(0, 40)).toBe("listed");
    vgic.setPending(0, 40, false);
    expect(acks).toEqual([]);
    vgic.handleMaintenance(0, 0);
    expect(acks).toEqual([40]);
  });

  it("logs maintenance for an empty list register and rejects a bad index", () => {
    const { vgic, log } = enabledVgic();
    vgic.handleMaintenance(0, 3);
    expect(log.lines).toEqual(["vmm|ERROR: vGIC: maintenance for empty list register 3 on vCPU 0; ignored"]);
    expect(() => vgic.handleMaintenance(0, 4)).toThrow(
      "maintenance for list register 4: a vCPU has list registers 0 to 3",
    );
    expect(() => vgic.handleMaintenance(2, 0)).toThrow("vGIC: maintenance for vCPU 2, which does not exist");
  });
});

describe("Vgic passthrough and the virtual timer", () => {
  it("injects on the channel's notification and acks the IRQ on EOI", () => {
    const { vgic, injected } = enabledVgic();
    const acked: number[] = [];
    vgic.registerPassthroughIrq(0, 33, 1, (ch) => acked.push(ch));
    expect(vgic.handleChannel(2)).toBe(false);
    vgic.setEnabled(0, 33, true); // enabling a not-pending passthrough IRQ acks it
    expect(acked).toEqual([1]);
    expect(vgic.handleChannel(1)).toBe(true);
    expect(injected).toEqual(["0:33:0:0@0"]);
    vgic.handleMaintenance(0, 0);
    expect(acked).toEqual([1, 1]);
  });

  it("rejects bad channels, reused channels and double registration", () => {
    const { vgic } = enabledVgic();
    const ack = () => undefined;
    expect(() => vgic.registerPassthroughIrq(0, 33, 62, ack)).toThrow(
      "vGIC: cannot pass interrupt 33 through on channel 62; channels are 0 to 61",
    );
    vgic.registerPassthroughIrq(0, 33, 1, ack);
    expect(() => vgic.registerPassthroughIrq(0, 34, 1, ack)).toThrow(
      "vGIC: channel 1 already passes interrupt 33 through to vCPU 0",
    );
    expect(() => vgic.registerPassthroughIrq(0, 33, 2, ack)).toThrow(
      "vGIC: interrupt 33 on vCPU 0 is already registered",
    );
    expect(() => vgic.registerIrq(0, 3)).toThrow(
      "vGIC: SGI 3 is raised by the guest and cannot be registered",
    );
    expect(() => vgic.registerIrq(0, 256)).toThrow(
      "vGIC: no interrupt 256 on vCPU 0; INTIDs are 0 to 255 and vCPUs 0 to 0",
    );
  });

  it("runs the virtual timer through the VPPI flow", () => {
    const { vgic, injected } = enabledVgic(2);
    const acks: string[] = [];
    vgic.registerVtimer(1, (v, i) => acks.push(`${v}:${i}`));
    vgic.setEnabled(1, 27, true);
    acks.length = 0;
    vgic.inject(1, 27);
    expect(injected).toEqual(["1:27:0:0@0"]);
    vgic.handleMaintenance(1, 0);
    expect(acks).toEqual(["1:27"]);
    expect(vgic.inject(0, 27)).toBe("unregistered"); // the timer is per vCPU
  });

  it("validates its configuration", () => {
    expect(() => makeVgic(2, 1, 100)).toThrow(
      "vGIC: 100 interrupt lines requested; use a multiple of 32 from 64 to 1024",
    );
    expect(() => makeVgic(2, 9)).toThrow(
      "vGIC: 9 vCPUs requested; the GIC supports 1 to 8 CPU interfaces here",
    );
  });
});

describe("Vgic reset", () => {
  it("returns the distributor to its reset state, keeping registrations and what is in list registers", () => {
    const { vgic, injected } = enabledVgic();
    for (let intid = 40; intid < 46; intid++) {
      vgic.registerIrq(0, intid);
      vgic.setEnabled(0, intid, true);
      vgic.setPriority(0, intid, 0x80);
      vgic.inject(0, intid);
    }
    expect(vgic.listRegisters[0]!.queued).toHaveLength(2);
    vgic.reset();
    expect(vgic.control).toBe(0);
    expect(vgic.enabled(0, 40)).toBe(false);
    expect(vgic.enabled(0, 3)).toBe(true); // GICv2 SGIs stay enabled
    expect(vgic.priority(0, 40)).toBe(0);
    expect(vgic.pendingSources(0, 44)).toBe(0);
    expect(vgic.listRegisters[0]!.queued).toEqual([]);
    // The listed ones leave on their EOI; the registrations still work afterwards.
    vgic.handleMaintenance(0, 0);
    vgic.setControl(1);
    vgic.setEnabled(0, 44, true);
    expect(vgic.inject(0, 44)).toBe("listed");
    expect(injected.at(-1)).toBe("0:44:0:0@0");
  });
});
