// virtio-snd (virtio 1.2 §5.14): PCM streams only (no jacks, no channel maps). Control requests drive each
// stream's state machine and a SoundBackend; PCM the driver puts in txq goes to the back-end to play, and
// rxq buffers come back filled with what it captured. The back-end completes each operation at once or later.

import type { AccessSize, MmioDevice } from "../mmio.ts";
import {
  VIRTIO_SND_CONFIG_SIZE,
  VIRTIO_SND_D_INPUT,
  VIRTIO_SND_D_OUTPUT,
  VIRTIO_SND_EVENT_SIZE,
  VIRTIO_SND_FORMAT_BYTES,
  VIRTIO_SND_HDR_SIZE,
  VIRTIO_SND_PCM_HDR_SIZE,
  VIRTIO_SND_PCM_INFO_SIZE,
  VIRTIO_SND_PCM_SET_PARAMS_SIZE,
  VIRTIO_SND_PCM_STATUS_SIZE,
  VIRTIO_SND_PCM_XFER_SIZE,
  VIRTIO_SND_QUERY_INFO_SIZE,
  VIRTIO_SND_RATES,
  VirtioDeviceId,
  VirtioFeature,
  VirtioSnd,
  VirtioSndQueue,
  featureBits,
} from "./constants.ts";
import { gather, scatter } from "./buffers.ts";
import { VirtioMmioTransport } from "./mmio-transport.ts";
import { errorText, type VirtioDevice, type VirtioDeviceOptions, type VirtioTransport } from "./transport.ts";
import { VirtqueueFault, type DescriptorChain, type SplitVirtqueue } from "./virtqueue.ts";
import { hex } from "../../../util/hex.ts";

/** One PCM stream the back-end provides. */
export interface SoundStreamInfo {
  direction: "output" | "input";
  channelsMin: number;
  channelsMax: number;
  /** The sample formats it takes, as VirtioSndFormat codes. */
  formats: readonly number[];
  /** The frame rates it takes, in Hz (each one of VIRTIO_SND_RATES). */
  rates: readonly number[];
}

/** A stream's parameters as the driver set them (SET_PARAMS). */
export interface SoundPcmParams {
  bufferBytes: number;
  periodBytes: number;
  channels: number;
  /** A VirtioSndFormat code. */
  format: number;
  /** Frames per second. */
  rate: number;
  /** Bytes of one frame: channels × the format's sample size. */
  frameBytes: number;
}

/** A back-end's answer: nothing for success, or what went wrong (the driver gets VIRTIO_SND_S_IO_ERR). */
export type SoundDone = (error?: string) => void;

/**
 * What plays and records: sDDF sound queues, a WAV file. Each operation calls `done` once, at once or
 * later; PCM for a stream is handed over in the order the driver queued it.
 */
export interface SoundBackend {
  readonly streams: readonly SoundStreamInfo[];
  setParams(stream: number, params: SoundPcmParams, done: SoundDone): void;
  prepare(stream: number, done: SoundDone): void;
  /** The stream is released: PCM not yet played is dropped (the device has returned it to the driver). */
  release(stream: number, done: SoundDone): void;
  start(stream: number, done: SoundDone): void;
  stop(stream: number, done: SoundDone): void;
  /** PCM (whole frames) to play on an output stream; `pcm` is the back-end's to keep. `done` when consumed. */
  play(stream: number, pcm: Uint8Array, done: SoundDone): void;
  /** Fills `into` (whole frames) with PCM recorded on an input stream. */
  capture(stream: number, into: Uint8Array, done: SoundDone): void;
}

