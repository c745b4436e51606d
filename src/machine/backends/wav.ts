// WAV files as a sound back-end: what a guest plays is written, not heard, so it can be inspected.
// WavWriter writes one RIFF/WAVE file and keeps its header's sizes right after every write (a host killed
// mid-stream leaves a playable file); wavSoundBackend is a virtio-snd SoundBackend that writes one file
// per prepared stream, from PREPARE to RELEASE, and captures silence.

import * as nodeFs from "node:fs";
import { join } from "node:path";
import { VirtioSndFormat } from "../devices/virtio/constants.ts";
import type { SoundBackend, SoundDone, SoundPcmParams, SoundStreamInfo } from "../devices/virtio/sound.ts";

/** The sample layouts a WAV file holds, by virtio-snd format code. */
const WAV_FORMATS: Record<number, { tag: number; bits: number; container: number }> = {
  [VirtioSndFormat.U8]: { tag: 1, bits: 8, container: 8 },
  [VirtioSndFormat.S16]: { tag: 1, bits: 16, container: 16 },
  [VirtioSndFormat.S24_3]: { tag: 1, bits: 24, container: 24 },
  [VirtioSndFormat.S24]: { tag: 1, bits: 24, container: 32 },
  [VirtioSndFormat.S32]: { tag: 1, bits: 32, container: 32 },
  [VirtioSndFormat.FLOAT]: { tag: 3, bits: 32, container: 32 },
  [VirtioSndFormat.FLOAT64]: { tag: 3, bits: 64, container: 64 },
};

/** The virtio-snd formats a WAV file can hold as they are. */
export const WAV_SOUND_FORMATS: readonly number[] = Object.keys(WAV_FORMATS).map(Number);

export interface WavFormat {
  channels: number;
  /** Frames per second. */
  rate: number;
  /** A virtio-snd format code (VirtioSndFormat), one of WAV_SOUND_FORMATS. */
  format: number;
}

const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
/** KSDATAFORMAT_SUBTYPE_PCM / _IEEE_FLOAT's GUID tail, after the 2-byte format tag. */
const SUBTYPE_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

/**
 * A RIFF/WAVE header for `dataBytes` of PCM: plain PCM or IEEE float where that describes the samples,
 * WAVE_FORMAT_EXTENSIBLE for more than two channels or samples narrower than their container.
 */
