// One TCP connection between a virtual host and the guest: the RFC 793 state machine and its timers.
//
// With RFC 1122, 5681, 5961, 6298 and 7323: MSS and window-scale options, flow control both ways,
// retransmission on the machine clock, slow start and fast retransmit, out-of-order queueing. The
// network's side is always "local"; the guest is the "remote" end.

import type { MachineClock } from "../../clock.ts";
import { ByteQueue } from "./byte-queue.ts";
import { Deadline } from "./deadline.ts";
import {
  ACK,
  FIN,
  PSH,
  RST,
  SYN,
  seqAdd,
  seqDiff,
  seqGe,
  seqGt,
  seqLe,
  seqLt,
  type TcpOutgoing,
  type TcpSegment,
} from "./tcp-segment.ts";

export type TcpState =
  | "LISTEN"
  | "SYN_SENT"
  | "SYN_RCVD"
  | "ESTABLISHED"
  | "FIN_WAIT_1"
  | "FIN_WAIT_2"
  | "CLOSE_WAIT"
  | "CLOSING"
  | "LAST_ACK"
  | "TIME_WAIT"
  | "CLOSED";

/**
 * Why a connection ended: both sides closed ("normal"), the guest reset it, it went unanswered,
 * the guest refused our SYN ("refused"), or the local side aborted it.
 */
export type TcpCloseReason = "normal" | "reset" | "timeout" | "refused" | "aborted";

/** What sits on the network's end of a connection: an embedded service, a NAT socket, a forward. */
export interface TcpHandler {
  /** The handshake completed. */
  connected?(): void;
  /** In-order bytes from the guest (a fresh copy the handler may keep). */
  data(bytes: Uint8Array): void;
  /** The guest sent FIN: no more data will come. */
  end(): void;
  /** The send buffer drained below its low-water mark after a write() returned false. */
  writable?(): void;
  /** The connection is finished (called once); nothing more can be sent or received. */
  closed(reason: TcpCloseReason): void;
  /** Bytes received but not yet passed on (a host socket's queue): they shrink the advertised window. */
  backlog?(): number;
}

export interface TcpStats {
  connections: number;
  retransmissions: number;
  fastRetransmits: number;
  resetsSent: number;
  resetsReceived: number;
  timeouts: number;
  outOfOrder: number;
}

export function emptyTcpStats(): TcpStats {
  return {
    connections: 0,
    retransmissions: 0,
    fastRetransmits: 0,
    resetsSent: 0,
    resetsReceived: 0,
    timeouts: 0,
    outOfOrder: 0,
  };
}

export interface TcpEnvironment {
  readonly clock: MachineClock;
  readonly stats: TcpStats;
  /** Sends a segment to the guest. */
  send(segment: TcpOutgoing): void;
  /** The connection reached CLOSED: the network forgets it. */
  released(connection: TcpConnection): void;
}

/** MTU 1500 less IPv4 and TCP headers. */
export const LOCAL_MSS = 1460;
/** RFC 1122's default when the peer sends no MSS option. */
const DEFAULT_MSS = 536;
/** The most the network buffers from the guest: with scale 3 the window field covers it. */
const RECEIVE_BUFFER = 256 * 1024;
const LOCAL_WINDOW_SCALE = 3;
/** write() reports back-pressure above this many buffered bytes, writable() fires below the low mark. */
const SEND_HIGH_WATER = 512 * 1024;
const SEND_LOW_WATER = 128 * 1024;
const MS = 1_000_000;
const INITIAL_RTO_NS = 1000 * MS;
/** Linux's floor rather than RFC 6298's one second: the virtual link is fast and losses are rare. */
const MIN_RTO_NS = 200 * MS;
const MAX_RTO_NS = 60_000 * MS;
const DELAYED_ACK_NS = 40 * MS;
/** Twice a maximum segment lifetime of 30 s. */
const TIME_WAIT_NS = 60_000 * MS;
/** How long a closed (not half-closed) connection waits for the guest's FIN, as Linux's tcp_fin_timeout. */
const FIN_WAIT_2_NS = 60_000 * MS;
const MAX_SYN_RETRIES = 6;
const MAX_RETRIES = 12;
const INITIAL_CWND_SEGMENTS = 10;
/** Bounds the congestion window so it never grows without limit on a lossless link. */
const MAX_CWND = 16 * 1024 * 1024;

export interface TcpEndpoints {
  readonly localAddress: number;
  readonly localPort: number;
  readonly remoteAddress: number;
  readonly remotePort: number;
}

interface Queued {
  readonly seq: number;
  readonly data: Uint8Array;
  readonly fin: boolean;
}

export class TcpConnection {
  private currentState: TcpState;
  handler: TcpHandler | undefined;