export interface VirtioSoundOptions extends VirtioDeviceOptions {
  backend: SoundBackend;
  /** QueueNumMax of every queue (default 64). */
  queueSize?: number;
  /** The largest buffer_bytes SET_PARAMS accepts (default 8 MiB). */
  maxBufferBytes?: number;
  /**
   * Transfers per data queue handed to the back-end before earlier ones finish (default: all the
   * queue holds). A back-end that plays in real time wants 1: the device then reads each PCM buffer
   * when the card reaches it, as a card's DMA does, and Linux's driver (which queues its whole ring
   * and refills a period after it completes) plays what the application wrote, not the stale ring.
   */
  readAhead?: number;
}

export interface VirtioSoundStats {
  controlRequests: number;
  /** PCM bytes handed to the back-end to play, and bytes captured. */
  playedBytes: number;
  capturedBytes: number;
  /** Events the device could not send: the driver had no event buffer posted. */
  eventsDropped: number;
}

/** The state machine of a stream (virtio 1.2 §5.14.6.6.1). */
export type SoundStreamState = "initial" | "params" | "prepared" | "started" | "stopped" | "released";

/** For each request, the states it may be made in and the state it leads to. */
const TRANSITIONS: Record<number, { from: readonly SoundStreamState[]; to: SoundStreamState; name: string }> =
  {
    [VirtioSnd.R_PCM_SET_PARAMS]: {
      from: ["initial", "params", "prepared", "released"],
      to: "params",
      name: "SET_PARAMS",
    },
    [VirtioSnd.R_PCM_PREPARE]: { from: ["params", "prepared", "released"], to: "prepared", name: "PREPARE" },
    [VirtioSnd.R_PCM_RELEASE]: { from: ["prepared", "stopped"], to: "released", name: "RELEASE" },
    [VirtioSnd.R_PCM_START]: { from: ["prepared", "stopped"], to: "started", name: "START" },
    [VirtioSnd.R_PCM_STOP]: { from: ["started"], to: "stopped", name: "STOP" },
  };

interface Xfer {
  queue: SplitVirtqueue;
  queueIndex: number;
  generation: number;
  chain: DescriptorChain;
  stream: number;
  /** Returned to the driver (by the back-end's done, or by RELEASE). */
  finished: boolean;
}

interface Stream {
  /** The back-end's number for the stream (the driver's numbers skip streams left out as invalid). */
  id: number;
  info: SoundStreamInfo;
  state: SoundStreamState;
  params: SoundPcmParams | undefined;
  /** Transfers handed to the back-end and not returned. */
  pending: Xfer[];
}

const DEFAULT_MAX_BUFFER_BYTES = 8 * 1024 * 1024;
/** The largest information item a query may ask for (the structures are 32 bytes or less today). */
const MAX_INFO_SIZE = 4096;

const QUEUE_NAMES = ["controlq", "eventq", "txq", "rxq"];

export class VirtioSound implements MmioDevice, VirtioDevice {
  readonly name: string;
  readonly deviceId = VirtioDeviceId.SOUND;
  readonly queueCount = 4;
  readonly queueSizeMax: number;
  readonly configSize = VIRTIO_SND_CONFIG_SIZE;
  readonly stats: VirtioSoundStats = {
    controlRequests: 0,
    playedBytes: 0,
    capturedBytes: 0,
    eventsDropped: 0,
  };
  readonly transport: VirtioTransport;
  private readonly backend: SoundBackend;
  private readonly maxBufferBytes: number;
  private streams: Stream[];
  private generation = 0;
  /** A control request is with the back-end: the next waits (control requests take effect in order). */
  private controlBusy = false;
  private controlRunning = false;
  private readonly readAhead: number;
  /** Transfers in flight per data queue (txq, rxq), bounded by the queue size and readAhead. */
  private inFlight = [0, 0];
  private dataRunning = [false, false];

  constructor(options: VirtioSoundOptions) {
    this.name = options.name ?? "virtio-snd";
    this.backend = options.backend;
    this.queueSizeMax = options.queueSize ?? 64;
    this.maxBufferBytes = options.maxBufferBytes ?? DEFAULT_MAX_BUFFER_BYTES;
    this.readAhead = Math.max(1, options.readAhead ?? Number.MAX_SAFE_INTEGER);
    this.streams = [];
    const transport = options.transport ?? ((o) => new VirtioMmioTransport(o));
    this.transport = transport({
      name: this.name,
      memory: options.memory,
      irq: options.irq,
      legacy: options.legacy,
      device: this,
      onError: options.onError,
    });
    this.streams = this.loadStreams();
  }

