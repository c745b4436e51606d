// The guest's virtio sound card as an sDDF sound client over real sDDF sound queues and shared state (the
// sound virtualiser/driver played here): streams from the shared state, SET_PARAMS as TAKE, commands and
// their statuses, PCM in 4 KiB pieces in order, capture, and bad responses.
import { describe, expect, it } from "vitest";
import {
  SOUND_SHARED_STATE,
  SoundCmdCode,
  SoundCmdQueueHandle,
  SoundPcmFmt,
  SoundPcmQueueHandle,
  SoundQueues,
  SoundSharedState,
  SoundStatus,
  soundCmdQueueSize,
  soundPcmQueueSize,
  type SoundCmd,
  type SoundPcm,
} from "../../../src/sddf/sound/queue.ts";
import { VirtioMmio as R, VirtioSnd } from "../../../src/machine/devices/virtio/constants.ts";
import { LIBVMM_VIRTIO_PLACEMENT } from "../../../src/libvmm/virtio/mmio.ts";
import { virtioSound } from "../../../src/libvmm/virtio/sound.ts";
import type { DriverQueue, VirtioTestDriver } from "../../machine/virtio-test-driver.ts";
import { testVmm } from "./harness.ts";

const CH = 7;
const RATE_48000 = 7;

function queues() {
  const regions = [
    soundCmdQueueSize(8),
    soundCmdQueueSize(8),
    soundPcmQueueSize(16),
    soundPcmQueueSize(16),
  ].map((n) => new Uint8Array(n));
  const make = () =>
    new SoundQueues(
      new SoundCmdQueueHandle(regions[0]!, 8),
      new SoundCmdQueueHandle(regions[1]!, 8),
      new SoundPcmQueueHandle(regions[2]!, 16),
      new SoundPcmQueueHandle(regions[3]!, 16),
    );
  return { vmm: make(), virt: make() };
}

function setup(ready = true) {
  const t = testVmm();
  const q = queues();
  const stateRegion = new Uint8Array(SOUND_SHARED_STATE.size);
  const state = new SoundSharedState(stateRegion);
  state.writeStreams([
    { formats: 1n << BigInt(SoundPcmFmt.S16), rates: 1n << 7n, direction: 0, channelsMin: 1, channelsMax: 2 },
    { formats: 1n << BigInt(SoundPcmFmt.S16), rates: 1n << 7n, direction: 1, channelsMin: 1, channelsMax: 1 },
  ]);
  if (ready) state.setReady(true);
  const data = new Uint8Array(4 * 4096);
  const commands: SoundCmd[] = [];
  const pcm: SoundPcm[] = [];
  let notifications = 0;
  const snd = virtioSound(t.host, {
    ...LIBVMM_VIRTIO_PLACEMENT.sound,
    queues: q.vmm,
    sharedState: new SoundSharedState(stateRegion),
    data,
    channel: CH,
    notify: () => {
      notifications++;
      for (let c = q.virt.cmdReq.dequeue(); c; c = q.virt.cmdReq.dequeue()) commands.push(c);
      for (let p = q.virt.pcmReq.dequeue(); p; p = q.virt.pcmReq.dequeue()) pcm.push(p);
    },
  });
  t.enable(32 + 45);
  const d = t.driver(0x170000);
  const [control, , tx, rx] = d.bringUp(4, 16);
  /** The virtualiser answers the oldest command. */
  const answerCommand = (status: number = SoundStatus.OK) => {
    const c = commands.shift()!;
    q.virt.cmdRes.enqueue({ code: c.code, cookie: c.cookie, streamId: c.streamId, status });
    snd.handleNotification(CH);
    return c;
  };
  const answerPcm = (fill?: number) => {
    const p = pcm.shift()!;
    if (fill !== undefined) data.fill(fill, p.ioOrOffset, p.ioOrOffset + p.len);
    q.virt.pcmRes.enqueue({ ...p, status: SoundStatus.OK, latencyBytes: 0 });
    snd.handleNotification(CH);
    return p;
  };
  return {
    t, snd, d, data, commands, pcm, answerCommand, answerPcm, state,
    control: control!, tx: tx!, rx: rx!, q, notifications: () => notifications,
  }; // prettier-ignore
}