  // Send side: sndUna is the oldest unacknowledged number, sndNxt the next to send, sndMax the highest
  // sent (sndNxt goes back to sndUna on a timeout; acknowledgements up to sndMax stay valid).
  private sndUna: number;
  private sndNxt: number;
  private sndMax: number;
  private sndWnd = 0;
  private maxSndWnd = 0;
  private sndWl1 = 0;
  private sndWl2 = 0;
  private sndShift = 0;
  private sndMss = DEFAULT_MSS;
  /** Data from sndUna on (acknowledged bytes are dropped from the front). */
  private readonly sendBuffer = new ByteQueue();
  private finQueued = false;
  /** The FIN's sequence number once it has been sent. */
  private finSeq: number | undefined;
  private wantWritable = false;

  // Receive side.
  private irs = 0;
  private rcvNxt = 0;
  /** The right edge of the window last advertised: it never moves left. */
  private rcvAdv = 0;
  private rcvShift = 0;
  private readonly outOfOrder: Queued[] = [];
  private outOfOrderBytes = 0;
  private unacknowledgedSegments = 0;
  private ackNow = false;

  // Congestion control and round-trip estimation.
  private cwnd = INITIAL_CWND_SEGMENTS * DEFAULT_MSS;
  private ssthresh = Number.MAX_SAFE_INTEGER;
  private duplicateAcks = 0;
  private inRecovery = false;
  private recover = 0;
  private srtt: number | undefined;
  private rttvar = 0;
  private rto = INITIAL_RTO_NS;
  private retries = 0;
  private timedSeq: number | undefined;
  private timedAt = 0;

  private readonly retransmitTimer: Deadline;
  private readonly delayedAckTimer: Deadline;
  private readonly persistTimer: Deadline;
  private readonly timeWaitTimer: Deadline;
  private readonly finWait2Timer: Deadline;
  /** close() rather than end(): nothing more will be read, so FIN_WAIT_2 need not last for ever. */
  private orphaned = false;
  private persistBackoff = 0;

  /** False while a passive open waits for accept() before answering the SYN (NAT waits for the host). */
  private accepted: boolean;
  /** Inside input(): handler calls queue their output until the segment is fully processed. */
  private busy = false;
  private handlerNotified = false;

  private constructor(
    private readonly env: TcpEnvironment,
    readonly endpoints: TcpEndpoints,
    private readonly iss: number,
    state: TcpState,
    deferAccept: boolean,
  ) {
    this.currentState = state;
    this.sndUna = iss;
    this.sndNxt = iss;
    this.sndMax = iss;
    this.accepted = !deferAccept;
    const clock = env.clock;
    this.retransmitTimer = new Deadline(clock, () => this.retransmitTimeout());
    this.delayedAckTimer = new Deadline(clock, () => {
      if (this.unacknowledgedSegments > 0) this.sendAck();
    });
    this.persistTimer = new Deadline(clock, () => this.probeWindow());
    this.timeWaitTimer = new Deadline(clock, () => this.release("normal"));
    this.finWait2Timer = new Deadline(clock, () => this.release("timeout"));
    env.stats.connections++;
  }

  /** A connection that takes the guest's SYN (fed next through input()). */
  static listen(
    env: TcpEnvironment,
    endpoints: TcpEndpoints,
    iss: number,
    options: { deferAccept?: boolean } = {},
  ): TcpConnection {
    return new TcpConnection(env, endpoints, iss, "LISTEN", options.deferAccept ?? false);
  }

  /** Opens a connection to the guest: sends the SYN now. */
  static open(env: TcpEnvironment, endpoints: TcpEndpoints, iss: number, handler: TcpHandler): TcpConnection {
    const connection = new TcpConnection(env, endpoints, iss, "SYN_SENT", false);
    connection.handler = handler;
    connection.rcvShift = LOCAL_WINDOW_SCALE;
    connection.sndNxt = seqAdd(iss, 1);
    connection.sndMax = connection.sndNxt;
    connection.sendSyn();
    return connection;
  }

  get state(): TcpState {
    return this.currentState;
  }

  /** Bytes written and not yet acknowledged by the guest. */
  get buffered(): number {
    return this.sendBuffer.length;
  }

  /** Queues `bytes` (kept, not copied) for the guest; false once the buffer is above its high mark. */
  write(bytes: Uint8Array): boolean {
    if (this.finQueued || !this.canQueueData()) return false;
    this.sendBuffer.push(bytes);
    this.kick();
    if (this.sendBuffer.length >= SEND_HIGH_WATER) {
      this.wantWritable = true;
      return false;
    }
    return true;
  }

