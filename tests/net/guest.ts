// A scripted guest for the user network's tests: a manual clock, a host event queue, a station
// that sends frames and keeps what it receives, and a small guest-side TCP that checks the
// network's segments against the window it advertised.
import type { MachineClock } from "../../src/machine/clock.ts";
import {
  createUserNetwork,
  type HostEvents,
  type UserNetwork,
  type UserNetworkOptions,
} from "../../src/machine/backends/net/user-network.ts";
import { TCP, arpReply, decode, ethernet, icmpEcho, tcp, udp, type Decoded } from "./frames.ts";

export const GUEST_MAC = "52:54:00:12:34:56";
export const GUEST_IP = "10.0.2.15";
export const GATEWAY_MAC = "52:55:0a:00:02:02";

/** Virtual time that moves only when a test says so; timeouts fire in order. */
export class ManualClock implements MachineClock {
  private now = 0;
  private sequence = 0;
  private timeouts: { at: number; sequence: number; fire: () => void }[] = [];

  get nowNs(): number {
    return this.now;
  }

  at(atNs: number, fire: () => void): () => void {
    const timeout = { at: atNs, sequence: this.sequence++, fire };
    this.timeouts.push(timeout);
    return () => {
      this.timeouts = this.timeouts.filter((t) => t !== timeout);
    };
  }

  get pending(): number {
    return this.timeouts.length;
  }

  /** Moves time forward by `ns`, firing every timeout that falls due on the way. */
  advance(ns: number): void {
    const end = this.now + ns;
    for (;;) {
      const next = this.nextDue();
      if (!next || next.at > end) break;
      this.timeouts = this.timeouts.filter((t) => t !== next);
      this.now = Math.max(this.now, next.at);
      next.fire();
    }
    this.now = end;
  }

  /** Jumps to the next timeout and fires it; false when there is none. */
  step(): boolean {
    const next = this.nextDue();
    if (!next) return false;
    this.advance(next.at - this.now);
    return true;
  }

  private nextDue(): { at: number; sequence: number; fire: () => void } | undefined {
    let best: { at: number; sequence: number; fire: () => void } | undefined;
    for (const t of this.timeouts)
      if (!best || t.at < best.at || (t.at === best.at && t.sequence < best.sequence)) best = t;
    return best;
  }
}

/** Host events held until the test drains them (or run on the next turn of Node's loop). */
export class TestHost implements HostEvents {
  private readonly queue: (() => void)[] = [];
  openSources = 0;

  constructor(private readonly immediate = false) {}

  post(event: () => void): void {
    if (this.immediate) setImmediate(event);
    else this.queue.push(event);
  }

  openSource(): () => void {
    this.openSources++;
    let closed = false;
    return () => {
      if (!closed) this.openSources--;
      closed = true;
    };
  }

  drain(): void {
    let event: (() => void) | undefined;
    while ((event = this.queue.shift())) event();
  }
}

/** The guest's station: sends frames to the network and keeps the decoded frames it gets back. */
export class TestGuest {
  readonly received: Decoded[] = [];
  readonly net: UserNetwork;

  constructor(
    options: Partial<UserNetworkOptions> = {},
    readonly clock = new ManualClock(),
    readonly host = new TestHost(),
    readonly macAddress = GUEST_MAC,
    readonly ipAddress = GUEST_IP,
  ) {
    this.net = createUserNetwork({ clock, host, ...options });
    this.net.connect((frame) => this.received.push(decode(frame)));
  }

  send(frame: Uint8Array): void {
    this.net.transmit(frame);
  }

  sendIp(datagram: ArrayLike<number>, destinationMac = GATEWAY_MAC): void {
    this.send(ethernet(destinationMac, this.macAddress, 0x0800, datagram));
  }

  /** Frames received since the last call. */
  take(): Decoded[] {
    return this.received.splice(0);
  }

  /** Announces the guest's address, so the network knows its MAC. */
  announce(): void {
    this.send(arpReply(this.macAddress, this.ipAddress, GATEWAY_MAC, "10.0.2.2"));
  }

  ping(destination: string, id: number, sequence: number, data: ArrayLike<number>): void {
    this.sendIp(icmpEcho(this.ipAddress, destination, id, sequence, data));
  }

  udp(destination: string, sourcePort: number, destinationPort: number, payload: ArrayLike<number>): void {
    this.sendIp(udp(this.ipAddress, sourcePort, destination, destinationPort, payload));
  }
}