  read(offset: number, size: AccessSize, cpu = 0): bigint {
    return this.transport.read(offset, size, cpu);
  }

  write(offset: number, size: AccessSize, value: bigint, cpu = 0): void {
    this.transport.write(offset, size, value, cpu);
  }

  /** Stream `n`'s state and parameters, as the driver last set them. */
  stream(n: number): { state: SoundStreamState; params: SoundPcmParams | undefined } | undefined {
    const s = this.streams[n];
    return s && { state: s.state, params: s.params };
  }

  /** The back-end ran out of PCM to play (or room to record) on `stream`: tell the driver (VIRTIO_SND_EVT_PCM_XRUN). */
  xrun(stream: number): void {
    this.event(VirtioSnd.EVT_PCM_XRUN, stream);
  }

  // ---- VirtioDevice ----------------------------------------------------------------------------

  queueName(index: number): string {
    return QUEUE_NAMES[index] ?? "none";
  }

  offeredFeatures(legacy: boolean): bigint {
    return featureBits(VirtioFeature.INDIRECT_DESC, ...(legacy ? [] : [VirtioFeature.VERSION_1]));
  }

  /** jacks 0, streams, chmaps 0. */
  readConfig(offset: number, size: 1 | 2 | 4): number {
    const config = new Uint8Array(VIRTIO_SND_CONFIG_SIZE);
    new DataView(config.buffer).setUint32(4, this.streams.length, true);
    let value = 0;
    for (let i = size - 1; i >= 0; i--) value = value * 256 + config[offset + i]!;
    return value;
  }

  writeConfig(): void {}

  queueNotify(index: number): void {
    if (index === VirtioSndQueue.CONTROL) this.control();
    else if (index === VirtioSndQueue.TX || index === VirtioSndQueue.RX) this.data(index);
    // eventq: buffers wait there for events.
  }

  reset(): void {
    this.generation++;
    this.controlBusy = false;
    this.inFlight = [0, 0];
    // A reset returns every stream to its initial state (the back-end keeps whatever it had; the next
    // SET_PARAMS/PREPARE set it up again). Transfers the back-end still holds are the old driver's.
    for (const s of this.streams) for (const x of s.pending) x.finished = true;
    // The streams are read again: a back-end that learnt them late (sDDF's shared state becoming ready)
    // shows them to the driver that probes after this reset.
    this.streams = this.loadStreams();
  }

  /** The back-end's streams; one the device cannot offer is reported and left out (the others keep their back-end numbers). */
  private loadStreams(): Stream[] {
    const streams: Stream[] = [];
    this.backend.streams.forEach((info, i) => {
      const problem = streamProblem(info);
      if (problem) {
        this.transport.report(
          `${this.name}: stream ${i} is not valid: ${problem}; the driver does not see it`,
        );
        return;
      }
      streams.push({ id: i, info, state: "initial", params: undefined, pending: [] });
    });
    return streams;
  }

  // ---- control queue ---------------------------------------------------------------------------

  private control(): void {
    const queue = this.transport.queue(VirtioSndQueue.CONTROL);
    if (!queue || this.controlRunning) return;
    this.controlRunning = true;
    try {
      this.transport.runQueue(VirtioSndQueue.CONTROL, () => {
        while (!this.controlBusy) {
          const chain = queue.peek();
          if (!chain) return;
          if (chain.readableBytes < VIRTIO_SND_HDR_SIZE || chain.writableBytes < VIRTIO_SND_HDR_SIZE) {
            throw new VirtqueueFault(
              `descriptor ${chain.head}`,
              `starts a control request with ${chain.readableBytes} device-readable and ${chain.writableBytes} device-writable bytes; each needs at least a 4-byte virtio_snd_hdr`,
              "Give every control request a device-readable request and a device-writable response of at least 4 bytes.",
            );
          }
          queue.take();
          this.stats.controlRequests++;
          this.controlBusy = true;
          this.request(queue, chain);
        }
      });
    } finally {
      this.controlRunning = false;
    }
  }