  /** Closes the local side once the queued data is sent (FIN). */
  end(): void {
    if (this.finQueued) return;
    switch (this.currentState) {
      case "LISTEN":
      case "SYN_SENT":
        return this.release("aborted");
      case "SYN_RCVD":
        // The FIN follows once the handshake completes (RFC 793, CLOSE in SYN-RECEIVED).
        this.finQueued = true;
        return;
      case "ESTABLISHED":
        this.finQueued = true;
        this.currentState = "FIN_WAIT_1";
        break;
      case "CLOSE_WAIT":
        this.finQueued = true;
        this.currentState = "LAST_ACK";
        break;
      default:
        return;
    }
    this.kick();
  }

  /**
   * Closes both directions: FIN after the queued data, and the guest's data is no longer wanted, so
   * a guest that never sends its FIN does not keep the connection in FIN_WAIT_2 for ever.
   */
  close(): void {
    this.orphaned = true;
    this.end();
    if (this.currentState === "FIN_WAIT_2") this.finWait2Timer.ensure(FIN_WAIT_2_NS);
  }

  /** Resets the connection: RST to the guest, then CLOSED. */
  abort(): void {
    const state = this.currentState;
    if (state === "CLOSED") return;
    if (state === "SYN_RCVD" && !this.accepted) this.refuseSyn();
    // Before the guest answered our SYN, or after both FINs, there is nothing to reset.
    else if (state !== "LISTEN" && state !== "SYN_SENT" && state !== "TIME_WAIT") this.sendReset(this.sndNxt);
    this.release("aborted");
  }

  /** Answers a deferred SYN: the handshake goes on. */
  accept(): void {
    if (this.currentState !== "SYN_RCVD" || this.accepted) return;
    this.accepted = true;
    this.sendSynAck();
  }

  /** Refuses a deferred SYN with a reset, as a closed port would. */
  refuse(): void {
    if (this.currentState === "CLOSED") return;
    if (this.currentState === "SYN_RCVD" && !this.accepted) {
      this.refuseSyn();
      this.release("refused");
    } else {
      this.abort();
    }
  }

  /** The handler's backlog shrank: tell the guest when the window opened enough to matter. */
  windowOpened(): void {
    if (!this.canReceiveData() || !this.windowWorthAdvertising()) return;
    // Inside input() the segments that follow carry the new window anyway.
    if (this.busy) this.ackNow = true;
    else this.sendAck();
  }

  /** Forgets the connection without a word to the guest (the network is shutting down). */
  destroy(): void {
    this.release("aborted");
  }

  /** Processes one segment from the guest. */
  input(segment: TcpSegment): void {
    if (this.currentState === "CLOSED") return;
    this.busy = true;
    try {
      this.process(segment);
    } finally {
      this.busy = false;
    }
    if (this.isClosed()) return;
    this.output(false);
    this.acknowledge();
  }

  /** True when a SYN may start a new connection in place of this one (RFC 1122 4.2.2.13). */
  acceptsNewSyn(segment: TcpSegment): boolean {
    return this.currentState === "TIME_WAIT" && seqGt(segment.seq, this.rcvNxt);
  }

  // --- segment arrival (RFC 793 3.9) ---

  private process(segment: TcpSegment): void {
    switch (this.currentState) {
      case "LISTEN":
        return this.processListen(segment);
      case "SYN_SENT":
        return this.processSynSent(segment);
      default:
        return this.processSynchronized(segment);
    }
  }

  private processListen(segment: TcpSegment): void {
    const { flags } = segment;
    if (flags & RST) return this.release("reset");
    if (flags & ACK) {
      this.sendReset(segment.ack, 0, RST);
      return this.release("aborted");
    }
    if (!(flags & SYN)) return this.release("aborted");
    this.irs = segment.seq;
    this.rcvNxt = seqAdd(segment.seq, 1);
    this.rcvAdv = this.rcvNxt;
    this.takeSynOptions(segment);
    this.sndWnd = segment.window; // never scaled in a SYN
    this.maxSndWnd = this.sndWnd;
    this.sndWl1 = segment.seq;
    this.sndWl2 = this.iss;
    this.sndNxt = seqAdd(this.iss, 1);
    this.sndMax = this.sndNxt;
    this.currentState = "SYN_RCVD";
    if (this.accepted) this.sendSynAck();
  }

