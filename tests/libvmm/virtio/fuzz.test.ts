// libvmm's virtio devices, wired to real sDDF queues, under a hostile guest driver: random and adversarial
// chains through the VMM's emulated MMIO. Nothing throws into the VMM, every report is in the VMM's log and
// names the VM and device (and, for a broken queue, the queue and descriptor), and what reaches the sDDF
// side stays inside the client's data regions and the disk.
import { describe, expect, it } from "vitest";
import { virtioBlk } from "../../../src/libvmm/virtio/blk.ts";
import { virtioConsole } from "../../../src/libvmm/virtio/console.ts";
import { LIBVMM_VIRTIO_PLACEMENT } from "../../../src/libvmm/virtio/mmio.ts";
import { virtioNet } from "../../../src/libvmm/virtio/net.ts";
import { virtioSound } from "../../../src/libvmm/virtio/sound.ts";
import {
  BLK_STORAGE_INFO,
  BLK_TRANSFER_SIZE,
  BlkQueueHandle,
  BlkStorageInfo,
  blkReqQueueSize,
  blkRespQueueSize,
} from "../../../src/sddf/blk/queue.ts";
import { NET_BUFFER_SIZE, NetQueueHandle, netQueueSize } from "../../../src/sddf/net/queue.ts";
import { SERIAL_QUEUE, SerialQueueHandle } from "../../../src/sddf/serial/queue.ts";
import {
  SOUND_SHARED_STATE,
  SoundCmdQueueHandle,
  SoundPcmFmt,
  SoundPcmQueueHandle,
  SoundQueues,
  SoundSharedState,
  soundCmdQueueSize,
  soundPcmQueueSize,
} from "../../../src/sddf/sound/queue.ts";
import { fuzzDevice, rng, type Rng } from "../../machine/virtio-fuzzer.ts";
import { RAM_BASE, RAM_SIZE, testVmm } from "./harness.ts";

type Vmm = ReturnType<typeof testVmm>;

interface Wired {
  base: number;
  queues: number;
  inject?(bytes: Uint8Array): void;
  /** The sDDF side's invariants, checked after the run. */
  check(): void;
}