  /** Answers one control request; calls `answer` once, now or when the back-end is done. */
  private request(queue: SplitVirtqueue, chain: DescriptorChain): void {
    const generation = this.generation;
    const dma = this.transport.dma;
    const request = gather(dma, chain.readable, 0, Math.min(chain.readableBytes, 64));
    const view = new DataView(request.buffer, request.byteOffset, request.byteLength);
    const code = view.getUint32(0, true);
    const where = `descriptor ${chain.head}`;
    let answered = false;
    const answer = (status: number, payload?: Uint8Array) => {
      if (answered) return;
      answered = true;
      if (generation !== this.generation || this.transport.queue(VirtioSndQueue.CONTROL) !== queue) return;
      this.controlBusy = false;
      const response = new Uint8Array(VIRTIO_SND_HDR_SIZE + (payload?.length ?? 0));
      new DataView(response.buffer).setUint32(0, status, true);
      if (payload) response.set(payload, VIRTIO_SND_HDR_SIZE);
      const written = scatter(dma, chain.writable, response);
      queue.pushUsed(chain.head, written);
      this.transport.usedBuffers(VirtioSndQueue.CONTROL);
      if (!this.controlRunning) this.control();
    };
    const bad = (why: string) => {
      this.transport.report(
        `${this.name}: queue 0 (controlq): ${where}: ${why}; answered VIRTIO_SND_S_BAD_MSG`,
      );
      answer(VirtioSnd.S_BAD_MSG);
    };
    switch (code) {
      case VirtioSnd.R_JACK_INFO:
      case VirtioSnd.R_CHMAP_INFO:
      case VirtioSnd.R_PCM_INFO: {
        if (request.length < VIRTIO_SND_QUERY_INFO_SIZE) {
          return bad(
            `is a ${hex(code)} query of ${request.length} bytes, shorter than the 16-byte virtio_snd_query_info`,
          );
        }
        const start = view.getUint32(4, true);
        const count = view.getUint32(8, true);
        const size = view.getUint32(12, true);
        const items = code === VirtioSnd.R_PCM_INFO ? this.streams.length : 0;
        const what =
          code === VirtioSnd.R_PCM_INFO
            ? "streams"
            : code === VirtioSnd.R_JACK_INFO
              ? "jacks"
              : "channel maps";
        if (start + count > items) {
          return bad(`asks for ${what} ${start} to ${start + count - 1}, but the device has ${items}`);
        }
        if (
          code === VirtioSnd.R_PCM_INFO &&
          count > 0 &&
          (size < VIRTIO_SND_PCM_INFO_SIZE || size > MAX_INFO_SIZE)
        ) {
          return bad(
            `asks for PCM information items of ${size} bytes; virtio_snd_pcm_info is ${VIRTIO_SND_PCM_INFO_SIZE} bytes and the device answers items of up to ${MAX_INFO_SIZE}`,
          );
        }
        if (VIRTIO_SND_HDR_SIZE + count * size > chain.writableBytes) {
          return bad(
            `leaves ${chain.writableBytes} device-writable bytes for a response of ${VIRTIO_SND_HDR_SIZE + count * size}`,
          );
        }
        const payload = new Uint8Array(count * size);
        for (let i = 0; i < count; i++) payload.set(this.pcmInfo(start + i), i * size);
        return answer(VirtioSnd.S_OK, payload);
      }
      case VirtioSnd.R_JACK_REMAP:
        return bad("remaps a jack, but the device has none");
      case VirtioSnd.R_PCM_SET_PARAMS:
      case VirtioSnd.R_PCM_PREPARE:
      case VirtioSnd.R_PCM_RELEASE:
      case VirtioSnd.R_PCM_START:
      case VirtioSnd.R_PCM_STOP: {
        const transition = TRANSITIONS[code]!;
        const length =
          code === VirtioSnd.R_PCM_SET_PARAMS ? VIRTIO_SND_PCM_SET_PARAMS_SIZE : VIRTIO_SND_PCM_HDR_SIZE;
        if (request.length < length) {
          return bad(
            `is a ${transition.name} request of ${request.length} bytes, shorter than its ${length}-byte structure`,
          );
        }
        const id = view.getUint32(4, true);
        const stream = this.streams[id];
        if (!stream) return bad(`names stream ${id}, but the device has ${this.streams.length}`);
        if (!transition.from.includes(stream.state)) {
          return bad(
            `asks for ${transition.name} on stream ${id} in state ${stream.state}; it is allowed in ${transition.from.join(", ")}`,
          );
        }
        let params: SoundPcmParams | undefined;
        if (code === VirtioSnd.R_PCM_SET_PARAMS) {
          const checked = this.params(id, stream.info, view);
          if (typeof checked === "string") {
            this.transport.report(
              `${this.name}: queue 0 (controlq): ${where}: ${checked}; answered VIRTIO_SND_S_NOT_SUPP`,
            );
            return answer(VirtioSnd.S_NOT_SUPP);
          }
          params = checked;
        }
        const done: SoundDone = (error) => {
          if (generation !== this.generation) return answer(VirtioSnd.S_IO_ERR);
          if (error !== undefined) {
            this.transport.report(
              `${this.name}: the sound back-end failed ${transition.name} on stream ${id}: ${error}`,
            );
            return answer(VirtioSnd.S_IO_ERR);
          }
          stream.state = transition.to;
          if (params) stream.params = params;
          if (code === VirtioSnd.R_PCM_RELEASE) this.returnPending(stream);
          answer(VirtioSnd.S_OK);
        };
        try {
          const b = this.backend;
          const n = stream.id;
          if (code === VirtioSnd.R_PCM_SET_PARAMS) b.setParams(n, params!, done);
          else if (code === VirtioSnd.R_PCM_PREPARE) b.prepare(n, done);
          else if (code === VirtioSnd.R_PCM_RELEASE) b.release(n, done);
          else if (code === VirtioSnd.R_PCM_START) b.start(n, done);
          else b.stop(n, done);
        } catch (e) {
          done(`the back-end threw: ${errorText(e)}`);
        }
        return;
      }
      default:
        this.transport.report(
          `${this.name}: queue 0 (controlq): ${where}: request code ${hex(code)} is not implemented; answered VIRTIO_SND_S_NOT_SUPP`,
        );
        return answer(VirtioSnd.S_NOT_SUPP);
    }
  }