  private processSynSent(segment: TcpSegment): void {
    const { flags } = segment;
    const ackAcceptable =
      (flags & ACK) !== 0 && seqGt(segment.ack, this.iss) && seqLe(segment.ack, this.sndMax);
    if (flags & ACK && !ackAcceptable) {
      if (!(flags & RST)) this.sendReset(segment.ack, 0, RST);
      return;
    }
    if (flags & RST) {
      if (ackAcceptable) {
        this.env.stats.resetsReceived++;
        this.release("refused");
      }
      return;
    }
    if (!(flags & SYN)) return;
    this.irs = segment.seq;
    this.rcvNxt = seqAdd(segment.seq, 1);
    this.rcvAdv = this.rcvNxt;
    this.takeSynOptions(segment);
    if (!ackAcceptable) {
      // Simultaneous open: both sides sent SYN.
      this.currentState = "SYN_RCVD";
      this.sendSynAck();
      return;
    }
    this.sndUna = segment.ack;
    this.sndWnd = segment.window;
    this.maxSndWnd = this.sndWnd;
    this.sndWl1 = segment.seq;
    this.sndWl2 = segment.ack;
    this.sampleRtt(segment.ack);
    this.retries = 0;
    this.retransmitTimer.clear();
    this.currentState = "ESTABLISHED";
    this.ackNow = true;
    this.handler?.connected?.();
    if (this.finQueued && this.currentState === "ESTABLISHED") this.currentState = "FIN_WAIT_1";
  }

  private processSynchronized(segment: TcpSegment): void {
    const { flags } = segment;
    if (this.currentState === "SYN_RCVD" && !this.accepted) {
      // Nothing was answered yet; only the guest giving up matters.
      if (flags & RST && segment.seq === this.rcvNxt) this.release("reset");
      return;
    }
    // A retransmitted SYN while ours is unanswered: repeat the SYN-ACK.
    if (this.currentState === "SYN_RCVD" && flags & SYN && !(flags & ACK) && segment.seq === this.irs) {
      if (this.accepted) this.sendSynAck();
      return;
    }
    let seq = segment.seq;
    let payload = segment.payload;
    let fin = (flags & FIN) !== 0;
    const window = Math.max(0, seqDiff(this.rcvAdv, this.rcvNxt));
    const length = payload.length + (flags & SYN ? 1 : 0) + (fin ? 1 : 0);
    if (!this.acceptable(seq, length, window)) {
      // With a zero window the ACK, RST and FIN at exactly rcvNxt still count (RFC 793, p. 69).
      if (!(window === 0 && seq === this.rcvNxt)) {
        if (!(flags & RST)) {
          if (this.currentState === "TIME_WAIT" && fin)
            this.timeWaitTimer.set(this.env.clock.nowNs + TIME_WAIT_NS);
          this.ackNow = true;
        }
        return;
      }
      payload = payload.subarray(0, 0);
    }
    if (flags & RST) {
      // RFC 5961 3.2: only an exact match resets; a merely in-window RST gets a challenge ACK.
      if (seq === this.rcvNxt) {
        this.env.stats.resetsReceived++;
        return this.release("reset");
      }
      this.ackNow = true;
      return;
    }
    if (flags & SYN) {
      // RFC 5961 4.2: a SYN on a synchronized connection gets a challenge ACK, never a reset.
      this.ackNow = true;
      return;
    }
    if (!(flags & ACK)) return;

    // Trim what was received before and what lies beyond the window.
    if (seqLt(seq, this.rcvNxt)) {
      const old = seqDiff(this.rcvNxt, seq);
      if (old >= payload.length) {
        if (old > payload.length) fin = false;
        payload = payload.subarray(payload.length);
      } else {
        payload = payload.subarray(old);
      }
      seq = this.rcvNxt;
    }
    const room = window - seqDiff(seq, this.rcvNxt);
    if (payload.length > room) {
      payload = payload.subarray(0, Math.max(0, room));
      fin = false;
    }

    if (this.currentState === "SYN_RCVD") {
      if (seqLe(segment.ack, this.iss) || seqGt(segment.ack, this.sndMax)) {
        this.sendReset(segment.ack, 0, RST);
        return;
      }
      this.sndUna = seqAdd(this.iss, 1);
      this.sampleRtt(this.sndUna);
      this.retries = 0;
      this.retransmitTimer.clear();
      this.currentState = this.finQueued ? "FIN_WAIT_1" : "ESTABLISHED";
      this.sndWnd = segment.window << this.sndShift;
      this.maxSndWnd = Math.max(this.maxSndWnd, this.sndWnd);
      this.sndWl1 = segment.seq;
      this.sndWl2 = segment.ack;
      this.handler?.connected?.();
      if (this.isClosed()) return;
    }

    this.processAck(segment, payload.length === 0 && !fin);
    if (this.isClosed()) return;
    this.processData(seq, payload, fin);
  }

  private acceptable(seq: number, length: number, window: number): boolean {
    const offset = seqDiff(seq, this.rcvNxt);
    if (length === 0) return window === 0 ? offset === 0 : offset >= 0 && offset < window;
    if (window === 0) return false;
    const lastOffset = offset + length - 1;
    return (offset >= 0 && offset < window) || (lastOffset >= 0 && lastOffset < window);
  }

