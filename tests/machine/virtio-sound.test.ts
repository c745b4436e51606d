// The virtio-snd device model driven as Linux's virtio_snd drives it: PCM_INFO, the stream state machine
// (SET_PARAMS, PREPARE, START, STOP, RELEASE), playback and capture transfers, status codes, events,
// an asynchronous back-end, and malformed requests.
import { describe, expect, it } from "vitest";
import {
  VirtioFeature,
  VirtioMmio as R,
  VirtioSnd,
  VirtioSndFormat as F,
  featureBits,
} from "../../src/machine/devices/virtio/constants.ts";
import {
  VirtioSound,
  type SoundBackend,
  type SoundDone,
  type SoundPcmParams,
} from "../../src/machine/devices/virtio/sound.ts";
import { RecordingIrq, VirtioTestDriver, guestRam, type DriverQueue } from "./virtio-test-driver.ts";

const RAM = 0x4000_0000;
const NAME = "VM 'linux': virtio-snd at 0x170000";
const RATE_48000 = 7;
const RATE_44100 = 6;

class Backend implements SoundBackend {
  readonly streams = [
    {
      direction: "output" as const,
      channelsMin: 1,
      channelsMax: 2,
      formats: [F.S16, F.U8],
      rates: [44100, 48000],
    },
    { direction: "input" as const, channelsMin: 1, channelsMax: 1, formats: [F.S16], rates: [48000] },
  ];
  readonly calls: string[] = [];
  readonly played: Uint8Array[] = [];
  params: SoundPcmParams | undefined;
  /** Hold completions instead of answering at once. */
  hold = false;
  readonly held: (() => void)[] = [];
  failNext: string | undefined;

  private answer(what: string, done: SoundDone, run?: () => void): void {
    this.calls.push(what);
    const go = () => {
      run?.();
      const fail = this.failNext;
      this.failNext = undefined;
      done(fail);
    };
    if (this.hold) this.held.push(go);
    else go();
  }
  setParams(stream: number, params: SoundPcmParams, done: SoundDone) {
    this.params = params;
    this.answer(`set_params ${stream}`, done);
  }
  prepare(stream: number, done: SoundDone) {
    this.answer(`prepare ${stream}`, done);
  }
  release(stream: number, done: SoundDone) {
    this.answer(`release ${stream}`, done);
  }
  start(stream: number, done: SoundDone) {
    this.answer(`start ${stream}`, done);
  }
  stop(stream: number, done: SoundDone) {
    this.answer(`stop ${stream}`, done);
  }
  play(stream: number, pcm: Uint8Array, done: SoundDone) {
    this.answer(`play ${stream} ${pcm.length}`, done, () => this.played.push(pcm));
  }
  capture(stream: number, into: Uint8Array, done: SoundDone) {
    this.answer(`capture ${stream} ${into.length}`, done, () => into.fill(0x5a));
  }
}

function setup(readAhead?: number) {
  const memory = guestRam(RAM, 4 * 1024 * 1024);
  const irq = new RecordingIrq();
  const errors: string[] = [];
  const backend = new Backend();
  const snd = new VirtioSound({
    memory,
    irq,
    backend,
    name: NAME,
    onError: (m) => errors.push(m),
    readAhead,
  });
  const d = new VirtioTestDriver(snd, memory, RAM);
  const [control, event, tx, rx] = d.bringUp(4, 16);
  return { snd, d, irq, errors, backend, memory, control: control!, event: event!, tx: tx!, rx: rx! };
}

function u32s(...values: number[]): Uint8Array {
  const b = new Uint8Array(4 * values.length);
  const v = new DataView(b.buffer);
  values.forEach((x, i) => v.setUint32(4 * i, x, true));
  return b;
}

/** Sends one control request and returns where its response is. */
function controlRequest(d: VirtioTestDriver, q: DriverQueue, request: Uint8Array, responseLength = 4) {
  const response = d.buffer(responseLength, new Uint8Array(responseLength).fill(0xff));
  const head = d.addChain(q, [
    { addr: d.buffer(request.length, request), len: request.length },
    { addr: response, len: responseLength, write: true },
  ]);
  d.notify(q);
  return { head, response, status: () => new DataView(d.bytes(response, 4).buffer).getUint32(0, true) };
}

function setParams(
  stream: number,
  channels: number,
  format: number,
  rate: number,
  buffer = 8192,
  period = 2048,
) {
  const b = new Uint8Array(24);
  const v = new DataView(b.buffer);
  v.setUint32(0, VirtioSnd.R_PCM_SET_PARAMS, true);
  v.setUint32(4, stream, true);
  v.setUint32(8, buffer, true);
  v.setUint32(12, period, true);
  v.setUint32(16, 0, true);
  b[20] = channels;
  b[21] = format;
  b[22] = rate;
  return b;
}