  /** struct virtio_snd_pcm_info for stream `n`. */
  private pcmInfo(n: number): Uint8Array {
    const { info } = this.streams[n]!;
    const bytes = new Uint8Array(VIRTIO_SND_PCM_INFO_SIZE);
    const view = new DataView(bytes.buffer);
    // hda_fn_nid 0, features 0 (no shared memory, no polling, no period or xrun events by shared memory).
    let formats = 0n;
    for (const f of info.formats) formats |= 1n << BigInt(f);
    let rates = 0n;
    for (const r of info.rates) rates |= 1n << BigInt(VIRTIO_SND_RATES.indexOf(r));
    view.setBigUint64(8, formats, true);
    view.setBigUint64(16, rates, true);
    bytes[24] = info.direction === "output" ? VIRTIO_SND_D_OUTPUT : VIRTIO_SND_D_INPUT;
    bytes[25] = info.channelsMin;
    bytes[26] = info.channelsMax;
    return bytes;
  }

  /** SET_PARAMS's fields checked against the stream: the parameters, or why they are not supported. */
  private params(id: number, info: SoundStreamInfo, view: DataView): SoundPcmParams | string {
    const bufferBytes = view.getUint32(8, true);
    const periodBytes = view.getUint32(12, true);
    const features = view.getUint32(16, true);
    const channels = view.getUint8(20);
    const format = view.getUint8(21);
    const rateCode = view.getUint8(22);
    const rate = VIRTIO_SND_RATES[rateCode];
    const on = `stream ${id}`;
    if (features !== 0)
      return `SET_PARAMS asks for PCM features ${hex(features)} on ${on}, which offers none`;
    if (channels < info.channelsMin || channels > info.channelsMax) {
      return `SET_PARAMS asks for ${channels} channels on ${on}, which takes ${info.channelsMin} to ${info.channelsMax}`;
    }
    if (!info.formats.includes(format) || !VIRTIO_SND_FORMAT_BYTES[format]) {
      return `SET_PARAMS asks for format ${format} on ${on}, which takes formats ${info.formats.join(", ")}`;
    }
    if (rate === undefined || !info.rates.includes(rate)) {
      return `SET_PARAMS asks for rate code ${rateCode}${rate ? ` (${rate} Hz)` : ""} on ${on}, which takes ${info.rates.join(", ")} Hz`;
    }
    const frameBytes = channels * VIRTIO_SND_FORMAT_BYTES[format]!;
    if (periodBytes === 0 || bufferBytes < periodBytes || bufferBytes > this.maxBufferBytes) {
      return `SET_PARAMS asks for a ${bufferBytes}-byte buffer of ${periodBytes}-byte periods on ${on}; periods must be non-empty and the buffer at least one period, at most ${this.maxBufferBytes} bytes`;
    }
    return { bufferBytes, periodBytes, channels, format, rate, frameBytes };
  }