  private processAck(segment: TcpSegment, pure: boolean): void {
    const ack = segment.ack;
    if (seqGt(ack, this.sndMax)) {
      // An acknowledgement of something never sent.
      this.ackNow = true;
      return;
    }
    const windowBefore = this.sndWnd;
    if (seqLt(this.sndWl1, segment.seq) || (this.sndWl1 === segment.seq && seqLe(this.sndWl2, ack))) {
      this.sndWnd = segment.window << this.sndShift;
      this.maxSndWnd = Math.max(this.maxSndWnd, this.sndWnd);
      this.sndWl1 = segment.seq;
      this.sndWl2 = ack;
      if (this.sndWnd > 0) {
        this.persistTimer.clear();
        this.persistBackoff = 0;
      }
    }
    if (seqGt(ack, this.sndUna)) {
      this.newAck(ack);
    } else if (ack === this.sndUna && pure && this.sndWnd === windowBefore && this.sndMax !== this.sndUna) {
      this.duplicateAck();
    }
    const finAcked = this.finAcked();
    switch (this.currentState) {
      case "FIN_WAIT_1":
        if (finAcked) {
          this.currentState = "FIN_WAIT_2";
          if (this.orphaned) this.finWait2Timer.ensure(FIN_WAIT_2_NS);
        }
        break;
      case "CLOSING":
        if (finAcked) this.enterTimeWait();
        break;
      case "LAST_ACK":
        if (finAcked) this.release("normal");
        break;
    }
  }

  private finAcked(): boolean {
    return this.finSeq !== undefined && seqGt(this.sndUna, this.finSeq);
  }

  private newAck(ack: number): void {
    const acked = seqDiff(ack, this.sndUna);
    const data = Math.min(acked, this.sendBuffer.length);
    this.sendBuffer.drop(data);
    this.sndUna = ack;
    if (seqLt(this.sndNxt, this.sndUna)) this.sndNxt = this.sndUna;
    this.sampleRtt(ack);
    this.retries = 0;
    this.duplicateAcks = 0;
    if (this.inRecovery) {
      if (seqGe(ack, this.recover)) {
        this.inRecovery = false;
        this.cwnd = this.ssthresh;
      } else {
        // A partial acknowledgement (RFC 6582): the next hole is lost too.
        this.retransmitFirst();
      }
    } else if (this.cwnd < this.ssthresh) {
      this.cwnd = Math.min(MAX_CWND, this.cwnd + Math.min(data, this.sndMss));
    } else {
      this.cwnd = Math.min(
        MAX_CWND,
        this.cwnd + Math.max(1, Math.floor((this.sndMss * this.sndMss) / this.cwnd)),
      );
    }
    if (this.sndUna === this.sndMax) this.retransmitTimer.clear();
    else this.retransmitTimer.set(this.env.clock.nowNs + this.rto);
    if (this.wantWritable && this.sendBuffer.length <= SEND_LOW_WATER) {
      this.wantWritable = false;
      this.handler?.writable?.();
    }
  }

  private duplicateAck(): void {
    this.duplicateAcks++;
    if (this.duplicateAcks !== 3 || this.inRecovery) return;
    this.env.stats.fastRetransmits++;
    this.ssthresh = Math.max(Math.floor(seqDiff(this.sndMax, this.sndUna) / 2), 2 * this.sndMss);
    this.cwnd = this.ssthresh;
    this.inRecovery = true;
    this.recover = this.sndMax;
    this.retransmitFirst();
  }

  private processData(seq: number, payload: Uint8Array, fin: boolean): void {
    if (!this.canReceiveData()) {
      // After the guest's FIN nothing more can arrive; a repeated FIN is answered.
      if (fin || payload.length > 0) this.ackNow = true;
      return;
    }
    if (payload.length === 0 && !fin) return;
    if (seq !== this.rcvNxt) {
      this.queueOutOfOrder(seq, payload, fin);
      this.ackNow = true; // a duplicate ACK tells the guest about the hole at once
      return;
    }
    const filledHole = this.outOfOrder.length > 0;
    if (payload.length > 0) {
      this.rcvNxt = seqAdd(this.rcvNxt, payload.length);
      this.unacknowledgedSegments++;
      this.handler?.data(payload.slice());
      if (this.isClosed()) return;
    }
    if (!fin) fin = this.drainOutOfOrder();
    if (this.isClosed()) return;
    if (filledHole) this.ackNow = true;
    if (fin) this.receiveFin();
  }