const encoder = new TextEncoder();

export interface GuestTcpOptions {
  destination: string;
  destinationPort: number;
  sourcePort?: number;
  isn?: number;
  /** The receive window the guest advertises (in bytes, before scaling). */
  window?: number;
  mss?: number;
  /** Offer window scaling with this shift. */
  windowScale?: number;
}

/**
 * The guest's side of one TCP connection, driven step by step by a test. It accepts only in-order
 * data, acknowledges cumulatively, and records any segment that overruns the window it advertised.
 */
export class GuestTcp {
  readonly sourcePort: number;
  seq: number;
  ack = 0;
  peerWindow = 0;
  peerMss = 0;
  peerScale: number | undefined;
  established = false;
  finReceived = false;
  reset = false;
  windowViolations = 0;
  private readonly chunks: Uint8Array[] = [];
  receivedLength = 0;
  /** Segments from the network that this connection saw (for assertions). */
  readonly segments: NonNullable<Decoded["tcp"]>[] = [];
  /** The right edge of the window advertised to the network. */
  rightEdge = 0;
  window: number;
  /** Segments for which this returns true are lost on the way to the guest. */
  drop: ((segment: NonNullable<Decoded["tcp"]>) => boolean) | undefined;
  /** Answer an out-of-order segment with a duplicate ACK at once (as Linux does). */
  acknowledgeOutOfOrder = false;
  private readonly outOfOrder = new Map<number, { payload: Uint8Array; fin: boolean }>();
  private readonly scale: number | undefined;

  constructor(
    readonly guest: TestGuest,
    readonly options: GuestTcpOptions,
  ) {
    this.sourcePort = options.sourcePort ?? 40000;
    this.seq = options.isn ?? 1000;
    this.window = options.window ?? 65535;
    this.scale = options.windowScale;
  }

  /**
   * The guest's side of a connection the network opens (a port forward): answers `syn` with SYN-ACK.
   * The network's ACK of it needs no processing; the connection counts as established at once.
   */
  static accept(guest: TestGuest, from: string, syn: NonNullable<Decoded["tcp"]>, isn = 7000): GuestTcp {
    const connection = new GuestTcp(guest, {
      destination: from,
      destinationPort: syn.sourcePort,
      sourcePort: syn.destinationPort,
      isn,
    });
    connection.ack = (syn.seq + 1) >>> 0;
    connection.peerMss = syn.mss ?? 536;
    connection.peerScale = syn.windowScale;
    connection.peerWindow = syn.window;
    connection.segments.push(syn);
    connection.segment(TCP.SYN | TCP.ACK, [], { mss: 1460 });
    connection.seq = (connection.seq + 1) >>> 0;
    connection.established = true;
    connection.rightEdge = (connection.ack + connection.window) >>> 0;
    return connection;
  }

  /** Sends the SYN and processes the answer; true when the handshake completed. */
  connect(): boolean {
    this.segment(TCP.SYN, [], { mss: this.options.mss ?? 1460, windowScale: this.scale });
    this.seq = (this.seq + 1) >>> 0;
    this.poll();
    return this.established;
  }

