// Random and adversarial descriptor chains against every virtio device model — net, block, console,
// sound — on the board's RAM and on a VMM's guest RAM: nothing throws out of a register access, no byte
// outside guest RAM changes, and every report of a broken queue names the device, the queue and (for a
// bad chain) the descriptor.
import { describe, expect, it } from "vitest";
import type { MmioDevice } from "../../src/machine/devices/mmio.ts";
import {
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VirtioSndFormat,
} from "../../src/machine/devices/virtio/constants.ts";
import { VirtioBlk, memoryBlockBackend, type BlockBackend } from "../../src/machine/devices/virtio/blk.ts";
import { VirtioConsole } from "../../src/machine/devices/virtio/console.ts";
import { VirtioNet } from "../../src/machine/devices/virtio/net.ts";
import { VirtioSound, type SoundBackend, type SoundDone } from "../../src/machine/devices/virtio/sound.ts";
import type { DmaMemory } from "../../src/machine/devices/virtio/dma.ts";
import type { VirtioDeviceOptions } from "../../src/machine/devices/virtio/transport.ts";
import { PhysicalMemory } from "../../src/machine/physical-memory.ts";
import { RecordingIrq, VirtioTestDriver, type DriverQueue } from "./virtio-test-driver.ts";
import { fuzzDevice, rng, type Rng } from "./virtio-fuzzer.ts";

const RAM = 0x4000_0000;
const RAM_SIZE = 2 * 1024 * 1024;

/** Back-ends that complete at once or later, at random. */
function lateBackends(r: Rng, later: (() => void)[]) {
  const maybeLater = (run: () => void) => (r.chance(0.5) ? later.push(run) : run());
  const disk = memoryBlockBackend(new Uint8Array(64 * 512));
  const blk: BlockBackend = {
    capacity: disk.capacity,
    read: (s, into, done) => maybeLater(() => disk.read(s, into, done)),
    write: (s, data, done) => maybeLater(() => disk.write(s, data, done)),
    flush: (done) => maybeLater(() => (r.chance(0.2) ? done("injected failure") : disk.flush(done))),
  };
  const answer = (done: SoundDone) => maybeLater(() => done(r.chance(0.1) ? "injected failure" : undefined));
  const sound: SoundBackend = {
    streams: [
      { direction: "output", channelsMin: 1, channelsMax: 2, formats: [VirtioSndFormat.S16], rates: [48000] },
      { direction: "input", channelsMin: 1, channelsMax: 2, formats: [VirtioSndFormat.S16], rates: [48000] },
    ],
    setParams: (_s, _p, done) => answer(done),
    prepare: (_s, done) => answer(done),
    release: (_s, done) => answer(done),
    start: (_s, done) => answer(done),
    stop: (_s, done) => answer(done),
    play: (_s, _pcm, done) => answer(done),
    capture: (_s, into, done) => maybeLater(() => (into.fill(1), done())),
  };
  return { blk, sound };
}

interface Subject {
  name: string;
  queues: number;
  make(
    common: VirtioDeviceOptions,
    r: Rng,
    late: (() => void)[],
  ): MmioDevice & { inject?(bytes: Uint8Array): unknown };
}

const SUBJECTS: Subject[] = [
  {
    name: "virtio-net",
    queues: 2,
    make: (common) => {
      const net = new VirtioNet({
        ...common,
        mac: "52:54:00:12:34:56",
        wire: { transmit: () => {}, connect: (rx) => (wireRx = rx) },
      });
      return Object.assign(net, { inject: (bytes: Uint8Array) => wireRx?.(bytes) });
    },
  },
  {
    name: "virtio-blk",
    queues: 1,
    make: (common, r, late) => new VirtioBlk({ ...common, backend: lateBackends(r, late).blk }),
  },
  {
    name: "virtio-console",
    queues: 2,
    make: (common, r) => {
      const console = new VirtioConsole({
        ...common,
        port: { transmit: (b) => (r.chance(0.3) ? r.below(b.length + 1) : b.length) },
      });
      return Object.assign(console, { inject: (bytes: Uint8Array) => console.receive(bytes) });
    },
  },
  {
    name: "virtio-snd",
    queues: 4,
    make: (common, r, late) => new VirtioSound({ ...common, backend: lateBackends(r, late).sound }),
  },
];
let wireRx: ((frame: Uint8Array) => void) | undefined;

function fuzz(subject: Subject, memory: () => DmaMemory, seed: number, rounds: number) {
  const r = rng(seed);
  const errors: string[] = [];
  const mem = memory();
  const late: (() => void)[] = [];
  const device = subject.make(
    { memory: mem, irq: new RecordingIrq(), name: `fuzzed ${subject.name}`, onError: (m) => errors.push(m) },
    r,
    late,
  );
  const d = new VirtioTestDriver(device, mem, RAM);
  fuzzDevice(
    { d, ram: { base: RAM, size: RAM_SIZE }, queueCount: subject.queues, inject: device.inject, late },
    r,
    rounds,
  );
  return { errors, d };
}

