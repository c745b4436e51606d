// The virtio-net device driven by a bare-metal guest (tests/guests/virtio_net.c) on a virtkit vCPU: its
// loads and stores to 0xa003e00 reach the device as passed-through accesses do, INTID 79 reaches it through
// a list register whenever the device raises its line, and a fake wire answers the frame it sends.
import { describe, expect, it } from "vitest";
import type { VcpuExit } from "../../src/machine/cpu.ts";
import type { EthernetWire } from "../../src/machine/devices/ethernet.ts";
import type { AccessSize } from "../../src/machine/devices/mmio.ts";
import { VirtioNet, parseMac } from "../../src/machine/devices/virtio/net.ts";
import { ensureCpuTestTools } from "../cpu/toolchain.ts";
import { GUEST_RAM_BASE, GUEST_RAM_SIZE, describeResult, runGuest, type GuestContext } from "./run-guest.ts";
import { decodeAbort, extendLoad } from "./syndrome.ts";

const toolsProblem = ensureCpuTestTools();
if (toolsProblem && process.env.CI) throw new Error(toolsProblem);
const suite = toolsProblem ? describe.skip : describe;

const NIC_BASE = 0x0a00_3e00;
const NIC_INTID = 79n;
const MAC = "52:55:00:d1:55:01";
const WIRE_MAC = "52:55:0a:00:02:02";
const GICV_IPA = 0x0801_0000;
/** GICH_LR fields (GICv2 layout): pending state, priority. */
const LR_PENDING = 1n << 28n;
const LR_STATE = 3n << 28n;
const LR_PRIORITY_A0 = BigInt(0xa0 >> 3) << 23n;

/** The network: records what the NIC sends and answers each frame with a unicast reply. */
class EchoWire implements EthernetWire {
  readonly sent: Uint8Array[] = [];
  private receive: ((frame: Uint8Array) => void) | undefined;

  connect(receive: (frame: Uint8Array) => void): void {
    this.receive = receive;
  }

  transmit(frame: Uint8Array): void {
    this.sent.push(Uint8Array.from(frame));
    const reply = new Uint8Array(14 + 19);
    reply.set(frame.subarray(6, 12), 0);
    reply.set(parseMac(WIRE_MAC), 6);
    reply.set(frame.subarray(12, 14), 12);
    reply.set(new TextEncoder().encode("hello from the wire"), 14);
    this.receive?.(reply);
  }
}

/** The host side: the NIC on the guest's RAM, its register accesses emulated from the abort syndrome. */
function nicHost() {
  const wire = new EchoWire();
  const errors: string[] = [];
  const events: string[] = [];
  let net: VirtioNet | undefined;
  return {
    wire,
    errors,
    events,
    setup({ vcpu, memory }: GuestContext) {
      vcpu.gicvBase = GICV_IPA;
      net = new VirtioNet({
        memory,
        wire,
        mac: MAC,
        name: "virtio-net on virtio-mmio slot 31 (0xa003e00)",
        onError: (m) => errors.push(m),
        irq: {
          // An edge-triggered SPI seen through the vGIC: each rising edge makes INTID 79 pending once.
          set(high) {
            events.push(high ? "line high" : "line low");
            if (!high) return;
            expect(vcpu.getListRegister(0) & LR_STATE, "the previous interrupt was handled").toBe(0n);
            vcpu.setListRegister(0, LR_PENDING | LR_PRIORITY_A0 | NIC_INTID);
          },
        },
      });
    },
    onExit(exit: VcpuExit, { vcpu }: GuestContext): boolean {
      if (exit.kind === "wfi") {
        vcpu.pc += 4n; // idle: seL4 resumes a VCPU after the WFI it trapped
        return true;
      }
      if (exit.kind !== "stage2-abort" || exit.ipa < NIC_BASE || exit.ipa >= NIC_BASE + 0x200) return false;
      const s = decodeAbort(exit.esr);
      if (!s.isv) return false;
      const size = (1 << s.sas) as AccessSize;
      const offset = exit.ipa - NIC_BASE;
      if (s.wnr) {
        const value = s.srt === 31 ? 0n : BigInt.asUintN(8 * size, vcpu.getX(s.srt));
        net!.write(offset, size, value, 0);
      } else {
        const value = net!.read(offset, size, 0);
        if (s.srt !== 31) vcpu.setX(s.srt, extendLoad(value, s.sas, s.sse, s.sf));
      }
      vcpu.pc += 4n;
      return true;
    },
  };
}

suite("bare-metal virtio-net driver (virtio_net)", () => {
  it("negotiates, sends a frame, receives the answer by interrupt, and sees a malformed chain refused", async () => {
    const host = nicHost();
    const result = await runGuest("virtio_net", host);
    expect(result.code, describeResult("virtio_net", result)).toBe(0);
    expect(result.console).toBe(
      [
        "virtio-net: version 2, device features 0x00000001 0x10010020",
        "FEATURES_OK refused for CSUM",
        "FEATURES_OK accepted for MAC STATUS VERSION_1",
        "mac 52:55:00:d1:55:01, link up",
        "sent 34 bytes",
        "received 33 bytes from 52:55:0a:00:02:02: hello from the wire",
        "interrupts 1, InterruptStatus now 0",
        "malformed chain: status 0x0000004f",
        "reset: status 0",
        "",
      ].join("\n"),
    );
    // The frame on the wire: broadcast, from the NIC's MAC, EtherType 0x88b5, the payload; no virtio header.
    const expected = new Uint8Array(34);
    expected.fill(0xff, 0, 6);
    expected.set(parseMac(MAC), 6);
    expected.set([0x88, 0xb5], 12);
    expected.set(new TextEncoder().encode("hello from the guest"), 14);
    expect(host.wire.sent).toEqual([expected]);
    expect(host.events).toEqual(["line high", "line low", "line high", "line low"]);
    const ramEnd = (GUEST_RAM_BASE + GUEST_RAM_SIZE).toString(16);
    expect(host.errors).toEqual([
      "virtio-net on virtio-mmio slot 31 (0xa003e00): queue 1 (transmitq1): descriptor 2 points at " +
        `[0x10000000, +64), outside guest RAM [0x40000000, 0x${ramEnd}). Give the device buffers in guest RAM ` +
        "(for a passed-through device guest-physical addresses are physical ones). The device stopped queue 1 " +
        "and set DEVICE_NEEDS_RESET (0x40) in Status; the driver must reset it (write 0 to Status) and set it up again.",
    ]);
  });
});