function u32s(...values: number[]): Uint8Array {
  const b = new Uint8Array(4 * values.length);
  values.forEach((x, i) => new DataView(b.buffer).setUint32(4 * i, x, true));
  return b;
}

function send(d: VirtioTestDriver, q: DriverQueue, request: Uint8Array, responseLength = 4) {
  const response = d.buffer(responseLength);
  d.addChain(q, [
    { addr: d.buffer(request.length, request), len: request.length },
    { addr: response, len: responseLength, write: true },
  ]);
  d.notify(q);
  return () => new DataView(d.bytes(response, 4).buffer).getUint32(0, true);
}

function setParams(stream: number, channels: number): Uint8Array {
  const b = new Uint8Array(24);
  const v = new DataView(b.buffer);
  v.setUint32(0, VirtioSnd.R_PCM_SET_PARAMS, true);
  v.setUint32(4, stream, true);
  v.setUint32(8, 16384, true);
  v.setUint32(12, 4096, true);
  b[20] = channels;
  b[21] = SoundPcmFmt.S16;
  b[22] = RATE_48000;
  return b;
}

describe("libvmm virtio sound over sDDF sound", () => {
  it("shows the driver's streams once its shared state is ready (read again at the guest's reset)", () => {
    const s = setup(false);
    expect(s.d.r(R.Config + 4)).toBe(0);
    s.state.setReady(true);
    s.d.w(R.Status, 0); // the guest's driver probes: reset first
    expect(s.d.r(R.Config + 4)).toBe(2);
    const [control] = s.d.bringUp(4, 16);
    const status = send(s.d, control!, u32s(VirtioSnd.R_PCM_INFO, 0, 2, 32), 68);
    expect(status()).toBe(VirtioSnd.S_OK);
  });

  it("takes a stream with its parameters on SET_PARAMS and forwards PREPARE and START", () => {
    const s = setup();
    const status = send(s.d, s.control, setParams(0, 2));
    expect(status()).toBe(0); // waiting for the virtualiser
    const take = s.answerCommand();
    expect(take).toMatchObject({ code: SoundCmdCode.TAKE, streamId: 0 });
    expect(take.setParams).toEqual({ channels: 2, format: SoundPcmFmt.S16, rate: RATE_48000 });
    expect(status()).toBe(VirtioSnd.S_OK);
    const prepare = send(s.d, s.control, u32s(VirtioSnd.R_PCM_PREPARE, 0));
    expect(s.answerCommand().code).toBe(SoundCmdCode.PREPARE);
    expect(prepare()).toBe(VirtioSnd.S_OK);
    const start = send(s.d, s.control, u32s(VirtioSnd.R_PCM_START, 0));
    expect(s.answerCommand().code).toBe(SoundCmdCode.START);
    expect(start()).toBe(VirtioSnd.S_OK);
  });

  it("takes a released stream again before preparing it (sDDF's RELEASE gives the stream up; virtio's does not)", () => {
    const s = setup();
    send(s.d, s.control, setParams(0, 2));
    s.answerCommand();
    send(s.d, s.control, u32s(VirtioSnd.R_PCM_PREPARE, 0));
    s.answerCommand();
    const release = send(s.d, s.control, u32s(VirtioSnd.R_PCM_RELEASE, 0));
    expect(s.answerCommand().code).toBe(SoundCmdCode.RELEASE);
    expect(release()).toBe(VirtioSnd.S_OK);
    // released -> prepared is a virtio transition; the driver must see the stream taken first.
    const prepare = send(s.d, s.control, u32s(VirtioSnd.R_PCM_PREPARE, 0));
    const take = s.answerCommand();
    expect(take).toMatchObject({ code: SoundCmdCode.TAKE, streamId: 0 });
    expect(take.setParams).toEqual({ channels: 2, format: SoundPcmFmt.S16, rate: RATE_48000 });
    expect(prepare()).toBe(0);
    expect(s.answerCommand()).toMatchObject({ code: SoundCmdCode.PREPARE, streamId: 0 });
    expect(prepare()).toBe(VirtioSnd.S_OK);
    expect(s.commands).toEqual([]);
  });

  it("answers IO_ERR when another client owns the stream (BUSY)", () => {
    const s = setup();
    const status = send(s.d, s.control, setParams(0, 2));
    s.answerCommand(SoundStatus.BUSY);
    expect(status()).toBe(VirtioSnd.S_IO_ERR);
    expect(s.t.log.lines[0]).toBe(
      "vmm|ERROR: linux: virtio-snd at 0x170000: the sound back-end failed SET_PARAMS on stream 0: the sound virtualiser answered BUSY to TAKE on stream 0 (another client owns the stream)",
    );
  });

  it("sends PCM in 4 KiB pieces, in order, and returns the transfer when every piece is back", () => {
    const s = setup();
    send(s.d, s.control, setParams(0, 2));
    s.answerCommand();
    send(s.d, s.control, u32s(VirtioSnd.R_PCM_PREPARE, 0));
    s.answerCommand();
    const pcm = Uint8Array.from({ length: 10000 }, (_, i) => i & 0xff);
    const status = s.d.buffer(8, new Uint8Array(8).fill(0xff));
    s.d.addChain(s.tx, [
      { addr: s.d.buffer(4, u32s(0)), len: 4 },
      { addr: s.d.buffer(pcm.length, pcm), len: pcm.length },
      { addr: status, len: 8, write: true },
    ]);
    s.d.notify(s.tx);
    expect(s.pcm.map((p) => p.len)).toEqual([4096, 4096, 1808]);
    const sent = new Uint8Array(10000);
    let at = 0;
    for (const p of s.pcm) {
      sent.set(s.data.subarray(p.ioOrOffset, p.ioOrOffset + p.len), at);
      at += p.len;
    }
    expect(Buffer.from(sent).equals(pcm)).toBe(true);
    s.answerPcm();
    s.answerPcm();
    expect(s.d.takeUsed(s.tx)).toEqual([]);
    s.answerPcm();
    expect(s.d.takeUsed(s.tx)).toEqual([{ id: 0, len: 8 }]);
    expect(new DataView(s.d.bytes(status, 4).buffer).getUint32(0, true)).toBe(VirtioSnd.S_OK);
  });

  it("captures into the guest's buffers from the virtualiser's PCM", () => {
    const s = setup();
    send(s.d, s.control, setParams(1, 1));
    s.answerCommand();
    send(s.d, s.control, u32s(VirtioSnd.R_PCM_PREPARE, 1));
    s.answerCommand();
    const into = s.d.buffer(2048);
    s.d.addChain(s.rx, [
      { addr: s.d.buffer(4, u32s(1)), len: 4 },
      { addr: into, len: 2048, write: true },
      { addr: s.d.buffer(8), len: 8, write: true },
    ]);
    s.d.notify(s.rx);
    expect(s.pcm).toHaveLength(1);
    s.answerPcm(0x3c);
    expect(s.d.takeUsed(s.rx)).toEqual([{ id: 0, len: 2056 }]);
    expect(s.d.bytes(into, 2048).every((b) => b === 0x3c)).toBe(true);
  });

  it("reports answers to cookies it never sent", () => {
    const s = setup();
    s.q.virt.cmdRes.enqueue({ code: 0, cookie: 999, streamId: 0, status: 0 });
    s.q.virt.pcmRes.enqueue({ cookie: 998, streamId: 0, ioOrOffset: 0, len: 0, status: 0, latencyBytes: 0 });
    s.snd.handleNotification(CH);
    expect(s.t.log.lines).toEqual([
      "vmm|ERROR: linux: virtio-snd at 0x170000: the sound virtualiser answered command cookie 999, which is not outstanding; ignored",
      "vmm|ERROR: linux: virtio-snd at 0x170000: the sound virtualiser answered PCM cookie 998, which is not outstanding; ignored",
    ]);
    expect(s.snd.handleNotification(CH + 1)).toBe(false);
  });
});
