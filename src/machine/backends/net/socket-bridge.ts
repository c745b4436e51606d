// Joins a TCP connection with the guest to a host socket, for outbound NAT and port forwards.
//
// Bytes flow both ways with flow control (the host socket pauses while the guest's side is full, and
// the window the guest sees shrinks while the host socket's queue is full); half-closes pass
// through, and a reset or failure on either side ends the other.

import type { HostSocket } from "./host-sockets.ts";
import type { TcpCloseReason, TcpConnection, TcpHandler } from "./tcp.ts";

/** "nat": the guest opened it and its SYN waits for the host to connect; "forward": the host did. */
export type BridgeKind = "nat" | "forward";

export class SocketBridge {
  /** The handler to put on the connection with the guest. */
  readonly handler: TcpHandler;
  private connection: TcpConnection | undefined;
  private hostPaused = false;
  private hostConnected: boolean;
  private guestClosed = false;

  constructor(socket: HostSocket, kind: BridgeKind) {
    this.hostConnected = kind === "forward";
    this.handler = {
      connected: () => {
        // A forwarded connection's host data waits until the guest accepted.
        if (kind === "forward") socket.resume();
      },
      data: (bytes) => {
        socket.write(bytes);
      },
      end: () => socket.end(),
      writable: () => {
        if (this.hostPaused) {
          this.hostPaused = false;
          socket.resume();
        }
      },
      closed: (reason: TcpCloseReason) => {
        this.guestClosed = true;
        // A clean close has already passed both FINs on; anything else tears the host side down.
        if (reason !== "normal") socket.destroy();
      },
      backlog: () => socket.buffered,
    };
    socket.setEvents({
      connected: () => {
        this.hostConnected = true;
        this.connection?.accept();
      },
      data: (bytes) => {
        const connection = this.connection;
        if (!connection || this.guestClosed) return;
        if (!connection.write(bytes) && !this.hostPaused) {
          this.hostPaused = true;
          socket.pause();
        }
      },
      end: () => this.connection?.end(),
      drain: () => this.connection?.windowOpened(),
      closed: (failed) => {
        const connection = this.connection;
        if (!connection || this.guestClosed) return;
        if (!this.hostConnected) connection.refuse();
        else if (failed) connection.abort();
        else connection.end();
      },
    });
  }

  attach(connection: TcpConnection): void {
    this.connection = connection;
  }
}
