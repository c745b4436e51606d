// The guest's virtio sound card as an sDDF sound client. The streams are the sound driver's (its shared
// state, once ready); SET_PARAMS takes a stream with its parameters (sDDF's TAKE: the first client to
// take a stream owns it), PREPARE/RELEASE/START/STOP are forwarded, and PCM travels through the client's
// data region in buffers of at most 4 KiB, in the order the guest queued it.

import { VIRTIO_SND_FORMAT_BYTES, VIRTIO_SND_RATES } from "../../machine/devices/virtio/constants.ts";
import {
  VirtioSound,
  type SoundBackend,
  type SoundDone,
  type SoundPcmParams,
  type SoundStreamInfo,
} from "../../machine/devices/virtio/sound.ts";
import {
  SOUND_PCM_BUFFER_SIZE,
  SOUND_PCM_RATES,
  SoundCmdCode,
  SoundDirection,
  SoundStatus,
  type SoundQueues,
  type SoundSharedState,
} from "../../sddf/sound/queue.ts";
import { hex } from "../../util/hex.ts";
import type { VmmLog } from "../log.ts";
import type { VirtioVmm } from "./mmio.ts";
import { addVirtioDevice, virtioDeviceName, type VirtioPlacement } from "./device.ts";

export interface SddfSoundBackendOptions {
  /** The client's command and PCM queues to the sound virtualiser (or driver). */
  queues: SoundQueues;
  /** The driver's shared state: its streams, once ready. */
  sharedState: SoundSharedState;
  /** The client's PCM data region, used in 4 KiB buffers. */
  data: Uint8Array;
  /** Tells the virtualiser there is work (microkit_notify on its channel). */
  notify(): void;
  log?: VmmLog;
  name?: string;
}

interface Piece {
  stream: number;
  /** Bytes [at, at + length) of the transfer. */
  at: number;
  length: number;
  slot: number;
  cookie: number;
  transfer: Transfer;
}

interface Transfer {
  output: boolean;
  stream: number;
  bytes: Uint8Array;
  waiting: Piece[];
  inFlight: number;
  error: string | undefined;
  done: SoundDone;
}

interface Command {
  code: number;
  stream: number;
  params?: { channels: number; format: number; rate: number };
  done: SoundDone;
}

const STATUS_NAMES = ["OK", "BAD_MSG", "NOT_SUPP", "IO_ERR", "BUSY"];
const COMMAND_NAMES = ["TAKE", "PREPARE", "RELEASE", "START", "STOP"];

/**
 * A SoundBackend over an sDDF sound client. Call `handleResponses()` when the virtualiser notifies.
 */
export class SddfSoundBackend implements SoundBackend {
  private readonly queues: SoundQueues;
  private readonly shared: SoundSharedState;
  private readonly data: Uint8Array;
  private readonly notifyVirt: () => void;
  private readonly log: VmmLog | undefined;
  private readonly name: string;
  private readonly slots: boolean[];
  private readonly commandsWaiting: Command[] = [];
  private readonly commandsSent = new Map<number, Command>();
  private readonly transfers: Transfer[] = [];
  private readonly piecesSent = new Map<number, Piece>();
  private nextCookie = 1;
  private reports = 0;
  /** The parameters each stream was last taken with (a TAKE the driver answered OK). */
  private readonly takenWith = new Map<number, NonNullable<Command["params"]>>();
  /**
   * Streams the driver no longer counts as this client's: sDDF's RELEASE gives a stream up (so does a
   * refused TAKE), while virtio lets a released stream be prepared again without new parameters.
   */
  private readonly givenUp = new Set<number>();

  constructor(options: SddfSoundBackendOptions) {
    this.queues = options.queues;
    this.shared = options.sharedState;
    this.data = options.data;
    this.notifyVirt = options.notify;
    this.log = options.log;
    this.name = options.name ?? "virtio-snd";
    const slots = Math.floor(this.data.length / SOUND_PCM_BUFFER_SIZE);
    if (slots < 1) {
      throw new Error(
        `${this.name}: the sound data region is ${this.data.length} bytes; it needs at least one ${SOUND_PCM_BUFFER_SIZE}-byte buffer`,
      );
    }
    this.slots = new Array<boolean>(slots).fill(false);
  }

