// An sDDF sound driver over a host sound back-end (a WAV writer, …): serves the sound queues of its clients, the first client to TAKE a stream owning it, as sDDF's sound virtualiser decides.

import {
  TimerControl,
  definePd,
  type Pd,
  type PdProgramDefinition,
  type ProgramContext,
} from "../../microkit/index.ts";
import { VIRTIO_SND_FORMAT_BYTES } from "../../machine/devices/virtio/constants.ts";
import type { SoundBackend, SoundDone } from "../../machine/devices/virtio/sound.ts";
import { PeerComplaints, regionBytes } from "../shared.ts";
import {
  SOUND_MAX_STREAM_COUNT,
  SOUND_PCM_BUFFER_SIZE,
  SOUND_PCM_QUEUE_CAPACITY,
  SOUND_PCM_RATES,
  SoundCmdCode,
  SoundDirection,
  SoundQueues,
  SoundSharedState,
  SoundStatus,
  type SoundCmd,
  type SoundPcm,
  type SoundQueuesConfig,
} from "./queue.ts";

export interface SoundDriverClient extends SoundQueuesConfig {
  /** setvar_vaddr of the driver's map of the client's PCM data region (offsets in PCM requests are into it). */
  data: string;
  channel: number;
}

export interface SoundDriverConfig {
  /**
   * What plays and records: a back-end, or a function making one for each boot (so a file-writing
   * back-end starts afresh), told the PD's context (where the user wants sound files: hostOutput).
   */
  backend: SoundBackend | ((context: ProgramContext) => SoundBackend);
  /** setvar_vaddr of the shared state region every client reads the streams from. */
  sharedState: string;
  clients: SoundDriverClient[];
  /**
   * The channel id of the PD's `<irq irq="30" .../>` (the ARM physical timer): with it, PCM is
   * answered at the pace a sound card plays and records, each buffer when its last frame has gone
   * out at the stream's rate in the system's time; without it, as soon as the back-end took it.
   */
  timer?: { irq: number };
}

const NEVER = (1n << 64n) - 1n;
const NS_PER_S = 1_000_000_000n;

/** A PCM answer held until the sound card would have played (or recorded) its buffer. */
interface PacedAnswer {
  at: bigint;
  streamId: number;
  send(): void;
}

const COMMANDS = ["TAKE", "PREPARE", "RELEASE", "START", "STOP"];

interface Client {
  queues: SoundQueues;
  data: Uint8Array;
  /** It has answers it has not been notified of. */
  notify: boolean;
}

/**
 * A PD program: the sound driver. It describes the back-end's streams in the shared state, then
 * takes each client's commands (TAKE with its parameters, PREPARE, RELEASE, START, STOP) and PCM
 * (played from, or captured into, the client's data region in buffers of up to 4 KiB), answering
 * each on the response queues. A stream belongs to the first client to TAKE it until it is
 * RELEASEd (or the TAKE fails); another client's commands get BUSY.
 */