function boardRam(): PhysicalMemory {
  // 64 KiB reserved in front of RAM stand for the core's state: DMA must never reach them.
  return new PhysicalMemory({ ramBase: RAM, ramSize: RAM_SIZE, reservedForCore: 0x1_0000 });
}

describe("virtio devices under random and adversarial descriptor chains", () => {
  for (const subject of SUBJECTS) {
    for (const world of ["board", "vmm"] as const) {
      it(`${subject.name} on ${world === "board" ? "the board's RAM" : "a VMM's guest RAM"}: no throw, nothing outside RAM, reports name the descriptor`, () => {
        const reports: string[] = [];
        for (let seed = 1; seed <= 40; seed++) {
          let physical: PhysicalMemory | undefined;
          let before: Uint8Array | undefined;
          const memory = () => {
            if (world === "vmm") return { regions: [{ gpa: RAM, bytes: new Uint8Array(RAM_SIZE) }] };
            physical = boardRam();
            before = new Uint8Array(physical.memory.buffer, 0, 0x1_0000).slice();
            return physical;
          };
          const { errors } = fuzz(subject, memory, seed * 7919 + subject.name.length, 300);
          if (physical) expect(Buffer.from(physical.memory.buffer, 0, 0x1_0000).equals(before!)).toBe(true);
          reports.push(...errors);
        }
        expect(reports.length).toBeGreaterThan(0);
        for (const report of reports) {
          expect(report.startsWith(`fuzzed ${subject.name}`), report).toBe(true);
          expect(report, "an internal error is a bug").not.toMatch(/internal error/);
          if (report.includes("DEVICE_NEEDS_RESET")) {
            expect(report, report).toMatch(/: queue \d+ \([a-z0-9]+\)/);
            const chain = !/ has (size|its|QueueAlign|available-ring idx)/.test(report);
            if (chain) {
              expect(report, report).toMatch(
                /(descriptor \d+|entry \d+ of the indirect table in descriptor \d+|available-ring entry \d+)/,
              );
            }
          }
        }
        // Something of each kind happened: broken chains were caught and named.
        expect(reports.some((m) => /descriptor \d+/.test(m) && m.includes("DEVICE_NEEDS_RESET"))).toBe(true);
      });
    }
  }

  it("names the bad descriptor of each classic attack", () => {
    const attacks: {
      name: string;
      chain: (d: VirtioTestDriver, q: DriverQueue) => void;
      expected: RegExp;
    }[] = [
      {
        name: "a loop",
        chain: (d, q) => {
          d.writeDesc(q, 0, d.buffer(32), 32, VIRTQ_DESC_F_NEXT, 1);
          d.writeDesc(q, 1, d.buffer(32), 32, VIRTQ_DESC_F_NEXT, 0);
          d.publish(q, 0);
        },
        expected:
          /descriptor [01] is visited again: the chain from descriptor 0 has more than the 8 descriptors of its table/,
      },
      {
        name: "a buffer beyond RAM",
        chain: (d, q) => {
          d.writeDesc(q, 3, RAM + RAM_SIZE - 8, 16, 0);
          d.publish(q, 3);
        },
        expected: /descriptor 3 points at \[0x401ffff8, \+16\), outside guest RAM/,
      },
      {
        name: "a nested indirect table",
        chain: (d, q) => {
          const table = d.buffer(32);
          d.writeDesc(q, 0, d.buffer(32), 32, VIRTQ_DESC_F_INDIRECT, 0, table);
          d.writeDesc(q, 5, table, 32, VIRTQ_DESC_F_INDIRECT);
          d.publish(q, 5);
        },
        expected:
          /entry 0 of the indirect table in descriptor 5 sets VIRTQ_DESC_F_INDIRECT inside an indirect table/,
      },
      {
        name: "a head outside the table",
        chain: (d, q) => d.publish(q, 200),
        expected: /available-ring entry 0 names descriptor 200, but the queue has 8 descriptors/,
      },
    ];
    for (const subject of SUBJECTS) {
      for (const attack of attacks) {
        const errors: string[] = [];
        const memory = { regions: [{ gpa: RAM, bytes: new Uint8Array(RAM_SIZE) }] };
        const device = subject.make(
          { memory, irq: new RecordingIrq(), name: subject.name, onError: (m) => errors.push(m) },
          rng(1),
          [],
        );
        const d = new VirtioTestDriver(device, memory, RAM);
        const queues = d.bringUp(subject.queues, 8);
        // The queue the device reads on a notify: transmit for net and console, control for sound.
        const q = queues[subject.name === "virtio-net" || subject.name === "virtio-console" ? 1 : 0]!;
        attack.chain(d, q);
        d.notify(q);
        expect(errors.length, `${subject.name}: ${attack.name}`).toBe(1);
        expect(errors[0], `${subject.name}: ${attack.name}`).toMatch(
          new RegExp(`^${subject.name}: queue \\d+ \\([a-z0-9]+\\): `),
        );
        expect(errors[0], `${subject.name}: ${attack.name}`).toMatch(attack.expected);
        expect(d.needsReset()).toBe(true);
      }
    }
  });
});
