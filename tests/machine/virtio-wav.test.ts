// The WAV back-end: headers for each format, a file kept valid after every write, and a guest playing a
// 440 Hz tone through virtio-snd into a WAV file whose frequency and length are what was played.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { WavWriter, parseWav, wavHeader, wavSoundBackend } from "../../src/machine/backends/wav.ts";
import { VirtioSnd, VirtioSndFormat as F } from "../../src/machine/devices/virtio/constants.ts";
import { VirtioSound } from "../../src/machine/devices/virtio/sound.ts";
import { RecordingIrq, VirtioTestDriver, guestRam } from "./virtio-test-driver.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "virtkit-wav-"));
  dirs.push(d);
  return d;
}

describe("WAV back-end", () => {
  it("writes plain PCM, IEEE float and extensible headers", () => {
    const s16 = wavHeader({ channels: 2, rate: 48000, format: F.S16 }, 1000);
    expect(s16.length).toBe(44);
    expect(new TextDecoder().decode(s16.subarray(0, 4))).toBe("RIFF");
    const v = new DataView(s16.buffer);
    expect([
      v.getUint32(4, true),
      v.getUint16(20, true),
      v.getUint16(22, true),
      v.getUint32(24, true),
    ]).toEqual([1036, 1, 2, 48000]);
    expect([
      v.getUint32(28, true),
      v.getUint16(32, true),
      v.getUint16(34, true),
      v.getUint32(40, true),
    ]).toEqual([192000, 4, 16, 1000]);
    expect(
      new DataView(wavHeader({ channels: 1, rate: 8000, format: F.FLOAT }, 0).buffer).getUint16(20, true),
    ).toBe(3);
    const s24 = wavHeader({ channels: 1, rate: 8000, format: F.S24 }, 0);
    expect(s24.length).toBe(68);
    expect(new DataView(s24.buffer).getUint16(20, true)).toBe(0xfffe);
    expect(() => wavHeader({ channels: 1, rate: 8000, format: F.MU_LAW }, 0)).toThrow(
      /cannot hold virtio-snd format 1/,
    );
  });

  it("keeps the file valid after every write", () => {
    const path = join(tempDir(), "a.wav");
    const w = new WavWriter(path, { channels: 1, rate: 8000, format: F.U8 });
    w.write(new Uint8Array(100).fill(0x80));
    expect(parseWav(readFileSync(path)).data.length).toBe(100);
    w.write(new Uint8Array(50).fill(0x81));
    const wav = parseWav(readFileSync(path));
    expect(wav).toMatchObject({ channels: 1, rate: 8000, format: F.U8, bitsPerSample: 8 });
    expect(wav.data.length).toBe(150);
    w.close();
    expect(() => w.write(new Uint8Array(1))).toThrow(/is closed/);
  });

  it("records a 440 Hz tone a guest plays through virtio-snd", () => {
    const dir = tempDir();
    const backend = wavSoundBackend({ directory: dir });
    const memory = guestRam(0x4000_0000, 4 * 1024 * 1024);
    const snd = new VirtioSound({ memory, irq: new RecordingIrq(), backend });
    const d = new VirtioTestDriver(snd, memory, 0x4000_0000);
    const [control, , tx] = d.bringUp(4, 16);
    const command = (bytes: Uint8Array) => {
      const response = d.buffer(4);
      d.addChain(control!, [
        { addr: d.buffer(bytes.length, bytes), len: bytes.length },
        { addr: response, len: 4, write: true },
      ]);
      d.notify(control!);
      expect(new DataView(d.bytes(response, 4).buffer).getUint32(0, true)).toBe(VirtioSnd.S_OK);
    };
    const set = new Uint8Array(24);
    const sv = new DataView(set.buffer);
    sv.setUint32(0, VirtioSnd.R_PCM_SET_PARAMS, true);
    sv.setUint32(8, 48000, true);
    sv.setUint32(12, 4800, true);
    set.set([1, F.S16, 7], 20); // mono, S16, 48000 Hz
    command(set);
    const pcmCommand = (code: number) => {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setUint32(0, code, true);
      command(b);
    };
    pcmCommand(VirtioSnd.R_PCM_PREPARE);
    pcmCommand(VirtioSnd.R_PCM_START);
    // Half a second of a 440 Hz sine in periods of 2400 frames.
    const frames = 24000;
    const tone = new Int16Array(frames);
    for (let i = 0; i < frames; i++) tone[i] = Math.round(12000 * Math.sin((2 * Math.PI * 440 * i) / 48000));
    const bytes = new Uint8Array(tone.buffer);
    for (let at = 0; at < bytes.length; at += 4800) {
      const period = bytes.subarray(at, at + 4800);
      d.addChain(tx!, [
        { addr: d.buffer(4), len: 4 },
        { addr: d.buffer(period.length, period), len: period.length },
        { addr: d.buffer(8), len: 8, write: true },
      ]);
      d.notify(tx!);
    }
    expect(d.takeUsed(tx!)).toHaveLength(10);
    pcmCommand(VirtioSnd.R_PCM_STOP);
    pcmCommand(VirtioSnd.R_PCM_RELEASE);
    expect(backend.files).toEqual([join(dir, "stream0-0.wav")]);
    const wav = parseWav(readFileSync(backend.files[0]!));
    expect(wav).toMatchObject({ channels: 1, rate: 48000, format: F.S16 });
    const samples = new Int16Array(
      wav.data.buffer.slice(wav.data.byteOffset, wav.data.byteOffset + wav.data.length),
    );
    expect(samples.length / wav.rate).toBe(0.5);
    let crossings = 0;
    for (let i = 1; i < samples.length; i++) if (samples[i - 1]! < 0 && samples[i]! >= 0) crossings++;
    expect(Math.abs(crossings / 0.5 - 440)).toBeLessThanOrEqual(2);
  });
});