  /** RELEASE: the device returns every transfer of the stream the back-end has not finished (virtio 1.2 §5.14.6.6.5). */
  private returnPending(stream: Stream): void {
    // Transfers the device has not read yet (readAhead) are pending too: the ones for this stream at
    // the front of each data queue come back unplayed. They go first, so that finishing the others
    // does not read them as new transfers for a released stream.
    for (const index of [VirtioSndQueue.TX, VirtioSndQueue.RX]) this.returnQueued(index, stream.id);
    const pending = stream.pending;
    stream.pending = [];
    for (const x of pending) this.finish(x, VirtioSnd.S_OK, 0);
  }

  private returnQueued(index: number, id: number): void {
    const slot = index - VirtioSndQueue.TX;
    const queue = this.transport.queue(index);
    if (!queue || this.dataRunning[slot]) return;
    this.dataRunning[slot] = true;
    try {
      this.transport.runQueue(index, () => {
        for (let chain = queue.peek(); chain; chain = queue.peek()) {
          // A malformed transfer stays for data(), which reports it.
          if (
            chain.readableBytes < VIRTIO_SND_PCM_XFER_SIZE ||
            chain.writableBytes < VIRTIO_SND_PCM_STATUS_SIZE
          )
            return;
          const header = gather(this.transport.dma, chain.readable, 0, VIRTIO_SND_PCM_XFER_SIZE);
          if (new DataView(header.buffer).getUint32(0, true) !== id) return;
          queue.take();
          this.inFlight[slot]!++;
          const xfer = {
            queue,
            queueIndex: index,
            generation: this.generation,
            chain,
            stream: id,
            finished: false,
          };
          this.finish(xfer, VirtioSnd.S_OK, 0);
        }
      });
    } finally {
      this.dataRunning[slot] = false;
    }
  }

  // ---- data queues -----------------------------------------------------------------------------