  /**
   * The driver's streams once its shared state is ready (none before). A stream the device cannot
   * describe (an unknown direction, no linear formats or rates) keeps its number but shows no channels,
   * so the virtio device leaves it out and reports it.
   */
  get streams(): SoundStreamInfo[] {
    if (!this.shared.ready) return [];
    return this.shared.readStreams().map((s) => {
      const formats: number[] = [];
      for (let f = 0; f < VIRTIO_SND_FORMAT_BYTES.length; f++) {
        if (s.formats & (1n << BigInt(f)) && VIRTIO_SND_FORMAT_BYTES[f]) formats.push(f);
      }
      const rates: number[] = [];
      SOUND_PCM_RATES.forEach((hz, i) => {
        if (s.rates & (1n << BigInt(i)) && VIRTIO_SND_RATES.includes(hz)) rates.push(hz);
      });
      const known = s.direction === SoundDirection.OUTPUT || s.direction === SoundDirection.INPUT;
      return {
        direction: s.direction === SoundDirection.INPUT ? "input" : "output",
        channelsMin: known ? s.channelsMin : 0,
        channelsMax: known ? s.channelsMax : 0,
        formats,
        rates,
      };
    });
  }

  setParams(stream: number, params: SoundPcmParams, done: SoundDone): void {
    const rate = SOUND_PCM_RATES.indexOf(params.rate as (typeof SOUND_PCM_RATES)[number]);
    this.command({
      code: SoundCmdCode.TAKE,
      stream,
      params: { channels: params.channels, format: params.format, rate },
      done,
    });
  }
  prepare(stream: number, done: SoundDone): void {
    const params = this.takenWith.get(stream);
    if (params && this.givenUp.has(stream)) {
      // Taken again with the parameters the guest set before, then prepared.
      this.command({
        code: SoundCmdCode.TAKE,
        stream,
        params,
        done: (error) =>
          error === undefined ? this.command({ code: SoundCmdCode.PREPARE, stream, done }) : done(error),
      });
      return;
    }
    this.command({ code: SoundCmdCode.PREPARE, stream, done });
  }
  release(stream: number, done: SoundDone): void {
    this.command({ code: SoundCmdCode.RELEASE, stream, done });
  }
  start(stream: number, done: SoundDone): void {
    this.command({ code: SoundCmdCode.START, stream, done });
  }
  stop(stream: number, done: SoundDone): void {
    this.command({ code: SoundCmdCode.STOP, stream, done });
  }

  play(stream: number, pcm: Uint8Array, done: SoundDone): void {
    this.transfer(true, stream, pcm, done);
  }

  capture(stream: number, into: Uint8Array, done: SoundDone): void {
    this.transfer(false, stream, into, done);
  }

  /** The virtualiser notified: take its command and PCM responses, then send what waits. */
  handleResponses(): void {
    for (;;) {
      const response = this.queues.cmdRes.dequeue();
      if (!response) break;
      const command = this.commandsSent.get(response.cookie);
      if (!command) {
        this.report(
          `the sound virtualiser answered command cookie ${response.cookie}, which is not outstanding; ignored`,
        );
        continue;
      }
      this.commandsSent.delete(response.cookie);
      const status = response.status ?? SoundStatus.IO_ERR;
      if (command.code === SoundCmdCode.TAKE && status === SoundStatus.OK) {
        this.takenWith.set(command.stream, command.params!);
        this.givenUp.delete(command.stream);
      } else if (
        command.code === SoundCmdCode.TAKE ||
        (command.code === SoundCmdCode.RELEASE && status === SoundStatus.OK)
      ) {
        this.givenUp.add(command.stream);
      }
      command.done(
        status === SoundStatus.OK
          ? undefined
          : `the sound virtualiser answered ${STATUS_NAMES[status] ?? hex(status)} to ${COMMAND_NAMES[command.code]} on stream ${command.stream}` +
              (status === SoundStatus.BUSY ? " (another client owns the stream)" : ""),
      );
    }
    for (;;) {
      const response = this.queues.pcmRes.dequeue();
      if (!response) break;
      const piece = this.piecesSent.get(response.cookie);
      if (!piece) {
        this.report(
          `the sound virtualiser answered PCM cookie ${response.cookie}, which is not outstanding; ignored`,
        );
        continue;
      }
      this.piecesSent.delete(response.cookie);
      const t = piece.transfer;
      if (response.status !== SoundStatus.OK) {
        t.error ??= `the sound virtualiser answered ${STATUS_NAMES[response.status ?? 3] ?? hex(response.status ?? 0)} to ${t.output ? "PCM to play" : "a capture"} on stream ${t.stream}`;
      } else if (!t.output) {
        const from = piece.slot * SOUND_PCM_BUFFER_SIZE;
        t.bytes.set(this.data.subarray(from, from + piece.length), piece.at);
      }
      this.slots[piece.slot] = false;
      t.inFlight--;
      if (t.inFlight === 0 && t.waiting.length === 0) this.finish(t);
    }
    this.pump();
  }

