// A hostile virtio driver for fuzzing device models: random and adversarial descriptor chains, indirect
// tables, ring indices and register writes, plus well-formed chains with random request contents. Shared
// by the device-model fuzz (tests/machine) and the libvmm one (tests/libvmm/virtio).
import {
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  VirtioMmio as R,
  VirtioSnd,
} from "../../src/machine/devices/virtio/constants.ts";
import type { DriverQueue, VirtioTestDriver } from "./virtio-test-driver.ts";

export type Rng = ReturnType<typeof rng>;

/** xorshift32: the same chains on every run. */
export function rng(seed: number) {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  return {
    next,
    below: (n: number) => next() % n,
    chance: (p: number) => next() / 0x1_0000_0000 < p,
    pick: <T>(xs: readonly T[]) => xs[next() % xs.length]!,
  };
}

/** Where the guest's RAM is, for addresses at and beyond its edges. */
export interface FuzzRam {
  base: number;
  size: number;
}

/** Addresses a hostile driver likes: inside RAM, at its edges, just outside, far outside, unaligned. */
function address(r: Rng, ram: FuzzRam): number {
  switch (r.below(8)) {
    case 0:
      return ram.base + r.below(ram.size);
    case 1:
      return ram.base + ram.size - r.below(64);
    case 2:
      return ram.base - 1 - r.below(64);
    case 3:
      return r.below(0x1_0000_0000) * 0x1_0000_0000 + r.next();
    case 4:
      return 0;
    default:
      return ram.base + 0x8_0000 + 16 * r.below(0x1000);
  }
}

function length(r: Rng): number {
  return r.pick([0, 1, 4, 8, 12, 16, 17, 24, 512, 513, 4096, 0xffff_ffff, r.next(), r.below(600)]);
}

/** Payloads that look like requests: block headers, sound control codes, transfer headers. */
function payload(r: Rng): Uint8Array {
  const b = new Uint8Array(32);
  const v = new DataView(b.buffer);
  v.setUint32(0, r.pick([0, 1, 4, 8, 11, 99, VirtioSnd.R_PCM_INFO, VirtioSnd.R_PCM_SET_PARAMS, VirtioSnd.R_PCM_PREPARE, VirtioSnd.R_PCM_START, VirtioSnd.R_PCM_STOP, VirtioSnd.R_PCM_RELEASE, r.next()]), true); // prettier-ignore
  v.setUint32(4, r.below(3), true);
  v.setUint32(8, r.pick([0, 1, 63, 64, r.next()]), true);
  v.setUint32(12, r.pick([0, 1, 32, 4096, r.next()]), true);
  b[20] = r.below(3);
  b[21] = r.pick([5, 17, 99]);
  b[22] = r.pick([7, 1, 40]);
  return b;
}

export interface FuzzTarget {
  d: VirtioTestDriver;
  ram: FuzzRam;
  /** How many queues the device has. */
  queueCount: number;
  /** Input from the outside world (a frame, console bytes), if the device takes any. */
  inject?(bytes: Uint8Array): void;
  /** Back-end completions held for later: some run after each round. */
  late: (() => void)[];
}

/** Brings the device up with a random queue size, then plays `rounds` rounds of hostile driver. */
export function fuzzDevice(target: FuzzTarget, r: Rng, rounds: number): void {
  const { d, ram, late } = target;
  let queues: DriverQueue[] = d.bringUp(target.queueCount, r.pick([1, 2, 4, 8, 16]));
  for (let round = 0; round < rounds; round++) {
    const action = r.below(20);
    if (action === 0) {
      queues = d.bringUp(target.queueCount, r.pick([1, 2, 4, 8, 16])); // reset and set up again
    } else if (action === 1) {
      d.w(r.below(0x120) & ~3, r.next()); // a random register write
    } else if (action === 2) {
      const input = new Uint8Array(r.below(2000)).fill(0x41);
      target.inject?.(input);
    } else if (action < 10) {
      // A well-formed chain with random contents: requests with wrong codes, sectors, streams, sizes.
      const q = r.pick(queues);
      const readable = r.below(3);
      const segments = [];
      for (let k = 0; k < readable; k++) {
        const len = r.pick([4, 8, 16, 24, 32, 512, 1024, r.below(5000)]);
        const bytes = new Uint8Array(len);
        bytes.set(payload(r).subarray(0, Math.min(32, len)));
        segments.push({ addr: d.buffer(len, bytes), len });
      }
      for (let k = r.below(3); k > 0; k--) {
        const len = r.pick([1, 4, 8, 12, 20, 21, 512, 513, 1024 + 8, r.below(5000)]);
        segments.push({ addr: d.buffer(len), len, write: true });
      }
      if (segments.length > 0 && segments.length <= q.size) {
        if (r.chance(0.3) && d.r(R.DeviceFeatures) & (1 << 28)) d.addIndirectChain(q, segments);
        else d.addChain(q, segments);
        d.notify(q);
      }
    } else {
      const q = r.pick(queues);
      const count = 1 + r.below(4);
      for (let k = 0; k < count; k++) {
        const i = r.below(q.size);
        let flags = r.below(8);
        if (r.chance(0.6)) flags &= ~VIRTQ_DESC_F_INDIRECT;
        const addr = r.chance(0.5) ? d.buffer(32, payload(r)) : address(r, ram);
        d.writeDesc(
          q,
          i,
          addr,
          r.chance(0.5) ? 32 : length(r),
          flags,
          r.chance(0.8) ? r.below(q.size) : r.below(0x10000),
        );
        if (flags & VIRTQ_DESC_F_INDIRECT && r.chance(0.5)) {
          // An indirect table of random entries (sometimes itself indirect).
          const n = 1 + r.below(4);
          const table = d.buffer(16 * n);
          for (let e = 0; e < n; e++) {
            const ef = r.below(8) & (r.chance(0.8) ? VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE : 7);
            d.writeDesc(
              q,
              e,
              r.chance(0.7) ? d.buffer(32, payload(r)) : address(r, ram),
              r.chance(0.5) ? 32 : length(r),
              ef,
              r.below(n + 1),
              table,
            );
          }
          d.writeDesc(q, i, table, r.chance(0.8) ? 16 * n : length(r), flags, 0);
        }
        if (r.chance(0.9)) d.publish(q, r.chance(0.9) ? i : r.below(0x10000));
        else d.ram.setU16(q.avail + 2, r.next() & 0xffff); // move idx anywhere
      }
      d.notify(r.chance(0.9) ? q : { ...q, index: r.below(8) });
    }
    if (r.chance(0.3)) d.ackInterrupt();
    if (r.chance(0.2)) for (const run of late.splice(0, r.below(late.length + 1))) run();
  }
}