export function soundDriver(config: SoundDriverConfig): PdProgramDefinition {
  return definePd((context) => {
    const backend = typeof config.backend === "function" ? config.backend(context) : config.backend;
    const streams = backend.streams.slice(0, SOUND_MAX_STREAM_COUNT);
    const owners = new Map<number, number>();
    /** Each taken stream's rate and frame size, and when the card will be done with what it was given (ns). */
    const timing = new Map<number, { rate: number; frameBytes: number; playhead: bigint }>();
    let paced: PacedAnswer[] = [];
    let clients: Client[] = [];
    const complaints = new PeerComplaints("SND DRIVER|ERR: ");

    /** Runs a back-end operation; the answer goes on the client's queue when it is done. */
    function run(operation: (done: SoundDone) => void, answer: (status: number) => void): void {
      operation((error) => answer(error === undefined ? SoundStatus.OK : SoundStatus.IO_ERR));
    }

    function command(pd: Pd, i: number, cmd: SoundCmd): void {
      const client = clients[i]!;
      const who = `client ${i}`;
      const respond = (status: number): void => {
        if (cmd.code === SoundCmdCode.RELEASE && status === SoundStatus.OK) owners.delete(cmd.streamId);
        if (cmd.code === SoundCmdCode.TAKE && status !== SoundStatus.OK && owners.get(cmd.streamId) === i) {
          owners.delete(cmd.streamId);
        }
        // Every answer wakes the client, a refusal too: it may be waiting for nothing else.
        client.notify = true;
        if (
          !client.queues.cmdRes.enqueue({
            code: cmd.code,
            cookie: cmd.cookie,
            streamId: cmd.streamId,
            status,
          })
        ) {
          complaints.report(
            pd,
            who,
            `${who}'s command response queue is full: the answer to cookie ${cmd.cookie} is lost`,
          );
        }
      };
      const refuse = (status: number, why: string): void => {
        complaints.report(
          pd,
          who,
          `[${who}] ${COMMANDS[cmd.code] ?? `command ${cmd.code}`} on stream ${cmd.streamId}: ${why}`,
        );
        respond(status);
      };
      const stream = streams[cmd.streamId];
      if (!stream) return refuse(SoundStatus.BAD_MSG, `there are ${streams.length} streams`);
      if (cmd.code > SoundCmdCode.STOP) return refuse(SoundStatus.BAD_MSG, "no such command");
      const owner = owners.get(cmd.streamId);
      if (owner === undefined) {
        if (cmd.code !== SoundCmdCode.TAKE)
          return refuse(SoundStatus.BAD_MSG, "the client must TAKE the stream first");
        owners.set(cmd.streamId, i);
      } else if (owner !== i) {
        return refuse(SoundStatus.BUSY, `the stream belongs to client ${owner}`);
      }
      const id = cmd.streamId;
      switch (cmd.code) {
        case SoundCmdCode.TAKE: {
          const p = cmd.setParams ?? { channels: 0, format: 0, rate: 0 };
          const rate = SOUND_PCM_RATES[p.rate];
          const sampleBytes = VIRTIO_SND_FORMAT_BYTES[p.format] ?? 0;
          if (
            p.channels < stream.channelsMin ||
            p.channels > stream.channelsMax ||
            !stream.formats.includes(p.format) ||
            rate === undefined ||
            !stream.rates.includes(rate) ||
            sampleBytes === 0
          ) {
            return refuse(
              SoundStatus.NOT_SUPP,
              `the stream does not take ${p.channels} channels of format ${p.format} at rate ${rate ?? `#${p.rate}`}`,
            );
          }
          const frameBytes = p.channels * sampleBytes;
          // sDDF's TAKE carries no buffer sizes: a period is one PCM buffer, the buffer every PCM slot.
          const periodBytes = SOUND_PCM_BUFFER_SIZE - (SOUND_PCM_BUFFER_SIZE % frameBytes);
          const params = {
            channels: p.channels,
            format: p.format,
            rate,
            frameBytes,
            periodBytes,
            bufferBytes: periodBytes * SOUND_PCM_QUEUE_CAPACITY,
          };
          timing.set(id, { rate, frameBytes, playhead: 0n });
          return run((done) => backend.setParams(id, params, done), respond);
        }
        case SoundCmdCode.PREPARE:
          return run((done) => backend.prepare(id, done), respond);
        case SoundCmdCode.RELEASE:
          // Released buffers come back at once (virtio-snd returns a released stream's I/O).
          sendPaced(pd, (answer) => answer.streamId === id);
          return run((done) => backend.release(id, done), respond);
        case SoundCmdCode.START:
          return run((done) => backend.start(id, done), respond);
        case SoundCmdCode.STOP:
          return run((done) => backend.stop(id, done), respond);
      }
    }

    function pcm(pd: Pd, i: number, request: SoundPcm): void {
      const client = clients[i]!;
      const who = `client ${i}`;
      const respond = (status: number): void => {
        const due =
          config.timer && status === SoundStatus.OK ? dueTime(pd, request.streamId, request.len) : undefined;
        if (due !== undefined) {
          paced.push({ at: due, streamId: request.streamId, send: () => answer(status) });
          armTimer(pd);
        } else answer(status);
      };
      const answer = (status: number): void => {
        const response = { ...request, status, latencyBytes: 0 };
        client.notify = true;
        if (!client.queues.pcmRes.enqueue(response)) {
          complaints.report(
            pd,
            who,
            `${who}'s PCM response queue is full: the answer to cookie ${request.cookie} is lost`,
          );
        }
      };
      const refuse = (why: string): void => {
        complaints.report(
          pd,
          who,
          `[${who}] PCM cookie ${request.cookie} on stream ${request.streamId}: ${why}`,
        );
        respond(SoundStatus.BAD_MSG);
      };
      if (owners.get(request.streamId) !== i) return refuse("the stream is not the client's (TAKE it first)");
      const { ioOrOffset: offset, len } = request;
      if (
        offset % SOUND_PCM_BUFFER_SIZE !== 0 ||
        len > SOUND_PCM_BUFFER_SIZE ||
        offset + len > client.data.length
      ) {
        return refuse(
          `buffer at offset 0x${offset.toString(16)} of ${len} bytes is not a PCM buffer of its ${client.data.length}-byte data region`,
        );
      }
      const bytes = client.data.subarray(offset, offset + len);
      const id = request.streamId;
      if (streams[id]!.direction === "output") {
        const copy = bytes.slice();
        run((done) => backend.play(id, copy, done), respond);
      } else {
        run((done) => backend.capture(id, bytes, done), respond);
      }
    }

    function serve(pd: Pd, i: number): void {
      const { queues } = clients[i]!;
      // The two queues carry no order between them: commands that set a stream up go first, then its
      // PCM, then commands that end streaming (STOP, RELEASE) and any after them, so PCM queued with
      // its START is played and PCM queued before a STOP is not lost.
      const later: SoundCmd[] = [];
      for (let cmd = queues.cmdReq.dequeue(); cmd; cmd = queues.cmdReq.dequeue()) {
        if (later.length > 0 || cmd.code === SoundCmdCode.STOP || cmd.code === SoundCmdCode.RELEASE)
          later.push(cmd);
        else command(pd, i, cmd);
      }
      for (let req = queues.pcmReq.dequeue(); req; req = queues.pcmReq.dequeue()) pcm(pd, i, req);
      for (const cmd of later) command(pd, i, cmd);
      for (const [name, v] of [
        ["command", queues.cmdReq.violation()],
        ["PCM", queues.pcmReq.violation()],
      ] as const) {
        if (v) complaints.report(pd, `client ${i}`, `client ${i}'s ${name} queue: ${v}`);
      }
    }

    const nowNs = (pd: Pd): bigint => (pd.armTimer.counter() * NS_PER_S) / BigInt(pd.armTimer.frequency);

    /** When the card is done with `len` more bytes of the stream: its buffers play one after another. */
    function dueTime(pd: Pd, streamId: number, len: number): bigint | undefined {
      const t = timing.get(streamId);
      if (!t) return undefined;
      const start = t.playhead > nowNs(pd) ? t.playhead : nowNs(pd);
      t.playhead = start + (BigInt(Math.floor(len / t.frameBytes)) * NS_PER_S) / BigInt(t.rate);
      return t.playhead;
    }

    /** Sends the held answers `which` picks (the due ones by default) and arms the timer for the next. */
    function sendPaced(pd: Pd, which?: (answer: PacedAnswer) => boolean): void {
      const now = nowNs(pd);
      const send = paced.filter(which ?? ((answer) => answer.at <= now));
      paced = paced.filter((answer) => !send.includes(answer));
      for (const answer of send) answer.send();
      armTimer(pd);
    }

    function armTimer(pd: Pd): void {
      if (!config.timer) return;
      const next = paced.reduce((min, answer) => (answer.at < min ? answer.at : min), NEVER);
      const freq = BigInt(pd.armTimer.frequency);
      // Rounded up to a whole tick, so the interrupt never comes before the buffer is done.
      pd.armTimer.compare = next === NEVER ? NEVER : (next * freq + NS_PER_S - 1n) / NS_PER_S;
    }

    function flushNotifications(pd: Pd): void {
      clients.forEach((c, i) => {
        if (!c.notify) return;
        c.notify = false;
        pd.notify(config.clients[i]!.channel);
      });
    }

    return {
      init(pd) {
        const component = "sound driver";
        clients = config.clients.map((c) => ({
          queues: SoundQueues.fromPd(pd, c, component),
          data: regionBytes(pd, c.data, component),
          notify: false,
        }));
        const shared = SoundSharedState.fromPd(pd, config.sharedState, component);
        shared.writeStreams(
          streams.map((s) => ({
            formats: s.formats.reduce((m, f) => m | (1n << BigInt(f)), 0n),
            rates: s.rates.reduce((m, hz) => {
              const index = SOUND_PCM_RATES.indexOf(hz as (typeof SOUND_PCM_RATES)[number]);
              return index < 0 ? m : m | (1n << BigInt(index));
            }, 0n),
            direction: s.direction === "input" ? SoundDirection.INPUT : SoundDirection.OUTPUT,
            channelsMin: s.channelsMin,
            channelsMax: s.channelsMax,
          })),
        );
        shared.setReady(true);
        if (config.timer) {
          pd.armTimer.compare = NEVER;
          pd.armTimer.control = TimerControl.ENABLE;
        }
        // Tell the clients the streams are there: a PD cannot spin on `ready`.
        for (const c of config.clients) pd.notify(c.channel);
      },

      notified(pd, channel) {
        const i = config.clients.findIndex((c) => c.channel === channel);
        if (config.timer && channel === config.timer.irq) {
          pd.deferredIrqAck(channel);
          sendPaced(pd);
        } else if (i < 0) pd.dbgPuts(`SND DRIVER|LOG: notification on unexpected channel ${channel}\n`);
        else serve(pd, i);
        // Answers the back-end gave, now or since the last event (a back-end that completes later
        // cannot wake the PD), go out now.
        flushNotifications(pd);
      },
    };
  });
}