export function wavHeader(format: WavFormat, dataBytes: number): Uint8Array {
  const layout = WAV_FORMATS[format.format];
  if (!layout) throw new Error(`a WAV file cannot hold virtio-snd format ${format.format}`);
  const extensible = format.channels > 2 || layout.bits !== layout.container;
  const fmtSize = extensible ? 40 : 16;
  const header = new Uint8Array(12 + 8 + fmtSize + 8);
  const v = new DataView(header.buffer);
  const ascii = (at: number, text: string) => [...text].forEach((c, i) => (header[at + i] = c.charCodeAt(0)));
  const blockAlign = (format.channels * layout.container) / 8;
  ascii(0, "RIFF");
  v.setUint32(4, header.length - 8 + dataBytes, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  v.setUint32(16, fmtSize, true);
  v.setUint16(20, extensible ? WAVE_FORMAT_EXTENSIBLE : layout.tag, true);
  v.setUint16(22, format.channels, true);
  v.setUint32(24, format.rate, true);
  v.setUint32(28, format.rate * blockAlign, true);
  v.setUint16(32, blockAlign, true);
  v.setUint16(34, layout.container, true);
  if (extensible) {
    v.setUint16(36, 22, true);
    v.setUint16(38, layout.bits, true);
    v.setUint32(40, 0, true); // no speaker positions
    v.setUint16(44, layout.tag, true);
    header.set(SUBTYPE_TAIL, 46);
  }
  ascii(20 + fmtSize, "data");
  v.setUint32(24 + fmtSize, dataBytes, true);
  return header;
}

/** What a WAV file says about itself: its format and where its PCM is. */
export interface ParsedWav extends WavFormat {
  bitsPerSample: number;
  data: Uint8Array;
}

/** Reads a WAV file this module wrote (plain or extensible fmt, then data). */
export function parseWav(bytes: Uint8Array): ParsedWav {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (bytes.length < 12 || text(0) !== "RIFF" || text(8) !== "WAVE") throw new Error("not a RIFF/WAVE file");
  let at = 12;
  let fmt: { tag: number; channels: number; rate: number; bits: number; container: number } | undefined;
  while (at + 8 <= bytes.length) {
    const id = text(at);
    const size = v.getUint32(at + 4, true);
    if (id === "fmt ") {
      let tag = v.getUint16(at + 8, true);
      const container = v.getUint16(at + 22, true);
      let bits = container;
      if (tag === WAVE_FORMAT_EXTENSIBLE) {
        bits = v.getUint16(at + 26, true);
        tag = v.getUint16(at + 32, true);
      }
      fmt = { tag, channels: v.getUint16(at + 10, true), rate: v.getUint32(at + 12, true), bits, container };
    } else if (id === "data") {
      if (!fmt) throw new Error("WAV data before fmt");
      const entry = Object.entries(WAV_FORMATS).find(
        ([, l]) => l.tag === fmt!.tag && l.bits === fmt!.bits && l.container === fmt!.container,
      );
      if (!entry) throw new Error(`WAV format tag ${fmt.tag}, ${fmt.bits} bits is not one virtkit writes`);
      const data = bytes.subarray(at + 8, Math.min(bytes.length, at + 8 + size));
      return {
        channels: fmt.channels,
        rate: fmt.rate,
        format: Number(entry[0]),
        bitsPerSample: fmt.bits,
        data,
      };
    }
    at += 8 + size + (size & 1);
  }
  throw new Error("WAV file without a data chunk");
}

/** The file operations a WavWriter uses (node:fs by default). */
export interface WavFs {
  openSync(path: string, flags: string): number;
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  closeSync(fd: number): void;
}

/** One WAV file being written. */
export class WavWriter {
  private fd: number | undefined;
  private dataBytes = 0;
  private readonly headerLength: number;

  constructor(
    readonly path: string,
    readonly format: WavFormat,
    private readonly fs: WavFs = nodeFs as unknown as WavFs,
  ) {
    const header = wavHeader(format, 0);
    this.headerLength = header.length;
    this.fd = fs.openSync(path, "w");
    this.put(header, 0);
  }

  /** PCM bytes written so far. */
  get bytes(): number {
    return this.dataBytes;
  }

  /** Appends PCM (whole frames, in the file's format) and brings the header's sizes up to date. */
  write(pcm: Uint8Array): void {
    this.put(pcm, this.headerLength + this.dataBytes);
    this.dataBytes += pcm.length;
    this.put(wavHeader(this.format, this.dataBytes), 0);
  }

  close(): void {
    if (this.fd === undefined) return;
    this.fs.closeSync(this.fd);
    this.fd = undefined;
  }

  private put(bytes: Uint8Array, position: number): void {
    if (this.fd === undefined) throw new Error(`${this.path} is closed`);
    let done = 0;
    while (done < bytes.length)
      done += this.fs.writeSync(this.fd, bytes, done, bytes.length - done, position + done);
  }
}

export interface WavSoundBackendOptions {
  /** Where the files go: `<directory>/stream<n>-<k>.wav` for the k-th session (PREPARE to RELEASE) of stream n. */
  directory: string;
  /** The streams offered (default: one output stream, 1–2 channels, the WAV formats, 8000–48000 Hz, and one input stream). */
  streams?: readonly SoundStreamInfo[];
  fs?: WavFs;
  /** Called with each file when it is finished (RELEASE, or close()). */
  onFile?(path: string, writer: WavWriter): void;
}

const DEFAULT_RATES = [8000, 11025, 16000, 22050, 32000, 44100, 48000];

/** A SoundBackend that writes what each output stream plays to a WAV file and captures silence. */
export function wavSoundBackend(options: WavSoundBackendOptions): SoundBackend & {
  /** Every file written, in order. */
  readonly files: string[];
  /** Finishes the files still open. */
  close(): void;
} {
  const streams: readonly SoundStreamInfo[] = options.streams ?? [
    { direction: "output", channelsMin: 1, channelsMax: 2, formats: WAV_SOUND_FORMATS, rates: DEFAULT_RATES },
    { direction: "input", channelsMin: 1, channelsMax: 2, formats: WAV_SOUND_FORMATS, rates: DEFAULT_RATES },
  ];
  const params = new Map<number, SoundPcmParams>();
  const open = new Map<number, WavWriter>();
  const sessions = new Map<number, number>();
  const files: string[] = [];
  const finish = (stream: number) => {
    const writer = open.get(stream);
    if (!writer) return;
    open.delete(stream);
    writer.close();
    options.onFile?.(writer.path, writer);
  };
  const attempt = (done: SoundDone, work: () => void) => {
    let error: string | undefined;
    try {
      work();
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    done(error);
  };
  return {
    streams,
    files,
    setParams(stream, p, done) {
      attempt(done, () => {
        if (!WAV_FORMATS[p.format]) throw new Error(`a WAV file cannot hold virtio-snd format ${p.format}`);
        params.set(stream, p);
      });
    },
    prepare(stream, done) {
      attempt(done, () => {
        const p = params.get(stream);
        if (!p) throw new Error(`stream ${stream} has no parameters`);
        if (open.has(stream) || streams[stream]?.direction !== "output") return;
        const k = sessions.get(stream) ?? 0;
        sessions.set(stream, k + 1);
        const path = join(options.directory, `stream${stream}-${k}.wav`);
        open.set(
          stream,
          new WavWriter(path, { channels: p.channels, rate: p.rate, format: p.format }, options.fs),
        );
        files.push(path);
      });
    },
    release(stream, done) {
      attempt(done, () => finish(stream));
    },
    start(_stream, done) {
      done();
    },
    stop(_stream, done) {
      done();
    },
    play(stream, pcm, done) {
      attempt(done, () => {
        const writer = open.get(stream);
        if (!writer) throw new Error(`stream ${stream} is not prepared`);
        writer.write(pcm);
      });
    },
    capture(_stream, into, done) {
      into.fill(0);
      done();
    },
    close() {
      for (const stream of [...open.keys()]) finish(stream);
    },
  };
}