  private queueOutOfOrder(seq: number, payload: Uint8Array, fin: boolean): void {
    this.env.stats.outOfOrder++;
    let index = this.outOfOrder.findIndex((queued) => seqGe(queued.seq, seq));
    if (index < 0) index = this.outOfOrder.length;
    const same = this.outOfOrder[index];
    if (same && same.seq === seq && same.data.length >= payload.length) return;
    if (same && same.seq === seq) {
      this.outOfOrderBytes -= same.data.length;
      this.outOfOrder.splice(index, 1);
    }
    this.outOfOrder.splice(index, 0, { seq, data: payload.slice(), fin });
    this.outOfOrderBytes += payload.length;
  }

  /** Delivers queued segments that now follow on; true when they end with the guest's FIN. */
  private drainOutOfOrder(): boolean {
    while (this.outOfOrder.length > 0) {
      const queued = this.outOfOrder[0]!;
      if (seqGt(queued.seq, this.rcvNxt)) return false;
      this.outOfOrder.shift();
      this.outOfOrderBytes -= queued.data.length;
      const end = seqAdd(queued.seq, queued.data.length);
      const fresh = seqDiff(end, this.rcvNxt);
      if (fresh > 0) {
        this.rcvNxt = end;
        this.unacknowledgedSegments++;
        this.handler?.data(queued.data.subarray(queued.data.length - fresh));
        if (this.isClosed()) return false;
      }
      if (queued.fin && end === this.rcvNxt) return true;
    }
    return false;
  }

  private receiveFin(): void {
    this.rcvNxt = seqAdd(this.rcvNxt, 1);
    this.ackNow = true;
    this.outOfOrder.length = 0;
    this.outOfOrderBytes = 0;
    switch (this.currentState) {
      case "ESTABLISHED":
        this.currentState = "CLOSE_WAIT";
        break;
      case "FIN_WAIT_1":
        // Our FIN not yet acknowledged: both sides are closing at once.
        this.currentState = this.finAcked() ? "TIME_WAIT" : "CLOSING";
        break;
      case "FIN_WAIT_2":
        this.currentState = "TIME_WAIT";
        break;
    }
    this.handler?.end();
    if (this.currentState === "TIME_WAIT") this.enterTimeWait();
  }

  private enterTimeWait(): void {
    this.currentState = "TIME_WAIT";
    this.finWait2Timer.dispose();
    this.retransmitTimer.clear();
    this.persistTimer.clear();
    this.timeWaitTimer.set(this.env.clock.nowNs + TIME_WAIT_NS);
    this.notifyClosed("normal");
  }

  // --- sending ---

  /**
   * Sends what the windows allow; `force` sends one segment even into a closed window (a probe),
   * `single` stops after one segment (a retransmission of the first unacknowledged one).
   */
  private output(force: boolean, single = false): void {
    if (!this.synchronized() || this.currentState === "TIME_WAIT") return;
    for (;;) {
      const offset = seqDiff(this.sndNxt, this.sndUna);
      const unsent = this.sendBuffer.length - offset;
      if (unsent > 0) {
        const usable = Math.min(this.sndWnd, this.cwnd) - offset;
        let length = Math.min(unsent, this.sndMss, usable);
        if (length <= 0) {
          if (!force) break;
          length = Math.min(unsent, this.sndMss);
        } else if (!force && length < this.sndMss && length < unsent && usable < this.maxSndWnd / 2) {
          // Sender-side silly window avoidance (RFC 1122 4.2.3.4): wait for a useful window.
          break;
        }
        force = false;
        const fin = this.finQueued && length === unsent;
        const flags = ACK | (length === unsent ? PSH : 0) | (fin ? FIN : 0);
        const retransmission = seqLt(this.sndNxt, this.sndMax);
        if (retransmission) this.env.stats.retransmissions++;
        else if (this.timedSeq === undefined) {
          this.timedSeq = seqAdd(this.sndNxt, length);
          this.timedAt = this.env.clock.nowNs;
        }
        this.sendSegment(this.sndNxt, flags, this.sendBuffer.read(offset, length));
        if (fin) this.finSeq = seqAdd(this.sndNxt, length);
        this.sndNxt = seqAdd(this.sndNxt, length + (fin ? 1 : 0));
        if (seqGt(this.sndNxt, this.sndMax)) this.sndMax = this.sndNxt;
        if (single) break;
        continue;
      }
      // The FIN goes out once, and again only when going back to resend it.
      if (unsent === 0 && this.finQueued && (this.finSeq === undefined || this.sndNxt === this.finSeq)) {
        if (seqLt(this.sndNxt, this.sndMax)) this.env.stats.retransmissions++;
        this.sendSegment(this.sndNxt, FIN | ACK, EMPTY);
        this.finSeq = this.sndNxt;
        this.sndNxt = seqAdd(this.sndNxt, 1);
        if (seqGt(this.sndNxt, this.sndMax)) this.sndMax = this.sndNxt;
      }
      break;
    }
    if (this.sndUna !== this.sndMax) this.retransmitTimer.ensure(this.rto);
    const unsent = this.sendBuffer.length - seqDiff(this.sndNxt, this.sndUna);
    if (unsent > 0 && this.sndWnd === 0 && this.sndUna === this.sndMax)
      this.persistTimer.ensure(this.persistDelay());
  }