const DEVICES: Record<string, (t: Vmm, r: Rng) => Wired> = {
  console(t, r) {
    const q = (n: number) => [new Uint8Array(SERIAL_QUEUE.size), new Uint8Array(n)] as const;
    const [rq, rd] = q(64);
    const [tq, td] = q(64);
    const virtTx = new SerialQueueHandle(tq, td, 64);
    const virtRx = new SerialQueueHandle(rq, rd, 64);
    const c = virtioConsole(t.host, {
      ...LIBVMM_VIRTIO_PLACEMENT.console,
      rx: new SerialQueueHandle(rq, rd, 64),
      tx: new SerialQueueHandle(tq, td, 64),
      rxChannel: 1,
      txChannel: 2,
      notify: (ch) => {
        if (ch === 2 && r.chance(0.5)) {
          virtTx.dequeueBatch();
          virtTx.signalIfRequired(() => c.handleNotification(2));
        }
      },
    });
    return {
      base: 0x130000,
      queues: 2,
      inject: (bytes) => {
        virtRx.enqueueBatch(bytes);
        c.handleNotification(1);
      },
      check: () => expect(virtTx.violation()).toBeUndefined(),
    };
  },
  blk(t, r) {
    const req = new Uint8Array(blkReqQueueSize(16));
    const resp = new Uint8Array(blkRespQueueSize(16));
    const info = new Uint8Array(BLK_STORAGE_INFO.regionSize);
    const data = new Uint8Array(8 * BLK_TRANSFER_SIZE);
    const disk = new Uint8Array(32 * BLK_TRANSFER_SIZE);
    const storage = new BlkStorageInfo(info);
    storage.write({ serialNumber: "fuzz", readOnly: false, sectorSize: 512, blockSize: 1, queueDepth: 16, cylinders: 0, heads: 0, blocks: 0, capacity: 32 }); // prettier-ignore
    storage.setReady(true);
    const virt = new BlkQueueHandle(req, resp, 16);
    const held: (() => void)[] = [];
    const bad: string[] = [];
    const b = virtioBlk(t.host, {
      ...LIBVMM_VIRTIO_PLACEMENT.blk,
      queue: new BlkQueueHandle(req, resp, 16),
      storageInfo: new BlkStorageInfo(info),
      data,
      channel: 3,
      maxTransferBlocks: 4,
      notify: () => {
        for (let q = virt.dequeueReq(); q; q = virt.dequeueReq()) {
          const bytes = q.count * BLK_TRANSFER_SIZE;
          if (
            q.ioOrOffset + bytes > data.length ||
            (q.blockNumber + q.count) * BLK_TRANSFER_SIZE > disk.length
          ) {
            bad.push(JSON.stringify(q));
          }
          const request = q;
          held.push(() => {
            const at = request.blockNumber * BLK_TRANSFER_SIZE;
            if (request.code === 0) data.set(disk.subarray(at, at + bytes), request.ioOrOffset);
            if (request.code === 1)
              disk.set(data.subarray(request.ioOrOffset, request.ioOrOffset + bytes), at);
            virt.enqueueResp({ status: r.chance(0.1) ? 3 : 0, successCount: request.count, id: request.id });
          });
        }
      },
    });
    // The virtualiser answers some requests later, in any order.
    const answer = () => {
      while (held.length > 0 && r.chance(0.7)) held.splice(r.below(held.length), 1)[0]!();
      b.handleNotification(3);
    };
    return { base: 0x150000, queues: 1, inject: answer, check: () => expect(bad).toEqual([]) };
  },
  net(t) {
    const pair = () => {
      const free = new Uint8Array(netQueueSize(8));
      const active = new Uint8Array(netQueueSize(8));
      return { free, active, data: new Uint8Array(8 * NET_BUFFER_SIZE) };
    };
    const rx = pair();
    const tx = pair();
    const virtRx = new NetQueueHandle(rx.free, rx.active, 8);
    const virtTx = new NetQueueHandle(tx.free, tx.active, 8);
    const n = virtioNet(t.host, {
      ...LIBVMM_VIRTIO_PLACEMENT.net,
      mac: "52:54:01:00:00:10",
      rx: new NetQueueHandle(rx.free, rx.active, 8),
      rxData: rx.data,
      tx: new NetQueueHandle(tx.free, tx.active, 8),
      txData: tx.data,
      rxChannel: 4,
      txChannel: 5,
      notify: (ch) => {
        if (ch !== 5) return;
        for (let d = virtTx.dequeueActive(); d; d = virtTx.dequeueActive()) virtTx.enqueueFree(d);
        n.handleNotification(5);
      },
    });
    return {
      base: 0x160000,
      queues: 2,
      inject: (bytes) => {
        const d = virtRx.dequeueFree();
        if (!d) return;
        rx.data.set(bytes.subarray(0, NET_BUFFER_SIZE), d.ioOrOffset);
        virtRx.enqueueActive({ ioOrOffset: d.ioOrOffset, len: Math.min(bytes.length, NET_BUFFER_SIZE) });
        n.handleNotification(4);
      },
      check: () => expect(n.stats.badDescriptors).toBe(0),
    };
  },
  sound(t, r) {
    const regions = [
      soundCmdQueueSize(8),
      soundCmdQueueSize(8),
      soundPcmQueueSize(8),
      soundPcmQueueSize(8),
    ].map((size) => new Uint8Array(size));
    const queues = () =>
      new SoundQueues(
        new SoundCmdQueueHandle(regions[0]!, 8),
        new SoundCmdQueueHandle(regions[1]!, 8),
        new SoundPcmQueueHandle(regions[2]!, 8),
        new SoundPcmQueueHandle(regions[3]!, 8),
      );
    const virt = queues();
    const stateRegion = new Uint8Array(SOUND_SHARED_STATE.size);
    const state = new SoundSharedState(stateRegion);
    state.writeStreams([
      {
        formats: 1n << BigInt(SoundPcmFmt.S16),
        rates: 1n << 7n,
        direction: 0,
        channelsMin: 1,
        channelsMax: 2,
      },
      {
        formats: 1n << BigInt(SoundPcmFmt.S16),
        rates: 1n << 7n,
        direction: 1,
        channelsMin: 1,
        channelsMax: 2,
      },
    ]);
    state.setReady(true);
    const data = new Uint8Array(4 * 4096);
    const bad: string[] = [];
    const s = virtioSound(t.host, {
      ...LIBVMM_VIRTIO_PLACEMENT.sound,
      queues: queues(),
      sharedState: new SoundSharedState(stateRegion),
      data,
      channel: 6,
      notify: () => {
        for (let c = virt.cmdReq.dequeue(); c; c = virt.cmdReq.dequeue()) {
          virt.cmdRes.enqueue({ ...c, status: r.pick([0, 0, 0, 4]) });
        }
        for (let p = virt.pcmReq.dequeue(); p; p = virt.pcmReq.dequeue()) {
          if (p.ioOrOffset + p.len > data.length || p.len > 4096) bad.push(JSON.stringify(p));
          virt.pcmRes.enqueue({ ...p, status: 0, latencyBytes: 0 });
        }
      },
    });
    return {
      base: 0x170000,
      queues: 4,
      inject: () => s.handleNotification(6),
      check: () => expect(bad).toEqual([]),
    };
  },
};

describe("libvmm virtio devices under a hostile guest", () => {
  for (const [kind, wire] of Object.entries(DEVICES)) {
    it(`${kind}: nothing throws into the VMM, reports in its log name the VM, device, queue and descriptor`, () => {
      const lines: string[] = [];
      for (let seed = 1; seed <= 20; seed++) {
        const t = testVmm();
        const r = rng(seed * 104729 + kind.length);
        const w = wire(t, r);
        const d = t.driver(w.base);
        fuzzDevice(
          { d, ram: { base: RAM_BASE, size: RAM_SIZE }, queueCount: w.queues, inject: w.inject, late: [] },
          r,
          250,
        );
        w.check();
        lines.push(...t.log.lines);
      }
      expect(lines.length).toBeGreaterThan(0);
      const device = kind === "sound" ? "virtio-snd" : `virtio-${kind}`;
      for (const line of lines) {
        expect(line, line).toMatch(new RegExp(`^vmm\\|ERROR: linux: ${device} at 0x1[3567]0000: `));
        expect(line, line).not.toMatch(/internal error/);
        if (
          line.includes("DEVICE_NEEDS_RESET") &&
          !/ has (size|its|QueueAlign|available-ring idx)/.test(line)
        ) {
          expect(line, line).toMatch(
            /queue \d+ \([a-z0-9]+\): (descriptor \d+|entry \d+ of the indirect table in descriptor \d+|available-ring entry \d+)/,
          );
        }
      }
      expect(lines.some((l) => l.includes("DEVICE_NEEDS_RESET"))).toBe(true);
    });
  }
});
