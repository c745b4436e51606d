// The sDDF sound driver over the WAV back-end: stream ownership (TAKE), the command sequence, PCM into a file, bad requests refused.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import type { Pd, PdProgram } from "../../src/microkit/index.ts";
import { parseWav, wavSoundBackend } from "../../src/machine/backends/wav.ts";
import {
  SOUND_PCM_BUFFER_SIZE,
  SoundCmdCode,
  SoundQueues,
  SoundSharedState,
  SoundStatus,
  soundDriver,
  type SoundCmd,
  type SoundPcm,
} from "../../src/sddf/index.ts";
import { boot, channel, end, pd } from "../microkit/harness.ts";

const mr = (name: string, size = 0x4000) => `<memory_region name="${name}" size="0x${size.toString(16)}" />`;
const map = (name: string, vaddr: number, setvar = name) =>
  `<map mr="${name}" vaddr="0x${vaddr.toString(16)}" perms="rw" setvar_vaddr="${setvar}" />`;
const QUEUES = ["cmd_req", "cmd_res", "pcm_req", "pcm_res"];
const clientRegions = (i: number) => QUEUES.map((q) => mr(`c${i}_${q}`)).join("") + mr(`c${i}_data`, 0x10000);
const clientMaps = (i: number, base: number, generic: boolean) =>
  QUEUES.map((q, k) => map(`c${i}_${q}`, base + k * 0x4000, generic ? q : `c${i}_${q}`)).join("") +
  map(`c${i}_data`, base + 0x10000, generic ? "data" : `c${i}_data`) +
  (generic ? map("shared", base + 0x20000, "shared") : "");

const xml =
  mr("shared", 0x1000) +
  clientRegions(0) +
  clientRegions(1) +
  pd(
    "sound_driver",
    'priority="200"',
    map("shared", 0x3000000) + clientMaps(0, 0x4000000, false) + clientMaps(1, 0x5000000, false),
  ) +
  pd("client0", 'priority="100"', clientMaps(0, 0x4000000, true)) +
  pd("client1", 'priority="90"', clientMaps(1, 0x4000000, true)) +
  channel(end("sound_driver", 1), end("client0", 0)) +
  channel(end("sound_driver", 2), end("client1", 0));

const driverConfig = (directory: string) => ({
  backend: () => wavSoundBackend({ directory }),
  sharedState: "shared",
  clients: [0, 1].map((i) => ({
    cmdReq: `c${i}_cmd_req`,
    cmdRes: `c${i}_cmd_res`,
    pcmReq: `c${i}_pcm_req`,
    pcmRes: `c${i}_pcm_res`,
    data: `c${i}_data`,
    channel: i + 1,
  })),
});

interface Log {
  commands: SoundCmd[];
  pcm: SoundPcm[];
  streams?: number;
}

/** A client that sends `phases` one after another, each once every answer to the last has come. */
function phasedClient(log: Log, phases: ((q: SoundQueues, data: Uint8Array) => number)[]): PdProgram {
  let q: SoundQueues;
  let phase = 0;
  let awaiting = 0;
  const next = (p: Pd, data: Uint8Array) => {
    while (awaiting === 0 && phase < phases.length) awaiting = phases[phase++]!(q, data);
    p.notify(0);
  };
  return {
    init(p) {
      q = SoundQueues.fromPd(p, {
        cmdReq: "cmd_req",
        cmdRes: "cmd_res",
        pcmReq: "pcm_req",
        pcmRes: "pcm_res",
      });
      const shared = SoundSharedState.fromPd(p, "shared");
      log.streams = shared.ready ? shared.readStreams().length : -1;
      next(p, p.memory.view(p.setvars.data!, 0x10000));
    },
    notified(p) {
      for (let c = q.cmdRes.dequeue(); c; c = q.cmdRes.dequeue(), awaiting--) log.commands.push(c);
      for (let r = q.pcmRes.dequeue(); r; r = q.pcmRes.dequeue(), awaiting--) log.pcm.push(r);
      next(p, p.memory.view(p.setvars.data!, 0x10000));
    },
  };
}

const cmd = (code: number, cookie: number, streamId = 0, setParams?: SoundCmd["setParams"]): SoundCmd => ({
  code,
  cookie,
  streamId,
  setParams,
});