  /** After processing a segment: acknowledge now, or soon (every second segment at the latest). */
  private acknowledge(): void {
    if (this.ackNow || this.unacknowledgedSegments >= 2) this.sendAck();
    else if (this.unacknowledgedSegments > 0) this.delayedAckTimer.ensure(DELAYED_ACK_NS);
  }

  private kick(): void {
    if (this.busy || !this.synchronized()) return;
    this.output(false);
  }

  private retransmitFirst(): void {
    const saved = this.sndNxt;
    this.sndNxt = this.sndUna;
    this.output(true, true);
    if (seqGt(saved, this.sndNxt)) this.sndNxt = saved;
  }

  private retransmitTimeout(): void {
    if (this.currentState === "CLOSED" || this.sndUna === this.sndMax) return;
    this.retries++;
    const limit = this.synchronized() ? MAX_RETRIES : MAX_SYN_RETRIES;
    if (this.retries > limit) {
      this.env.stats.timeouts++;
      if (this.currentState !== "SYN_SENT") this.sendReset(this.sndNxt);
      return this.release("timeout");
    }
    this.rto = Math.min(this.rto * 2, MAX_RTO_NS);
    this.timedSeq = undefined; // Karn: never time a retransmitted segment
    if (this.currentState === "SYN_SENT" || this.currentState === "SYN_RCVD") {
      this.env.stats.retransmissions++;
      if (this.currentState === "SYN_SENT") this.sendSyn();
      else this.sendSynAck();
    } else {
      this.ssthresh = Math.max(Math.floor(seqDiff(this.sndMax, this.sndUna) / 2), 2 * this.sndMss);
      this.cwnd = this.sndMss;
      this.inRecovery = false;
      this.duplicateAcks = 0;
      this.sndNxt = this.sndUna;
      this.output(true);
    }
    this.retransmitTimer.set(this.env.clock.nowNs + this.rto);
  }

  /** The guest's window is zero: ask for it again with an old sequence number (a bare ACK it answers). */
  private probeWindow(): void {
    if (!this.synchronized() || this.sndWnd > 0) return;
    this.sendSegment(seqAdd(this.sndUna, -1), ACK, EMPTY);
    this.persistBackoff = Math.min(this.persistBackoff + 1, 8);
    this.persistTimer.set(this.env.clock.nowNs + this.persistDelay());
  }

  private persistDelay(): number {
    return Math.min(this.rto * 2 ** this.persistBackoff, MAX_RTO_NS);
  }

