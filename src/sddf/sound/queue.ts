// sDDF sound queues and shared state (include/sddf/sound/{queue,sound}.h, sDDF 0.7): command and PCM request/response queues.

import type { Pd } from "../../microkit/index.ts";
import { SharedFields, checkCapacity, checkRegion, distance32, regionBytes } from "../shared.ts";

export const SOUND_CMD_QUEUE_CAPACITY = 64;
export const SOUND_PCM_QUEUE_CAPACITY = 256;
/** SOUND_PCM_BUFFER_SIZE: PCM travels in buffers of at most this many bytes. */
export const SOUND_PCM_BUFFER_SIZE = 4096;
export const SOUND_MAX_STREAM_COUNT = 32;

/** sound_cmd_code_t. TAKE claims a stream with its parameters: the first client to take it owns it. */
export const SoundCmdCode = { TAKE: 0, PREPARE: 1, RELEASE: 2, START: 3, STOP: 4 } as const;
/** sound_status_t. */
export const SoundStatus = { OK: 0, BAD_MSG: 1, NOT_SUPP: 2, IO_ERR: 3, BUSY: 4 } as const;
/** sound_direction_t. */
export const SoundDirection = { OUTPUT: 0, INPUT: 1 } as const;

/** sound_pcm_fmt_t, in order: bit n of a stream's `formats` is format n. */
export const SOUND_PCM_FORMATS = [
  "IMA_ADPCM", "MU_LAW", "A_LAW", "S8", "U8", "S16", "U16", "S18_3", "U18_3", "S20_3", "U20_3", "S24_3",
  "U24_3", "S20", "U20", "S24", "U24", "S32", "U32", "FLOAT", "FLOAT64", "DSD_U8", "DSD_U16", "DSD_U32",
  "IEC958_SUBFRAME",
] as const; // prettier-ignore
export const SoundPcmFmt = Object.fromEntries(SOUND_PCM_FORMATS.map((name, i) => [name, i])) as {
  readonly [K in (typeof SOUND_PCM_FORMATS)[number]]: number;
};

/** sound_pcm_rate_t in Hz, in order: bit n of a stream's `rates` is rate n. */
export const SOUND_PCM_RATES = [
  5512, 8000, 11025, 16000, 22050, 32000, 44100, 48000, 64000, 88200, 96000, 176400, 192000, 384000,
] as const;

/**
 * sound_cmd_t (16 bytes): code u32 @0, cookie u32 @4, stream_id u32 @8, then a 4-byte union @12:
 * set_params {channels u8, format u8, rate u8} on TAKE requests, status u32 on every response.
 */
export const SOUND_CMD = { code: 0, cookie: 4, streamId: 8, channels: 12, format: 13, rate: 14, status: 12, size: 16 } as const; // prettier-ignore
/**
 * sound_pcm_t (32 bytes): cookie u32 @0, stream_id u32 @4, io_or_offset u64 @8, len u32 @16,
 * status u32 @20 and latency_bytes u32 @24 (responses only).
 */
export const SOUND_PCM = { cookie: 0, streamId: 4, ioOrOffset: 8, len: 16, status: 20, latencyBytes: 24, size: 32 } as const; // prettier-ignore
/** sound_cmd_queue_t and sound_pcm_queue_t: tail u32 @0, head u32 @4, entries from 8. */
export const SOUND_QUEUE = { tail: 0, head: 4, entries: 8 } as const;
/**
 * sound_shared_state_t: ready bool @0, streams u32 @4, stream_info[32] from 8, each 24 bytes:
 * formats u64 @0, rates u64 @8, direction u8 @16, channels_min u8 @17, channels_max u8 @18.
 */
export const SOUND_SHARED_STATE = { ready: 0, streams: 4, streamInfo: 8, size: 8 + 32 * 24 } as const;
export const SOUND_PCM_INFO = { formats: 0, rates: 8, direction: 16, channelsMin: 17, channelsMax: 18, size: 24 } as const; // prettier-ignore

export const SOUND_MAX_CAPACITY = 2 ** 31;

export function soundCmdQueueSize(capacity: number): number {
  return SOUND_QUEUE.entries + capacity * SOUND_CMD.size;
}
export function soundPcmQueueSize(capacity: number): number {
  return SOUND_QUEUE.entries + capacity * SOUND_PCM.size;
}

export interface SoundPcmSetParams {
  channels: number;
  /** A SoundPcmFmt value. */
  format: number;
  /** An index into SOUND_PCM_RATES. */
  rate: number;
}

export interface SoundCmd {
  code: number;
  cookie: number;
  streamId: number;
  /** Requests: the TAKE parameters (zero for other commands). */
  setParams?: SoundPcmSetParams;
  /** Responses: a SoundStatus. */
  status?: number;
}

export interface SoundPcm {
  cookie: number;
  streamId: number;
  ioOrOffset: number;
  len: number;
  status?: number;
  latencyBytes?: number;
}

/** One queue of commands or PCM descriptors with its private capacity. */
abstract class SoundQueue<T> {
  readonly capacity: number;
  protected readonly fields: SharedFields;