let directory = "";
afterEach(() => rmSync(directory, { recursive: true, force: true }));

describe("the sound driver over the WAV back-end", () => {
  test("TAKE, PREPARE, START, PCM, STOP, RELEASE: the WAV file holds the PCM; the stream is the first taker's", async () => {
    directory = mkdtempSync(join(tmpdir(), "virtkit-sddf-sound-"));
    const pcm = new Uint8Array(2 * SOUND_PCM_BUFFER_SIZE + 1000).map((_, i) => (i * 31) & 0xff);
    const a: Log = { commands: [], pcm: [] };
    const b: Log = { commands: [], pcm: [] };
    const { console, done } = await boot(xml, {
      sound_driver: soundDriver(driverConfig(directory)),
      client0: phasedClient(a, [
        (q) => {
          q.cmdReq.enqueue(cmd(SoundCmdCode.TAKE, 1, 0, { channels: 2, format: 5, rate: 7 })); // S16, 48 kHz
          q.cmdReq.enqueue(cmd(SoundCmdCode.PREPARE, 2));
          q.cmdReq.enqueue(cmd(SoundCmdCode.START, 3));
          return 3;
        },
        (q, data) => {
          data.set(pcm);
          q.pcmReq.enqueue({ cookie: 10, streamId: 0, ioOrOffset: 0, len: SOUND_PCM_BUFFER_SIZE });
          q.pcmReq.enqueue({
            cookie: 11,
            streamId: 0,
            ioOrOffset: SOUND_PCM_BUFFER_SIZE,
            len: SOUND_PCM_BUFFER_SIZE,
          });
          q.pcmReq.enqueue({ cookie: 12, streamId: 0, ioOrOffset: 2 * SOUND_PCM_BUFFER_SIZE, len: 1000 });
          q.pcmReq.enqueue({ cookie: 13, streamId: 0, ioOrOffset: 100, len: 64 }); // not a PCM buffer
          return 4;
        },
        (q) => {
          q.cmdReq.enqueue(cmd(SoundCmdCode.STOP, 4));
          q.cmdReq.enqueue(cmd(SoundCmdCode.RELEASE, 5));
          return 2;
        },
      ]),
      // Lower priority: it starts once client 0 has released the stream, so its TAKE succeeds.
      client1: phasedClient(b, [
        (q) => {
          q.cmdReq.enqueue(cmd(SoundCmdCode.TAKE, 1, 0, { channels: 1, format: 5, rate: 7 }));
          return 1;
        },
      ]),
    });
    await done;
    expect(a.streams).toBe(2);
    expect(a.commands.map((c) => [c.cookie, c.status])).toEqual([
      [1, SoundStatus.OK],
      [2, SoundStatus.OK],
      [3, SoundStatus.OK],
      [4, SoundStatus.OK],
      [5, SoundStatus.OK],
    ]);
    expect(a.pcm.map((r) => [r.cookie, r.status])).toEqual([
      [10, SoundStatus.OK],
      [11, SoundStatus.OK],
      [12, SoundStatus.OK],
      [13, SoundStatus.BAD_MSG],
    ]);
    expect(b.commands.map((c) => [c.cookie, c.status])).toEqual([[1, SoundStatus.OK]]);
    const wav = parseWav(readFileSync(join(directory, "stream0-0.wav")));
    expect(wav).toMatchObject({ channels: 2, rate: 48000, format: 5 });
    expect(Buffer.compare(wav.data, pcm)).toBe(0);
    const errors = console.output.split("\n").filter((l) => l.startsWith("SND DRIVER|ERR"));
    expect(errors).toEqual([
      "SND DRIVER|ERR: [client 0] PCM cookie 13 on stream 0: buffer at offset 0x64 of 64 bytes is not a PCM buffer of its 65536-byte data region",
    ]);
  });

  test("a stream taken by one client is BUSY for another; unknown streams and commands before TAKE are BAD_MSG", async () => {
    directory = mkdtempSync(join(tmpdir(), "virtkit-sddf-sound-"));
    const a: Log = { commands: [], pcm: [] };
    const b: Log = { commands: [], pcm: [] };
    const { console, done } = await boot(xml, {
      sound_driver: soundDriver(driverConfig(directory)),
      client0: phasedClient(a, [
        (q) => {
          q.cmdReq.enqueue(cmd(SoundCmdCode.TAKE, 1, 0, { channels: 2, format: 5, rate: 7 }));
          return 1;
        },
      ]),
      client1: phasedClient(b, [
        (q) => {
          q.cmdReq.enqueue(cmd(SoundCmdCode.TAKE, 1, 0, { channels: 1, format: 5, rate: 7 }));
          q.cmdReq.enqueue(cmd(SoundCmdCode.PREPARE, 2, 7));
          q.cmdReq.enqueue(cmd(SoundCmdCode.START, 3, 1));
          q.pcmReq.enqueue({ cookie: 4, streamId: 0, ioOrOffset: 0, len: 16 });
          return 4;
        },
      ]),
    });
    await done;
    expect(a.commands.map((c) => c.status)).toEqual([SoundStatus.OK]);
    expect(b.commands.map((c) => [c.cookie, c.status])).toEqual([
      [1, SoundStatus.BUSY],
      [2, SoundStatus.BAD_MSG],
      [3, SoundStatus.BAD_MSG],
    ]);
    expect(b.pcm.map((r) => [r.cookie, r.status])).toEqual([[4, SoundStatus.BAD_MSG]]);
    const errors = console.output.split("\n").filter((l) => l.startsWith("SND DRIVER|ERR"));
    expect(errors).toEqual([
      "SND DRIVER|ERR: [client 1] TAKE on stream 0: the stream belongs to client 0",
      "SND DRIVER|ERR: [client 1] PREPARE on stream 7: there are 2 streams",
      "SND DRIVER|ERR: [client 1] START on stream 1: the client must TAKE the stream first",
      "SND DRIVER|ERR: [client 1] PCM cookie 4 on stream 0: the stream is not the client's (TAKE it first)",
    ]);
  });

  test("a refused command wakes the client with its answer, as an accepted one does", async () => {
    directory = mkdtempSync(join(tmpdir(), "virtkit-sddf-sound-"));
    const a: Log = { commands: [], pcm: [] };
    const { done } = await boot(xml, {
      sound_driver: soundDriver(driverConfig(directory)),
      // One command at a time, each sent when the last was answered: only a notification brings the answer.
      client0: phasedClient(a, [
        (q) => Number(q.cmdReq.enqueue(cmd(SoundCmdCode.TAKE, 1, 0, { channels: 2, format: 5, rate: 7 }))),
        (q) => Number(q.cmdReq.enqueue(cmd(SoundCmdCode.PREPARE, 2, 7))),
        (q) => Number(q.cmdReq.enqueue(cmd(SoundCmdCode.START, 3, 1))),
        (q) => Number(q.cmdReq.enqueue(cmd(SoundCmdCode.PREPARE, 4, 0))),
      ]),
      client1: phasedClient({ commands: [], pcm: [] }, []),
    });
    await done;
    expect(a.commands.map((c) => [c.cookie, c.status])).toEqual([
      [1, SoundStatus.OK],
      [2, SoundStatus.BAD_MSG],
      [3, SoundStatus.BAD_MSG],
      [4, SoundStatus.OK],
    ]);
  });

  test("TAKE with parameters the stream does not take is NOT_SUPP and leaves the stream free", async () => {
    directory = mkdtempSync(join(tmpdir(), "virtkit-sddf-sound-"));
    const a: Log = { commands: [], pcm: [] };
    const b: Log = { commands: [], pcm: [] };
    const { done } = await boot(xml, {
      sound_driver: soundDriver(driverConfig(directory)),
      client0: phasedClient(a, [
        (q) => {
          q.cmdReq.enqueue(cmd(SoundCmdCode.TAKE, 1, 0, { channels: 9, format: 5, rate: 7 }));
          return 1;
        },
      ]),
      client1: phasedClient(b, [
        (q) => {
          q.cmdReq.enqueue(cmd(SoundCmdCode.TAKE, 1, 0, { channels: 1, format: 5, rate: 1 })); // 8 kHz mono
          return 1;
        },
      ]),
    });
    await done;
    expect(a.commands.map((c) => c.status)).toEqual([SoundStatus.NOT_SUPP]);
    expect(b.commands.map((c) => c.status)).toEqual([SoundStatus.OK]);
  });

  test("one batch of TAKE, PREPARE, START, PCM, STOP and RELEASE plays its PCM before the stream ends", async () => {
    directory = mkdtempSync(join(tmpdir(), "virtkit-sddf-sound-"));
    const a: Log = { commands: [], pcm: [] };
    const pcm = new Uint8Array(2000).map((_, i) => i & 0xff);
    const { done } = await boot(xml, {
      sound_driver: soundDriver(driverConfig(directory)),
      client0: phasedClient(a, [
        (q, data) => {
          data.set(pcm);
          q.cmdReq.enqueue(cmd(SoundCmdCode.TAKE, 1, 0, { channels: 1, format: 5, rate: 1 }));
          q.cmdReq.enqueue(cmd(SoundCmdCode.PREPARE, 2));
          q.cmdReq.enqueue(cmd(SoundCmdCode.START, 3));
          q.pcmReq.enqueue({ cookie: 10, streamId: 0, ioOrOffset: 0, len: pcm.length });
          q.cmdReq.enqueue(cmd(SoundCmdCode.STOP, 4));
          q.cmdReq.enqueue(cmd(SoundCmdCode.RELEASE, 5));
          return 6;
        },
      ]),
      client1: phasedClient({ commands: [], pcm: [] }, []),
    });
    await done;
    expect(a.commands.map((c) => c.status)).toEqual([0, 0, 0, 0, 0]);
    expect(a.pcm.map((r) => r.status)).toEqual([SoundStatus.OK]);
    const wav = parseWav(readFileSync(join(directory, "stream0-0.wav")));
    expect(wav).toMatchObject({ channels: 1, rate: 8000 });
    expect(Buffer.compare(wav.data, pcm)).toBe(0);
  });

  test("with the timer, PCM is answered as a card plays it: each 2048-frame buffer 42.7 ms after the last", async () => {
    directory = mkdtempSync(join(tmpdir(), "virtkit-sddf-sound-"));
    const timed = xml.replace(
      '<protection_domain name="sound_driver" priority="200">',
      '<protection_domain name="sound_driver" priority="200"><irq irq="30" id="3" />',
    );
    expect(timed).not.toBe(xml);
    const a: Log = { commands: [], pcm: [] };
    const answeredAt: bigint[] = [];
    let sentAt = 0n;
    const client = phasedClient(a, [
      (q) => {
        q.cmdReq.enqueue(cmd(SoundCmdCode.TAKE, 1, 0, { channels: 1, format: 5, rate: 7 })); // S16 mono, 48 kHz
        q.cmdReq.enqueue(cmd(SoundCmdCode.PREPARE, 2));
        q.cmdReq.enqueue(cmd(SoundCmdCode.START, 3));
        return 3;
      },
      (q) => {
        for (const [k, offset] of [0, SOUND_PCM_BUFFER_SIZE].entries())
          q.pcmReq.enqueue({ cookie: 10 + k, streamId: 0, ioOrOffset: offset, len: SOUND_PCM_BUFFER_SIZE });
        return 2;
      },
    ]);
    const { done } = await boot(timed, {
      sound_driver: soundDriver({ ...driverConfig(directory), timer: { irq: 3 } }),
      client0: {
        init(p) {
          client.init(p);
          sentAt = p.armTimer.counter();
        },
        notified(p, ch) {
          const before = a.pcm.length;
          client.notified(p, ch);
          for (let k = before; k < a.pcm.length; k++) answeredAt.push(p.armTimer.counter());
        },
      },
      client1: phasedClient({ commands: [], pcm: [] }, []),
    });
    await done;
    expect(a.pcm.map((r) => [r.cookie, r.status])).toEqual([
      [10, SoundStatus.OK],
      [11, SoundStatus.OK],
    ]);
    // 2048 frames at 48 kHz: 42.667 ms, 2,666,667 ticks of the 62.5 MHz counter.
    const buffer = (2048n * 62_500_000n) / 48_000n;
    const [first, second] = answeredAt.map((t) => t - sentAt);
    expect(first).toBeGreaterThanOrEqual(buffer);
    expect(first).toBeLessThan(buffer + 62_500n); // within a millisecond
    expect(second! - first!).toBeGreaterThanOrEqual(buffer);
    expect(second! - first!).toBeLessThan(buffer + 62_500n);
  });
});