  private command(command: Command): void {
    this.commandsWaiting.push(command);
    this.pump();
  }

  private transfer(output: boolean, stream: number, bytes: Uint8Array, done: SoundDone): void {
    if (bytes.length === 0) return done();
    const t: Transfer = { output, stream, bytes, waiting: [], inFlight: 0, error: undefined, done };
    for (let at = 0; at < bytes.length; at += SOUND_PCM_BUFFER_SIZE) {
      const length = Math.min(SOUND_PCM_BUFFER_SIZE, bytes.length - at);
      t.waiting.push({ stream, at, length, slot: -1, cookie: 0, transfer: t });
    }
    this.transfers.push(t);
    this.pump();
  }

  private finish(t: Transfer): void {
    this.transfers.splice(this.transfers.indexOf(t), 1);
    t.done(t.error);
  }

  /** Sends waiting commands and PCM pieces, in order, while the queues and the data region have room. */
  private pump(): void {
    let sent = 0;
    while (this.commandsWaiting.length > 0 && !this.queues.cmdReq.full()) {
      const command = this.commandsWaiting.shift()!;
      const cookie = this.cookie();
      this.queues.cmdReq.enqueue({
        code: command.code,
        cookie,
        streamId: command.stream,
        setParams: command.params,
      });
      this.commandsSent.set(cookie, command);
      sent++;
    }
    outer: for (const t of this.transfers) {
      while (t.waiting.length > 0) {
        if (this.queues.pcmReq.full()) break outer;
        const slot = this.slots.indexOf(false);
        if (slot < 0) break outer;
        const piece = t.waiting.shift()!;
        piece.slot = slot;
        piece.cookie = this.cookie();
        this.slots[slot] = true;
        const offset = slot * SOUND_PCM_BUFFER_SIZE;
        if (t.output) this.data.set(t.bytes.subarray(piece.at, piece.at + piece.length), offset);
        this.queues.pcmReq.enqueue({
          cookie: piece.cookie,
          streamId: piece.stream,
          ioOrOffset: offset,
          len: piece.length,
        });
        this.piecesSent.set(piece.cookie, piece);
        t.inFlight++;
        sent++;
      }
    }
    if (sent > 0) this.notifyVirt();
  }

  private cookie(): number {
    const cookie = this.nextCookie;
    this.nextCookie = this.nextCookie >= 0xffff_fffe ? 1 : this.nextCookie + 1;
    return cookie;
  }

  private report(message: string): void {
    if (this.reports > 16) return;
    this.reports++;
    this.log?.error(
      `${this.name}: ${this.reports > 16 ? "more bad responses from the sound virtualiser; no further reports" : message}`,
    );
  }
}

export type VirtioSoundOptions = VirtioPlacement & {
  /** The client's command and PCM queues. */
  queues: SoundQueues;
  /** The sound driver's shared state. */
  sharedState: SoundSharedState;
  /** The client's PCM data region. */
  data: Uint8Array;
  /** The channel to the sound virtualiser. */
  channel: number;
  /** microkit_notify. */
  notify(channel: number): void;
  /** QueueNumMax of the device's queues (default 64). */
  queueSize?: number;
  /**
   * PCM transfers per queue passed to the sound driver before earlier ones are done (default 1):
   * the device reads each buffer from the guest when the card is ready for it, as a card's DMA
   * does (see VirtioSoundOptions.readAhead).
   */
  readAhead?: number;
};

/** A virtio sound card wired to an sDDF sound client. */
export interface VmmVirtioSound {
  readonly device: VirtioSound;
  readonly backend: SddfSoundBackend;
  /** For the VMM's `notified(ch)`: true when the channel was the sound card's (now handled). */
  handleNotification(channel: number): boolean;
}

/** Creates the sound card at `options.base` with its SPI and connects it to the client's sound queues. */
export function virtioSound(host: VirtioVmm, options: VirtioSoundOptions): VmmVirtioSound {
  const backend = new SddfSoundBackend({
    queues: options.queues,
    sharedState: options.sharedState,
    data: options.data,
    notify: () => options.notify(options.channel),
    log: host.log,
    name: virtioDeviceName(host, "virtio-snd", options),
  });
  const device = addVirtioDevice(
    host,
    "virtio-snd",
    options,
    (wiring) =>
      new VirtioSound({
        ...wiring,
        backend,
        queueSize: options.queueSize,
        readAhead: options.readAhead ?? 1,
      }),
  );
  return {
    device,
    backend,
    handleNotification(channel) {
      if (channel !== options.channel) return false;
      backend.handleResponses();
      return true;
    },
  };
}