  constructor(what: string, region: Uint8Array, capacity: number, entrySize: number) {
    this.capacity = checkCapacity(what, capacity, SOUND_MAX_CAPACITY);
    this.fields = new SharedFields(checkRegion(what, region, SOUND_QUEUE.entries + capacity * entrySize));
  }

  /** Entries waiting; 0 while the indices are corrupt. */
  length(): number {
    const used = this.raw();
    return used > this.capacity ? 0 : used;
  }
  empty(): boolean {
    return this.length() === 0;
  }
  /** True when full, and when the indices are corrupt. */
  full(): boolean {
    return this.raw() >= this.capacity;
  }
  violation(): string | undefined {
    const used = this.raw();
    if (used <= this.capacity) return undefined;
    return `sound queue indices are corrupt: tail ${this.fields.u32(SOUND_QUEUE.tail)} is ${used} ahead of head ${this.fields.u32(SOUND_QUEUE.head)}, more than the capacity ${this.capacity}`;
  }

  enqueue(entry: T): boolean {
    if (this.full()) return false;
    const tail = this.fields.u32(SOUND_QUEUE.tail);
    this.write(SOUND_QUEUE.entries + (tail % this.capacity) * this.entrySize, entry);
    this.fields.setU32(SOUND_QUEUE.tail, tail + 1);
    return true;
  }

  dequeue(): T | undefined {
    if (this.empty()) return undefined;
    const head = this.fields.u32(SOUND_QUEUE.head);
    const entry = this.read(SOUND_QUEUE.entries + (head % this.capacity) * this.entrySize);
    this.fields.setU32(SOUND_QUEUE.head, head + 1);
    return entry;
  }

  protected abstract readonly entrySize: number;
  protected abstract write(at: number, entry: T): void;
  protected abstract read(at: number): T;

  private raw(): number {
    return distance32(this.fields.u32(SOUND_QUEUE.tail), this.fields.u32(SOUND_QUEUE.head));
  }
}

/** sound_cmd_queue_handle_t. */
export class SoundCmdQueueHandle extends SoundQueue<SoundCmd> {
  protected readonly entrySize = SOUND_CMD.size;

  constructor(region: Uint8Array, capacity = SOUND_CMD_QUEUE_CAPACITY) {
    super("sound command queue", region, capacity, SOUND_CMD.size);
  }

  protected write(at: number, cmd: SoundCmd): void {
    const f = this.fields;
    f.setU32(at + SOUND_CMD.code, cmd.code);
    f.setU32(at + SOUND_CMD.cookie, cmd.cookie);
    f.setU32(at + SOUND_CMD.streamId, cmd.streamId);
    if (cmd.status !== undefined) {
      f.setU32(at + SOUND_CMD.status, cmd.status);
    } else {
      f.setU8(at + SOUND_CMD.channels, cmd.setParams?.channels ?? 0);
      f.setU8(at + SOUND_CMD.format, cmd.setParams?.format ?? 0);
      f.setU8(at + SOUND_CMD.rate, cmd.setParams?.rate ?? 0);
      f.setU8(at + SOUND_CMD.rate + 1, 0);
    }
  }

  protected read(at: number): SoundCmd {
    const f = this.fields;
    return {
      code: f.u32(at + SOUND_CMD.code),
      cookie: f.u32(at + SOUND_CMD.cookie),
      streamId: f.u32(at + SOUND_CMD.streamId),
      setParams: {
        channels: f.u8(at + SOUND_CMD.channels),
        format: f.u8(at + SOUND_CMD.format),
        rate: f.u8(at + SOUND_CMD.rate),
      },
      status: f.u32(at + SOUND_CMD.status),
    };
  }
}

/** sound_pcm_queue_handle_t. */
export class SoundPcmQueueHandle extends SoundQueue<SoundPcm> {
  protected readonly entrySize = SOUND_PCM.size;

  constructor(region: Uint8Array, capacity = SOUND_PCM_QUEUE_CAPACITY) {
    super("sound PCM queue", region, capacity, SOUND_PCM.size);
  }

  protected write(at: number, pcm: SoundPcm): void {
    const f = this.fields;
    f.setU32(at + SOUND_PCM.cookie, pcm.cookie);
    f.setU32(at + SOUND_PCM.streamId, pcm.streamId);
    f.setU64(at + SOUND_PCM.ioOrOffset, pcm.ioOrOffset);
    f.setU32(at + SOUND_PCM.len, pcm.len);
    f.setU32(at + SOUND_PCM.status, pcm.status ?? 0);
    f.setU32(at + SOUND_PCM.latencyBytes, pcm.latencyBytes ?? 0);
  }

  protected read(at: number): SoundPcm {
    const f = this.fields;
    return {
      cookie: f.u32(at + SOUND_PCM.cookie),
      streamId: f.u32(at + SOUND_PCM.streamId),
      ioOrOffset: f.u64(at + SOUND_PCM.ioOrOffset),
      len: f.u32(at + SOUND_PCM.len),
      status: f.u32(at + SOUND_PCM.status),
      latencyBytes: f.u32(at + SOUND_PCM.latencyBytes),
    };
  }
}

