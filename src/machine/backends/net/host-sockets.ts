// The host's sockets and resolver as the network uses them, and their Node.js implementation.
//
// Behind an interface so the protocol code never touches Node's APIs (a browser or a test can supply
// others). The Node implementation runs every socket callback inside the emulator's event loop
// through the host event sink, and keeps the loop alive (an open source) while a socket, listener
// or lookup is open.

import { lookup } from "node:dns";
import { connect, createServer, type Socket } from "node:net";
import { parseIpv4 } from "./addresses.ts";
import type { OutsideAnswer } from "./dns.ts";

/** The emulator's event loop as a back-end sees it (the shape of the machine's HostEventSink). */
export interface HostEvents {
  post(event: () => void): void;
  /** Registers a source of future events; call the result when it closes. */
  openSource(): () => void;
}

/** What a host socket reports, always from inside the event loop. */
export interface HostSocketEvents {
  connected(): void;
  data(bytes: Uint8Array): void;
  /** The host peer finished sending (FIN). */
  end(): void;
  /** The write queue drained. */
  drain(): void;
  /** The socket is gone; `failed` when it ended with an error (refused, reset, unreachable). */
  closed(failed: boolean): void;
}

export interface HostSocket {
  /** Queues bytes (kept, not copied); false once the socket's queue is full. */
  write(bytes: Uint8Array): boolean;
  /** Bytes queued for the host peer. */
  readonly buffered: number;
  /** Half-closes: FIN after the queued bytes. */
  end(): void;
  /** Aborts: the host peer sees a reset. */
  destroy(): void;
  pause(): void;
  resume(): void;
  setEvents(events: HostSocketEvents): void;
}

export interface HostListener {
  readonly address: string;
  readonly port: number;
  close(): void;
}

export interface HostSockets {
  connect(address: string, port: number): HostSocket;
  /** Listens; `accepted` gets each connection paused (call resume() to start its data). */
  listen(address: string, port: number, accepted: (socket: HostSocket) => void): Promise<HostListener>;
  /** Resolves a name to IPv4 addresses with the host's resolver. */
  lookup(name: string, done: (answer: OutsideAnswer) => void): void;
}

class NodeHostSocket implements HostSocket {
  private events: HostSocketEvents | undefined;
  private failed = false;

  constructor(
    private readonly socket: Socket,
    private readonly host: HostEvents,
  ) {
    const closeSource = host.openSource();
    socket.on("connect", () => this.deliver((events) => events.connected()));
    socket.on("data", (chunk: Buffer) => this.deliver((events) => events.data(chunk)));
    socket.on("end", () => this.deliver((events) => events.end()));
    socket.on("drain", () => this.deliver((events) => events.drain()));
    // The error is reported through `close` (hadError); the listener keeps Node from throwing it.
    socket.on("error", () => {
      this.failed = true;
    });
    socket.on("close", (hadError: boolean) => {
      const failed = hadError || this.failed;
      this.deliver((events) => events.closed(failed));
      host.post(closeSource);
    });
  }

  write(bytes: Uint8Array): boolean {
    if (this.socket.destroyed || !this.socket.writable) return false;
    return this.socket.write(bytes);
  }

  get buffered(): number {
    return this.socket.destroyed ? 0 : this.socket.writableLength;
  }

  end(): void {
    if (!this.socket.destroyed) this.socket.end();
  }

  destroy(): void {
    // A reset rather than a FIN: the host peer must not take an aborted stream for a complete one.
    if (!this.socket.destroyed) this.socket.resetAndDestroy();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    if (!this.socket.destroyed) this.socket.resume();
  }

  setEvents(events: HostSocketEvents): void {
    this.events = events;
  }

  private deliver(call: (events: HostSocketEvents) => void): void {
    this.host.post(() => {
      if (this.events) call(this.events);
    });
  }
}

export function nodeHostSockets(host: HostEvents): HostSockets {
  return {
    connect(address, port) {
      // Half-open: the guest may go on sending after the host peer's FIN, and the other way round.
      return new NodeHostSocket(connect({ host: address, port, allowHalfOpen: true }), host);
    },

    listen(address, port, accepted) {
      return new Promise((resolve, reject) => {
        const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
          const wrapped = new NodeHostSocket(socket, host);
          host.post(() => accepted(wrapped));
        });
        let closeSource: (() => void) | undefined;
        server.once("error", reject);
        server.listen(port, address, () => {
          server.off("error", reject);
          server.on("error", () => {});
          closeSource = host.openSource();
          const bound = server.address();
          const boundPort = typeof bound === "object" && bound ? bound.port : port;
          resolve({
            address,
            port: boundPort,
            close() {
              server.close();
              if (closeSource) host.post(closeSource);
              closeSource = undefined;
            },
          });
        });
      });
    },

    lookup(name, done) {
      const closeSource = host.openSource();
      lookup(name, { family: 4, all: true }, (error, addresses) => {
        host.post(() => {
          closeSource();
          if (error) {
            const missing = error.code === "ENOTFOUND" || error.code === "ENODATA";
            return done({ error: missing ? "not-found" : "failure" });
          }
          const parsed = addresses.map((entry) => parseIpv4(entry.address)).filter((a) => a !== undefined);
          done({ addresses: parsed });
        });
      });
    },
  };
}
