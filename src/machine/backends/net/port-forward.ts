// Host-to-guest port forwards (QEMU's hostfwd): host listeners whose connections go to a guest port.
//
// Each accepted connection becomes a TCP connection from the gateway, 10.0.2.2, to the guest.

import { FIRST_GUEST, formatIpv4, inNetwork, parseIpv4, type Ipv4 } from "./addresses.ts";
import type { HostListener, HostSocket, HostSockets } from "./host-sockets.ts";

export interface PortForwardOptions {
  /** The host port to listen on; 0 picks a free one (see UserNetwork.ready). */
  readonly hostPort: number;
  readonly guestPort: number;
  /** Default 127.0.0.1: only this machine can connect. */
  readonly hostAddress?: string;
  /** Default 10.0.2.15, the first DHCP address, as in QEMU. */
  readonly guestAddress?: string;
}

export interface BoundForward {
  readonly hostAddress: string;
  readonly hostPort: number;
  readonly guestAddress: string;
  readonly guestPort: number;
}

interface Forward {
  readonly hostAddress: string;
  readonly hostPort: number;
  readonly guestAddress: Ipv4;
  readonly guestPort: number;
}

function validPort(port: number, allowZero: boolean): boolean {
  return Number.isInteger(port) && port >= (allowZero ? 0 : 1) && port <= 65535;
}

/** Checks a forward's fields and fills in the defaults; throws with what to fix. */
function resolveForward(options: PortForwardOptions): Forward {
  const describe = JSON.stringify(options);
  if (!validPort(options.hostPort, true))
    throw new Error(`port forward ${describe}: hostPort must be 0-65535`);
  if (!validPort(options.guestPort, false))
    throw new Error(`port forward ${describe}: guestPort must be 1-65535`);
  const guestText = options.guestAddress ?? formatIpv4(FIRST_GUEST);
  const guestAddress = parseIpv4(guestText);
  if (guestAddress === undefined || !inNetwork(guestAddress)) {
    throw new Error(`port forward ${describe}: guestAddress must be an address in 10.0.2.0/24`);
  }
  return {
    hostAddress: options.hostAddress ?? "127.0.0.1",
    hostPort: options.hostPort,
    guestAddress,
    guestPort: options.guestPort,
  };
}

/**
 * Parses the command line's form `tcp:HOSTPORT:GUESTPORT` (or `tcp:HOSTADDRESS:HOSTPORT:GUESTPORT`).
 * Throws with the expected form when `text` does not match.
 */
export function parsePortForward(text: string): PortForwardOptions {
  const short = /^tcp:(\d{1,5}):(\d{1,5})$/.exec(text);
  if (short) return { hostPort: Number(short[1]), guestPort: Number(short[2]) };
  const long = /^tcp:([0-9.]+):(\d{1,5}):(\d{1,5})$/.exec(text);
  if (long && parseIpv4(long[1]!) !== undefined) {
    return { hostAddress: long[1]!, hostPort: Number(long[2]), guestPort: Number(long[3]) };
  }
  throw new Error(
    `not a port forward: ${JSON.stringify(text)} (expected tcp:HOSTPORT:GUESTPORT, e.g. tcp:8080:80)`,
  );
}

export class PortForwarder {
  private readonly forwards: Forward[];
  private listeners: HostListener[] = [];
  private closed = false;

  constructor(
    forwards: readonly PortForwardOptions[],
    private readonly sockets: HostSockets,
    /** Opens the connection to the guest for a socket the host accepted. */
    private readonly open: (guestAddress: Ipv4, guestPort: number, socket: HostSocket) => void,
  ) {
    this.forwards = forwards.map(resolveForward);
  }

  /** Starts every listener; resolves with the ports actually bound. */
  async start(): Promise<BoundForward[]> {
    const bound: BoundForward[] = [];
    for (const forward of this.forwards) {
      const listener = await this.sockets.listen(forward.hostAddress, forward.hostPort, (socket) => {
        if (this.closed) return socket.destroy();
        this.open(forward.guestAddress, forward.guestPort, socket);
      });
      if (this.closed) {
        listener.close();
        break;
      }
      this.listeners.push(listener);
      bound.push({
        hostAddress: listener.address,
        hostPort: listener.port,
        guestAddress: formatIpv4(forward.guestAddress),
        guestPort: forward.guestPort,
      });
    }
    return bound;
  }

  close(): void {
    this.closed = true;
    for (const listener of this.listeners) listener.close();
    this.listeners = [];
  }
}