/** The four queues between a sound client and its server, as a PD's setvars name them. */
export interface SoundQueuesConfig {
  cmdReq: string;
  cmdRes: string;
  pcmReq: string;
  pcmRes: string;
  /** Default SOUND_CMD_QUEUE_CAPACITY. */
  cmdCapacity?: number;
  /** Default SOUND_PCM_QUEUE_CAPACITY. */
  pcmCapacity?: number;
}

/** sound_queues_t. */
export class SoundQueues {
  constructor(
    readonly cmdReq: SoundCmdQueueHandle,
    readonly cmdRes: SoundCmdQueueHandle,
    readonly pcmReq: SoundPcmQueueHandle,
    readonly pcmRes: SoundPcmQueueHandle,
  ) {}

  static fromPd(pd: Pd, config: SoundQueuesConfig, component = "sound"): SoundQueues {
    const cmd = config.cmdCapacity ?? SOUND_CMD_QUEUE_CAPACITY;
    const pcm = config.pcmCapacity ?? SOUND_PCM_QUEUE_CAPACITY;
    return new SoundQueues(
      new SoundCmdQueueHandle(regionBytes(pd, config.cmdReq, component, soundCmdQueueSize(cmd)), cmd),
      new SoundCmdQueueHandle(regionBytes(pd, config.cmdRes, component, soundCmdQueueSize(cmd)), cmd),
      new SoundPcmQueueHandle(regionBytes(pd, config.pcmReq, component, soundPcmQueueSize(pcm)), pcm),
      new SoundPcmQueueHandle(regionBytes(pd, config.pcmRes, component, soundPcmQueueSize(pcm)), pcm),
    );
  }
}

/** sound_pcm_info_t. */
export interface SoundPcmInfo {
  /** Bit n set: SoundPcmFmt n supported. */
  formats: bigint;
  /** Bit n set: SOUND_PCM_RATES[n] supported. */
  rates: bigint;
  direction: number;
  channelsMin: number;
  channelsMax: number;
}

/**
 * sound_shared_state_t: the driver describes its streams and sets `ready` last; clients read
 * `streams` (at most SOUND_MAX_STREAM_COUNT are believed) once ready.
 */
export class SoundSharedState {
  private readonly fields: SharedFields;

  constructor(region: Uint8Array) {
    this.fields = new SharedFields(checkRegion("sound shared state", region, SOUND_SHARED_STATE.size));
  }

  static fromPd(pd: Pd, setvar: string, component = "sound"): SoundSharedState {
    return new SoundSharedState(regionBytes(pd, setvar, component, SOUND_SHARED_STATE.size));
  }

  get ready(): boolean {
    return this.fields.u8(SOUND_SHARED_STATE.ready) !== 0;
  }
  setReady(ready: boolean): void {
    this.fields.setU8(SOUND_SHARED_STATE.ready, ready ? 1 : 0);
  }

  /** The streams, never more than SOUND_MAX_STREAM_COUNT whatever the shared count says. */
  readStreams(): SoundPcmInfo[] {
    const count = Math.min(this.fields.u32(SOUND_SHARED_STATE.streams), SOUND_MAX_STREAM_COUNT);
    const data = new DataView(this.fields.bytes.buffer, this.fields.bytes.byteOffset);
    return Array.from({ length: count }, (_, i) => {
      const at = SOUND_SHARED_STATE.streamInfo + i * SOUND_PCM_INFO.size;
      return {
        formats: data.getBigUint64(at + SOUND_PCM_INFO.formats, true),
        rates: data.getBigUint64(at + SOUND_PCM_INFO.rates, true),
        direction: this.fields.u8(at + SOUND_PCM_INFO.direction),
        channelsMin: this.fields.u8(at + SOUND_PCM_INFO.channelsMin),
        channelsMax: this.fields.u8(at + SOUND_PCM_INFO.channelsMax),
      };
    });
  }

  /** Writes the stream descriptions (not `ready`; set that last). */
  writeStreams(streams: readonly SoundPcmInfo[]): void {
    if (streams.length > SOUND_MAX_STREAM_COUNT) {
      throw new RangeError(`sound: ${streams.length} streams, at most ${SOUND_MAX_STREAM_COUNT}`);
    }
    this.fields.setU32(SOUND_SHARED_STATE.streams, streams.length);
    streams.forEach((s, i) => {
      const at = SOUND_SHARED_STATE.streamInfo + i * SOUND_PCM_INFO.size;
      this.fields.setU64(at + SOUND_PCM_INFO.formats, s.formats);
      this.fields.setU64(at + SOUND_PCM_INFO.rates, s.rates);
      this.fields.setU8(at + SOUND_PCM_INFO.direction, s.direction);
      this.fields.setU8(at + SOUND_PCM_INFO.channelsMin, s.channelsMin);
      this.fields.setU8(at + SOUND_PCM_INFO.channelsMax, s.channelsMax);
    });
  }
}