  private sampleRtt(ack: number): void {
    if (this.timedSeq === undefined || seqLt(ack, this.timedSeq)) return;
    const sample = Math.max(1, this.env.clock.nowNs - this.timedAt);
    this.timedSeq = undefined;
    // RFC 6298 2.2-2.3.
    if (this.srtt === undefined) {
      this.srtt = sample;
      this.rttvar = sample / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - sample);
      this.srtt = 0.875 * this.srtt + 0.125 * sample;
    }
    this.rto = Math.min(
      MAX_RTO_NS,
      Math.max(MIN_RTO_NS, Math.round(this.srtt + Math.max(MS, 4 * this.rttvar))),
    );
  }

  private sendSyn(): void {
    if (this.timedSeq === undefined && this.retries === 0) {
      this.timedSeq = seqAdd(this.iss, 1);
      this.timedAt = this.env.clock.nowNs;
    }
    this.env.send({
      seq: this.iss,
      ack: 0,
      flags: SYN,
      window: Math.min(RECEIVE_BUFFER, 0xffff),
      mss: LOCAL_MSS,
      windowScale: LOCAL_WINDOW_SCALE,
      payload: EMPTY,
    });
    this.rcvAdv = seqAdd(this.rcvNxt, Math.min(RECEIVE_BUFFER, 0xffff));
    this.retransmitTimer.ensure(this.rto);
  }

  private sendSynAck(): void {
    if (this.timedSeq === undefined && this.retries === 0) {
      this.timedSeq = seqAdd(this.iss, 1);
      this.timedAt = this.env.clock.nowNs;
    }
    const window = Math.min(RECEIVE_BUFFER, 0xffff);
    this.env.send({
      seq: this.iss,
      ack: this.rcvNxt,
      flags: SYN | ACK,
      window,
      mss: LOCAL_MSS,
      // Offered only when the guest offered it (RFC 7323 1.3).
      windowScale: this.rcvShift > 0 ? this.rcvShift : undefined,
      payload: EMPTY,
    });
    this.rcvAdv = seqAdd(this.rcvNxt, window);
    this.retransmitTimer.ensure(this.rto);
  }

  private takeSynOptions(segment: TcpSegment): void {
    this.sndMss = Math.max(64, Math.min(segment.mss ?? DEFAULT_MSS, LOCAL_MSS));
    this.cwnd = INITIAL_CWND_SEGMENTS * this.sndMss;
    if (segment.windowScale !== undefined) {
      this.sndShift = Math.min(segment.windowScale, 14);
      this.rcvShift = LOCAL_WINDOW_SCALE;
    } else {
      // Scaling needs both sides: without the guest's option neither side scales.
      this.sndShift = 0;
      this.rcvShift = 0;
    }
  }

  private sendAck(): void {
    this.sendSegment(this.sndNxt, ACK, EMPTY);
  }

  private sendSegment(seq: number, flags: number, payload: Uint8Array): void {
    this.env.send({ seq, ack: this.rcvNxt, flags, window: this.advertiseWindow(), payload });
    this.unacknowledgedSegments = 0;
    this.ackNow = false;
    this.delayedAckTimer.clear();
  }

  /** A reset; with `ack` set it acknowledges `ack` too. */
  private sendReset(seq: number, ack = this.rcvNxt, flags = RST | ACK): void {
    this.env.stats.resetsSent++;
    this.env.send({ seq, ack: flags & ACK ? ack : 0, flags, window: 0, payload: EMPTY });
  }

  /** The answer a closed port gives a SYN. */
  private refuseSyn(): void {
    this.sendReset(0, this.rcvNxt, RST | ACK);
  }

  /** The window field for the next segment; moves the advertised right edge (never to the left). */
  private advertiseWindow(): number {
    const edge = Math.max(0, seqDiff(this.rcvAdv, this.rcvNxt));
    const space = this.receiveSpace();
    let window = space - edge >= this.updateThreshold() ? space : edge;
    const limit = 0xffff * 2 ** this.rcvShift;
    window = Math.min(window, limit);
    const field = Math.min(0xffff, Math.ceil(window / 2 ** this.rcvShift));
    const advertised = field * 2 ** this.rcvShift;
    if (seqGt(seqAdd(this.rcvNxt, advertised), this.rcvAdv)) this.rcvAdv = seqAdd(this.rcvNxt, advertised);
    return field;
  }

  private windowWorthAdvertising(): boolean {
    const edge = Math.max(0, seqDiff(this.rcvAdv, this.rcvNxt));
    return this.receiveSpace() - edge >= this.updateThreshold();
  }

  private receiveSpace(): number {
    const backlog = this.handler?.backlog?.() ?? 0;
    return Math.max(0, RECEIVE_BUFFER - backlog - this.outOfOrderBytes);
  }

  /** Receiver-side silly window avoidance (RFC 1122 4.2.3.3): open by a segment or half the buffer. */
  private updateThreshold(): number {
    return Math.min(RECEIVE_BUFFER / 2, this.sndMss);
  }

  // --- state helpers ---

  private synchronized(): boolean {
    const state = this.currentState;
    return state !== "LISTEN" && state !== "SYN_SENT" && state !== "SYN_RCVD" && state !== "CLOSED";
  }

  private canQueueData(): boolean {
    const state = this.currentState;
    return (
      state === "LISTEN" ||
      state === "SYN_SENT" ||
      state === "SYN_RCVD" ||
      state === "ESTABLISHED" ||
      state === "CLOSE_WAIT"
    );
  }

  private canReceiveData(): boolean {
    const state = this.currentState;
    return state === "ESTABLISHED" || state === "FIN_WAIT_1" || state === "FIN_WAIT_2";
  }

  private isClosed(): boolean {
    return this.currentState === "CLOSED";
  }

  private notifyClosed(reason: TcpCloseReason): void {
    if (this.handlerNotified) return;
    this.handlerNotified = true;
    this.handler?.closed(reason);
  }

  private release(reason: TcpCloseReason): void {
    if (this.currentState === "CLOSED") return;
    this.currentState = "CLOSED";
    this.retransmitTimer.dispose();
    this.delayedAckTimer.dispose();
    this.persistTimer.dispose();
    this.timeWaitTimer.dispose();
    this.finWait2Timer.dispose();
    this.env.released(this);
    this.notifyClosed(reason);
  }
}

const EMPTY = new Uint8Array(0);