const pcmCmd = (code: number, stream: number) => u32s(code, stream);

/** A playback transfer: xfer header + PCM, then the 8-byte status. */
function play(d: VirtioTestDriver, q: DriverQueue, stream: number, pcm: Uint8Array) {
  const status = d.buffer(8, new Uint8Array(8).fill(0xff));
  const head = d.addChain(q, [
    { addr: d.buffer(4, u32s(stream)), len: 4 },
    { addr: d.buffer(pcm.length, pcm), len: pcm.length },
    { addr: status, len: 8, write: true },
  ]);
  d.notify(q);
  return { head, status: () => new DataView(d.bytes(status, 8).buffer).getUint32(0, true) };
}

function prepareStream(s: ReturnType<typeof setup>, stream = 0, format: number = F.S16, rate = RATE_48000) {
  expect(controlRequest(s.d, s.control, setParams(stream, 2 - stream, format, rate)).status()).toBe(
    VirtioSnd.S_OK,
  );
  expect(controlRequest(s.d, s.control, pcmCmd(VirtioSnd.R_PCM_PREPARE, stream)).status()).toBe(
    VirtioSnd.S_OK,
  );
}

describe("virtio-snd", () => {
  it("is device 25 with four queues and describes its streams in the configuration and PCM_INFO", () => {
    const { d, control: q } = setup();
    expect(d.r(R.DeviceID)).toBe(25);
    expect(d.deviceFeatures()).toBe(featureBits(VirtioFeature.VERSION_1, VirtioFeature.INDIRECT_DESC));
    expect([d.r(R.Config), d.r(R.Config + 4), d.r(R.Config + 8)]).toEqual([0, 2, 0]);
    const info = controlRequest(d, q, u32s(VirtioSnd.R_PCM_INFO, 0, 2, 32), 4 + 64);
    expect(info.status()).toBe(VirtioSnd.S_OK);
    const bytes = d.bytes(info.response + 4, 64);
    const v = new DataView(bytes.buffer);
    expect(v.getBigUint64(8, true)).toBe((1n << 5n) | (1n << 4n)); // S16 | U8
    expect(v.getBigUint64(16, true)).toBe((1n << 6n) | (1n << 7n)); // 44100 | 48000
    expect([bytes[24], bytes[25], bytes[26]]).toEqual([0, 1, 2]);
    expect(v.getBigUint64(32 + 8, true)).toBe(1n << 5n);
    expect([bytes[32 + 24], bytes[32 + 25], bytes[32 + 26]]).toEqual([1, 1, 1]);
    expect(d.takeUsed(q)).toEqual([{ id: info.head, len: 68 }]);
  });

  it("answers BAD_MSG for queries beyond the streams, jacks and channel maps it has", () => {
    const { d, control: q, errors } = setup();
    expect(controlRequest(d, q, u32s(VirtioSnd.R_PCM_INFO, 1, 2, 32), 68).status()).toBe(VirtioSnd.S_BAD_MSG);
    expect(controlRequest(d, q, u32s(VirtioSnd.R_JACK_INFO, 0, 1, 24), 28).status()).toBe(
      VirtioSnd.S_BAD_MSG,
    );
    expect(controlRequest(d, q, u32s(VirtioSnd.R_CHMAP_INFO, 0, 1, 24), 28).status()).toBe(
      VirtioSnd.S_BAD_MSG,
    );
    expect(controlRequest(d, q, u32s(VirtioSnd.R_PCM_INFO, 0, 1, 32), 20).status()).toBe(VirtioSnd.S_BAD_MSG);
    expect(controlRequest(d, q, u32s(VirtioSnd.R_PCM_INFO, 0, 1), 68).status()).toBe(VirtioSnd.S_BAD_MSG);
    expect(controlRequest(d, q, u32s(0x7777), 4).status()).toBe(VirtioSnd.S_NOT_SUPP);
    expect(errors[0]).toBe(
      `${NAME}: queue 0 (controlq): descriptor 0: asks for streams 1 to 2, but the device has 2; answered VIRTIO_SND_S_BAD_MSG`,
    );
    expect(d.needsReset()).toBe(false);
  });

  it("runs a stream through SET_PARAMS, PREPARE, START, STOP, RELEASE and plays its PCM in order", () => {
    const s = setup();
    const { d, backend, snd } = s;
    prepareStream(s);
    expect(backend.params).toEqual({
      bufferBytes: 8192,
      periodBytes: 2048,
      channels: 2,
      format: F.S16,
      rate: 48000,
      frameBytes: 4,
    });
    expect(snd.stream(0)?.state).toBe("prepared");
    const a = play(d, s.tx, 0, new Uint8Array(2048).fill(1));
    expect(controlRequest(d, s.control, pcmCmd(VirtioSnd.R_PCM_START, 0)).status()).toBe(VirtioSnd.S_OK);
    const b = play(d, s.tx, 0, new Uint8Array(2048).fill(2));
    expect(a.status()).toBe(VirtioSnd.S_OK);
    expect(b.status()).toBe(VirtioSnd.S_OK);
    expect(d.takeUsed(s.tx).map((u) => u.len)).toEqual([8, 8]);
    expect(backend.played.map((p) => p[0])).toEqual([1, 2]);
    expect(controlRequest(d, s.control, pcmCmd(VirtioSnd.R_PCM_STOP, 0)).status()).toBe(VirtioSnd.S_OK);
    expect(controlRequest(d, s.control, pcmCmd(VirtioSnd.R_PCM_RELEASE, 0)).status()).toBe(VirtioSnd.S_OK);
    expect(snd.stream(0)?.state).toBe("released");
    expect(backend.calls).toEqual([
      "set_params 0",
      "prepare 0",
      "play 0 2048",
      "start 0",
      "play 0 2048",
      "stop 0",
      "release 0",
    ]);
    expect(snd.stats.playedBytes).toBe(4096);
  });

  it("refuses transitions the state machine does not allow, and parameters the stream does not take", () => {
    const s = setup();
    const { d, errors } = s;
    expect(controlRequest(d, s.control, pcmCmd(VirtioSnd.R_PCM_START, 0)).status()).toBe(VirtioSnd.S_BAD_MSG);
    expect(errors[0]).toMatch(
      /asks for START on stream 0 in state initial; it is allowed in prepared, stopped/,
    );
    expect(controlRequest(d, s.control, pcmCmd(VirtioSnd.R_PCM_PREPARE, 5)).status()).toBe(
      VirtioSnd.S_BAD_MSG,
    );
    expect(controlRequest(d, s.control, setParams(0, 3, F.S16, RATE_48000)).status()).toBe(
      VirtioSnd.S_NOT_SUPP,
    );
    expect(controlRequest(d, s.control, setParams(0, 2, F.S32, RATE_48000)).status()).toBe(
      VirtioSnd.S_NOT_SUPP,
    );
    expect(controlRequest(d, s.control, setParams(0, 2, F.S16, 1)).status()).toBe(VirtioSnd.S_NOT_SUPP);
    expect(controlRequest(d, s.control, setParams(0, 2, F.S16, 99)).status()).toBe(VirtioSnd.S_NOT_SUPP);
    expect(controlRequest(d, s.control, setParams(0, 2, F.S16, RATE_44100, 1024, 4096)).status()).toBe(
      VirtioSnd.S_NOT_SUPP,
    );
    expect(controlRequest(d, s.control, setParams(1, 1, F.S16, RATE_48000).subarray(0, 20)).status()).toBe(
      VirtioSnd.S_BAD_MSG,
    );
    expect(errors.slice(2, 4)).toEqual([
      `${NAME}: queue 0 (controlq): descriptor 4: SET_PARAMS asks for 3 channels on stream 0, which takes 1 to 2; answered VIRTIO_SND_S_NOT_SUPP`,
      `${NAME}: queue 0 (controlq): descriptor 6: SET_PARAMS asks for format 17 on stream 0, which takes formats 5, 4; answered VIRTIO_SND_S_NOT_SUPP`,
    ]);
    expect(s.backend.calls).toEqual([]);
    expect(d.needsReset()).toBe(false);
  });

  it("answers BAD_MSG for transfers to a stream that is not prepared, in the wrong direction, or not whole frames", () => {
    const s = setup();
    const { d, errors } = s;
    expect(play(d, s.tx, 0, new Uint8Array(16)).status()).toBe(VirtioSnd.S_BAD_MSG);
    prepareStream(s);
    expect(play(d, s.tx, 1, new Uint8Array(16)).status()).toBe(VirtioSnd.S_BAD_MSG);
    expect(play(d, s.tx, 0, new Uint8Array(6)).status()).toBe(VirtioSnd.S_BAD_MSG);
    expect(play(d, s.tx, 0, new Uint8Array(8196)).status()).toBe(VirtioSnd.S_BAD_MSG);
    expect(play(d, s.tx, 9, new Uint8Array(4)).status()).toBe(VirtioSnd.S_BAD_MSG);
    expect(errors).toEqual([
      `${NAME}: queue 2 (txq): descriptor 0 is for stream 0 in state initial; transfers need a prepared stream; answered VIRTIO_SND_S_BAD_MSG`,
      `${NAME}: queue 2 (txq): descriptor 3 sends playback PCM to stream 1, an input stream; answered VIRTIO_SND_S_BAD_MSG`,
      `${NAME}: queue 2 (txq): descriptor 6 carries 6 bytes, not whole 4-byte frames; answered VIRTIO_SND_S_BAD_MSG`,
      `${NAME}: queue 2 (txq): descriptor 9 carries 8196 bytes, more than the stream's 8192-byte buffer; answered VIRTIO_SND_S_BAD_MSG`,
      `${NAME}: queue 2 (txq): descriptor 12 names stream 9, but the device has 2; answered VIRTIO_SND_S_BAD_MSG`,
    ]);
    expect(s.backend.played).toEqual([]);
  });

  it("captures into rxq buffers", () => {
    const s = setup();
    const { d } = s;
    prepareStream(s, 1);
    expect(controlRequest(d, s.control, pcmCmd(VirtioSnd.R_PCM_START, 1)).status()).toBe(VirtioSnd.S_OK);
    const data = d.buffer(1024);
    const status = d.buffer(8);
    const head = d.addChain(s.rx, [
      { addr: d.buffer(4, u32s(1)), len: 4 },
      { addr: data, len: 1024, write: true },
      { addr: status, len: 8, write: true },
    ]);
    d.notify(s.rx);
    expect(d.takeUsed(s.rx)).toEqual([{ id: head, len: 1032 }]);
    expect(d.bytes(data, 1024).every((b) => b === 0x5a)).toBe(true);
    expect(new DataView(d.bytes(status, 4).buffer).getUint32(0, true)).toBe(VirtioSnd.S_OK);
    expect(s.snd.stats.capturedBytes).toBe(1024);
  });

  it("waits for an asynchronous back-end: control requests in order, transfers as they are played", () => {
    const s = setup();
    const { d, backend } = s;
    backend.hold = true;
    const p = controlRequest(d, s.control, setParams(0, 2, F.S16, RATE_48000));
    const q = controlRequest(d, s.control, pcmCmd(VirtioSnd.R_PCM_PREPARE, 0));
    expect(backend.calls).toEqual(["set_params 0"]); // PREPARE waits for SET_PARAMS
    backend.held.shift()!();
    expect(p.status()).toBe(VirtioSnd.S_OK);
    expect(backend.calls).toEqual(["set_params 0", "prepare 0"]);
    backend.held.shift()!();
    expect(q.status()).toBe(VirtioSnd.S_OK);
    const a = play(d, s.tx, 0, new Uint8Array(64));
    const b = play(d, s.tx, 0, new Uint8Array(64));
    expect(d.takeUsed(s.tx)).toEqual([]);
    backend.held.shift()!();
    expect(d.takeUsed(s.tx).map((u) => u.id)).toEqual([a.head]);
    // RELEASE returns what the back-end still holds (virtio 1.2 §5.14.6.6.5).
    const rel = controlRequest(d, s.control, pcmCmd(VirtioSnd.R_PCM_RELEASE, 0));
    backend.held.pop()!(); // release's answer
    expect(rel.status()).toBe(VirtioSnd.S_OK);
    expect(d.takeUsed(s.tx).map((u) => u.id)).toEqual([b.head]);
    backend.held.shift()!(); // the late play completion touches nothing
    expect(d.takeUsed(s.tx)).toEqual([]);
  });

  it("with readAhead 1 reads a buffer only when the one before is played; RELEASE returns unread ones", () => {
    const s = setup(1);
    const { d, backend } = s;
    prepareStream(s);
    backend.hold = true;
    const a = play(d, s.tx, 0, new Uint8Array(64).fill(1));
    const pcm = d.buffer(64, new Uint8Array(64).fill(2));
    const status = d.buffer(8);
    const b = d.addChain(s.tx, [
      { addr: d.buffer(4, u32s(0)), len: 4 },
      { addr: pcm, len: 64 },
      { addr: status, len: 8, write: true },
    ]);
    d.notify(s.tx);
    expect(backend.calls.filter((c) => c.startsWith("play"))).toEqual(["play 0 64"]);
    // The driver refills b's buffer before the card reaches it, as Linux's ring does: the card plays that.
    s.memory.regions[0]!.bytes.fill(3, pcm - RAM, pcm - RAM + 64);
    backend.held.shift()!();
    expect(d.takeUsed(s.tx).map((u) => u.id)).toEqual([a.head]);
    backend.held.shift()!();
    expect(backend.played.map((p) => p[0])).toEqual([1, 3]);
    expect(d.takeUsed(s.tx).map((u) => u.id)).toEqual([b]);
    // RELEASE returns the one the back-end holds and the one still unread, without reading that one
    // as a transfer for a released stream.
    const c = play(d, s.tx, 0, new Uint8Array(64));
    const e = play(d, s.tx, 0, new Uint8Array(64));
    const rel = controlRequest(d, s.control, pcmCmd(VirtioSnd.R_PCM_RELEASE, 0));
    backend.held.pop()!(); // RELEASE's answer
    expect(rel.status()).toBe(VirtioSnd.S_OK);
    expect(
      d
        .takeUsed(s.tx)
        .map((u) => u.id)
        .sort(),
    ).toEqual([c.head, e.head].sort());
    expect(c.status()).toBe(VirtioSnd.S_OK);
    expect(e.status()).toBe(VirtioSnd.S_OK);
    expect(s.errors).toEqual([]);
  });

  it("answers IO_ERR when the back-end fails", () => {
    const s = setup();
    s.backend.failNext = "no such device";
    expect(controlRequest(s.d, s.control, setParams(0, 2, F.S16, RATE_48000)).status()).toBe(
      VirtioSnd.S_IO_ERR,
    );
    expect(s.snd.stream(0)?.state).toBe("initial");
    expect(s.errors[0]).toBe(`${NAME}: the sound back-end failed SET_PARAMS on stream 0: no such device`);
  });

  it("sends an xrun event into a posted event buffer", () => {
    const s = setup();
    const { d, snd } = s;
    snd.xrun(0);
    expect(snd.stats.eventsDropped).toBe(1);
    const buf = d.buffer(8);
    d.addChain(s.event, [{ addr: buf, len: 8, write: true }]);
    d.notify(s.event);
    snd.xrun(0);
    expect(d.takeUsed(s.event)).toEqual([{ id: 0, len: 8 }]);
    expect(Array.from(new Uint32Array(d.bytes(buf, 8).buffer))).toEqual([VirtioSnd.EVT_PCM_XRUN, 0]);
  });

  it("sets DEVICE_NEEDS_RESET for requests it cannot answer", () => {
    const s = setup();
    s.d.addChain(s.control, [{ addr: s.d.buffer(4, u32s(VirtioSnd.R_PCM_INFO)), len: 4 }]);
    s.d.notify(s.control);
    expect(s.d.needsReset()).toBe(true);
    expect(s.errors[0]).toMatch(
      /^VM 'linux': virtio-snd at 0x170000: queue 0 \(controlq\): descriptor 0 starts a control request with 4 device-readable and 0 device-writable bytes/,
    );
    const t = setup();
    t.d.addChain(t.tx, [
      { addr: t.d.buffer(4, u32s(0)), len: 4 },
      { addr: t.d.buffer(4), len: 4, write: true },
    ]);
    t.d.notify(t.tx);
    expect(t.errors[0]).toMatch(
      /queue 2 \(txq\): descriptor 0 starts a transfer with 4 device-readable and 4 device-writable bytes/,
    );
  });

  it("returns every stream to its initial state on reset", () => {
    const s = setup();
    prepareStream(s);
    s.d.w(R.Status, 0);
    expect(s.snd.stream(0)?.state).toBe("initial");
  });

  it("reads the back-end's streams again at each reset, leaving out (and reporting) invalid ones", () => {
    const s = setup();
    const streams = s.backend.streams as unknown as object[];
    streams.unshift({
      direction: "output",
      channelsMin: 0,
      channelsMax: 0,
      formats: [F.IMA_ADPCM],
      rates: [1],
    });
    s.d.w(R.Status, 0);
    expect(s.errors[0]).toBe(
      `${NAME}: stream 0 is not valid: channels 0..0 (1 to 255, min <= max); format 0; rate 1 Hz; the driver does not see it`,
    );
    const [control] = s.d.bringUp(4, 16);
    expect(s.d.r(R.Config + 4)).toBe(2);
    // The driver's stream 0 is the back-end's stream 1.
    expect(controlRequest(s.d, control!, setParams(0, 2, F.S16, RATE_48000)).status()).toBe(VirtioSnd.S_OK);
    expect(s.backend.calls).toEqual(["set_params 1"]);
  });
});