  private data(index: number): void {
    const slot = index - VirtioSndQueue.TX;
    const queue = this.transport.queue(index);
    if (!queue || this.dataRunning[slot]) return;
    this.dataRunning[slot] = true;
    const output = index === VirtioSndQueue.TX;
    try {
      this.transport.runQueue(index, () => {
        while (this.inFlight[slot]! < Math.min(queue.ring.size, this.readAhead)) {
          const chain = queue.peek();
          if (!chain) return;
          if (
            chain.readableBytes < VIRTIO_SND_PCM_XFER_SIZE ||
            chain.writableBytes < VIRTIO_SND_PCM_STATUS_SIZE
          ) {
            throw new VirtqueueFault(
              `descriptor ${chain.head}`,
              `starts a transfer with ${chain.readableBytes} device-readable and ${chain.writableBytes} device-writable bytes; it needs a 4-byte virtio_snd_pcm_xfer to read and an 8-byte virtio_snd_pcm_status to write`,
              `Start every transfer with virtio_snd_pcm_xfer and end it with a device-writable virtio_snd_pcm_status${output ? "" : " after the PCM buffers"}.`,
            );
          }
          if (!output && chain.readableBytes > VIRTIO_SND_PCM_XFER_SIZE) {
            throw new VirtqueueFault(
              `descriptor ${chain.head}`,
              `starts a capture transfer with ${chain.readableBytes} device-readable bytes; only the 4-byte virtio_snd_pcm_xfer is read`,
              "Make a capture transfer's PCM buffers device-writable.",
            );
          }
          queue.take();
          this.inFlight[slot]!++;
          this.transfer(index, queue, chain);
        }
      });
    } finally {
      this.dataRunning[slot] = false;
    }
  }

  private transfer(index: number, queue: SplitVirtqueue, chain: DescriptorChain): void {
    const dma = this.transport.dma;
    const output = index === VirtioSndQueue.TX;
    const header = gather(dma, chain.readable, 0, VIRTIO_SND_PCM_XFER_SIZE);
    const id = new DataView(header.buffer).getUint32(0, true);
    const stream = this.streams[id];
    const xfer: Xfer = {
      queue,
      queueIndex: index,
      generation: this.generation,
      chain,
      stream: id,
      finished: false,
    };
    const length = output
      ? chain.readableBytes - VIRTIO_SND_PCM_XFER_SIZE
      : chain.writableBytes - VIRTIO_SND_PCM_STATUS_SIZE;
    const problem = !stream
      ? `names stream ${id}, but the device has ${this.streams.length}`
      : stream.info.direction !== (output ? "output" : "input")
        ? `sends ${output ? "playback PCM to" : "a capture buffer for"} stream ${id}, an ${stream.info.direction} stream`
        : !stream.params || !["prepared", "started", "stopped"].includes(stream.state)
          ? `is for stream ${id} in state ${stream.state}; transfers need a prepared stream`
          : length % stream.params.frameBytes !== 0
            ? `carries ${length} bytes, not whole ${stream.params.frameBytes}-byte frames`
            : length > stream.params.bufferBytes
              ? `carries ${length} bytes, more than the stream's ${stream.params.bufferBytes}-byte buffer`
              : undefined;
    if (problem || !stream) {
      this.transport.report(
        `${this.name}: queue ${index} (${this.queueName(index)}): descriptor ${chain.head} ${problem}; answered VIRTIO_SND_S_BAD_MSG`,
      );
      this.finish(xfer, VirtioSnd.S_BAD_MSG, 0);
      return;
    }
    stream.pending.push(xfer);
    let called = false;
    const done: SoundDone = (error) => {
      if (called) return;
      called = true;
      stream.pending = stream.pending.filter((x) => x !== xfer);
      if (error !== undefined) {
        if (!xfer.finished)
          this.transport.report(
            `${this.name}: the sound back-end failed a transfer on stream ${id}: ${error}`,
          );
        this.finish(xfer, VirtioSnd.S_IO_ERR, 0);
        return;
      }
      if (output) {
        if (!xfer.finished) this.stats.playedBytes += length;
        this.finish(xfer, VirtioSnd.S_OK, 0);
      } else {
        if (!xfer.finished) {
          this.stats.capturedBytes += length;
          scatter(dma, chain.writable, into);
        }
        this.finish(xfer, VirtioSnd.S_OK, length);
      }
    };
    const into = output ? new Uint8Array(0) : new Uint8Array(length);
    try {
      if (output)
        this.backend.play(stream.id, gather(dma, chain.readable, VIRTIO_SND_PCM_XFER_SIZE, length), done);
      else this.backend.capture(stream.id, into, done);
    } catch (e) {
      done(`the back-end threw: ${errorText(e)}`);
    }
  }