  /** Processes frames for this connection; acknowledges new data when `acknowledge` is set. */
  poll(acknowledge = true): void {
    let advanced = false;
    const rest: Decoded[] = [];
    for (const frame of this.guest.received.splice(0)) {
      const t = frame.tcp;
      if (!t || t.destinationPort !== this.sourcePort || t.sourcePort !== this.options.destinationPort) {
        rest.push(frame);
        continue;
      }
      if (this.drop?.(t)) continue;
      this.segments.push(t);
      if (t.flags & TCP.RST) {
        this.reset = true;
        continue;
      }
      if (t.flags & TCP.SYN && t.flags & TCP.ACK && !this.established) {
        this.ack = (t.seq + 1) >>> 0;
        this.peerMss = t.mss ?? 536;
        this.peerScale = t.windowScale;
        this.peerWindow = t.window;
        this.established = true;
        this.rightEdge = (this.ack + this.window) >>> 0;
        this.segment(TCP.ACK, []);
        continue;
      }
      if (!this.established) continue;
      this.peerWindow =
        t.window << (this.scale !== undefined && this.peerScale !== undefined ? this.peerScale : 0);
      const end = (t.seq + t.payload.length) >>> 0;
      if (t.payload.length > 0 && ((end - this.rightEdge) | 0) > 0) this.windowViolations++;
      if (this.acknowledgeOutOfOrder && t.payload.length > 0 && ((t.seq - this.ack) | 0) !== 0) {
        // Like Linux: keep data beyond a hole for later, and tell the sender about the hole at once.
        if (((t.seq - this.ack) | 0) > 0)
          this.outOfOrder.set(t.seq, { payload: t.payload.slice(), fin: !!(t.flags & TCP.FIN) });
        this.sendAck();
        continue;
      }
      let fin =
        (t.flags & TCP.FIN) !== 0 &&
        (t.seq + t.payload.length) >>> 0 === (this.ack + (t.seq === this.ack ? t.payload.length : 0)) >>> 0;
      if (t.seq === this.ack && t.payload.length > 0) {
        const fits = Math.min(t.payload.length, Math.max(0, (this.rightEdge - this.ack) | 0));
        this.accept(t.payload.slice(0, fits));
        advanced = true;
        if (fits < t.payload.length) continue;
        for (let next = this.outOfOrder.get(this.ack); next; next = this.outOfOrder.get(this.ack)) {
          this.outOfOrder.delete(this.ack);
          this.accept(next.payload);
          fin = next.fin;
        }
      }
      if (fin) {
        this.ack = (this.ack + 1) >>> 0;
        this.finReceived = true;
        advanced = true;
      }
    }
    this.guest.received.push(...rest);
    if (advanced && acknowledge) this.sendAck();
  }

  private accept(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.receivedLength += bytes.length;
    this.ack = (this.ack + bytes.length) >>> 0;
  }

  sendAck(): void {
    this.segment(TCP.ACK, []);
  }

  /** Sends data in one segment (the caller keeps within the network's window). */
  write(data: string | Uint8Array): void {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    this.segment(TCP.ACK | TCP.PSH, bytes);
    this.seq = (this.seq + bytes.length) >>> 0;
  }

  /** Sends a FIN. */
  close(): void {
    this.segment(TCP.FIN | TCP.ACK, []);
    this.seq = (this.seq + 1) >>> 0;
  }

  sendReset(): void {
    this.segment(TCP.RST | TCP.ACK, []);
  }

  /** A raw segment with this connection's addresses, at any sequence number. */
  raw(flags: number, seq: number, payload: ArrayLike<number>, window = this.windowField()): void {
    this.guest.sendIp(
      tcp(this.guest.ipAddress, this.options.destination, {
        sourcePort: this.sourcePort,
        destinationPort: this.options.destinationPort,
        seq,
        ack: this.ack,
        flags,
        window,
        payload,
      }),
    );
  }

  /** Everything received so far, as one array. */
  data(): Uint8Array {
    const out = new Uint8Array(this.receivedLength);
    let at = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }

  text(): string {
    return new TextDecoder().decode(this.data());
  }

  /** Acknowledges until the FIN arrives (moving the clock when nothing happens); false if it never does. */
  drain(limit = 100_000): boolean {
    for (let i = 0; i < limit && !this.finReceived && !this.reset; i++) {
      const before = this.receivedLength;
      this.poll();
      if (this.receivedLength === before && !this.finReceived && !this.guest.clock.step()) return false;
    }
    return this.finReceived;
  }

  private windowField(): number {
    const shift = this.scale !== undefined && this.peerScale !== undefined ? this.scale : 0;
    return Math.min(0xffff, this.window >>> shift);
  }

  segment(
    flags: number,
    payload: ArrayLike<number>,
    options: { mss?: number; windowScale?: number } = {},
  ): void {
    const syn = (flags & TCP.SYN) !== 0;
    if (!syn)
      this.rightEdge =
        (this.ack +
          (this.windowField() <<
            (this.scale !== undefined && this.peerScale !== undefined ? this.scale : 0))) >>>
        0;
    this.guest.sendIp(
      tcp(this.guest.ipAddress, this.options.destination, {
        sourcePort: this.sourcePort,
        destinationPort: this.options.destinationPort,
        seq: this.seq,
        ack: syn && !(flags & TCP.ACK) ? 0 : this.ack,
        flags,
        window: syn ? Math.min(this.window, 0xffff) : this.windowField(),
        mss: options.mss,
        windowScale: options.windowScale,
        payload,
      }),
    );
  }
}