  /** Writes the transfer's status after `written` PCM bytes and returns it to the driver, once. */
  private finish(xfer: Xfer, status: number, written: number): void {
    if (xfer.finished) return;
    xfer.finished = true;
    if (xfer.generation !== this.generation || this.transport.queue(xfer.queueIndex) !== xfer.queue) return;
    const { chain, queue, queueIndex } = xfer;
    const pcmStatus = new Uint8Array(VIRTIO_SND_PCM_STATUS_SIZE);
    new DataView(pcmStatus.buffer).setUint32(0, status, true);
    // latency_bytes 0: the back-end does not say how much is still buffered.
    scatter(this.transport.dma, chain.writable, pcmStatus, chain.writableBytes - VIRTIO_SND_PCM_STATUS_SIZE);
    queue.pushUsed(chain.head, written + VIRTIO_SND_PCM_STATUS_SIZE);
    const slot = queueIndex - VirtioSndQueue.TX;
    this.inFlight[slot]!--;
    this.transport.usedBuffers(queueIndex);
    if (!this.dataRunning[slot]) this.data(queueIndex);
  }

  // ---- event queue -----------------------------------------------------------------------------

  private event(code: number, data: number): void {
    const queue = this.transport.queue(VirtioSndQueue.EVENT);
    if (!queue) {
      this.stats.eventsDropped++;
      return;
    }
    this.transport.runQueue(VirtioSndQueue.EVENT, () => {
      const chain = queue.peek();
      if (!chain) {
        this.stats.eventsDropped++;
        return;
      }
      if (chain.readable.length > 0 || chain.writableBytes < VIRTIO_SND_EVENT_SIZE) {
        throw new VirtqueueFault(
          `descriptor ${chain.head}`,
          `is an event buffer with ${chain.readableBytes} device-readable and ${chain.writableBytes} device-writable bytes`,
          "Post event buffers of 8 device-writable bytes (struct virtio_snd_event).",
        );
      }
      queue.take();
      const bytes = new Uint8Array(VIRTIO_SND_EVENT_SIZE);
      const view = new DataView(bytes.buffer);
      view.setUint32(0, code, true);
      view.setUint32(4, data, true);
      scatter(this.transport.dma, chain.writable, bytes);
      queue.pushUsed(chain.head, VIRTIO_SND_EVENT_SIZE);
      this.transport.usedBuffers(VirtioSndQueue.EVENT);
    });
  }
}

function streamProblem(info: SoundStreamInfo): string | undefined {
  const problems: string[] = [];
  if (!(info.channelsMin >= 1 && info.channelsMax >= info.channelsMin && info.channelsMax <= 255)) {
    problems.push(`channels ${info.channelsMin}..${info.channelsMax} (1 to 255, min <= max)`);
  }
  for (const f of info.formats) if (!VIRTIO_SND_FORMAT_BYTES[f]) problems.push(`format ${f}`);
  for (const r of info.rates) if (!VIRTIO_SND_RATES.includes(r)) problems.push(`rate ${r} Hz`);
  if (info.formats.length === 0 || info.rates.length === 0) problems.push("no formats or no rates");
  return problems.length > 0 ? problems.join("; ") : undefined;
}
