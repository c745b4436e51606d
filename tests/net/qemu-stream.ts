// Puts the user network behind a real NIC: QEMU's `-netdev stream` connects to a TCP port here and
// sends each Ethernet frame with a 4-byte big-endian length in front (and takes ours the same way).
// The network runs on the wall clock, since QEMU's guest does.
import { createServer, type Server, type Socket } from "node:net";
import type { MachineClock } from "../../src/machine/clock.ts";
import type { UserNetwork } from "../../src/machine/backends/net/user-network.ts";

/** Virtual time that simply follows the host's monotonic clock (QEMU's guest runs in real time). */
export class WallClock implements MachineClock {
  private readonly origin = performance.now();

  get nowNs(): number {
    return Math.round((performance.now() - this.origin) * 1e6);
  }

  at(atNs: number, fire: () => void): () => void {
    const timer = setTimeout(fire, Math.max(0, (atNs - this.nowNs) / 1e6));
    return () => clearTimeout(timer);
  }
}

export class StreamBridge {
  framesIn = 0;
  framesOut = 0;
  private socket: Socket | undefined;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** Listens on an ephemeral loopback port and bridges the first connection to `network`. */
  static async listen(network: UserNetwork): Promise<StreamBridge> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const bridge = new StreamBridge(server, (server.address() as { port: number }).port);
    server.on("connection", (socket: Socket) => {
      if (bridge.socket) return socket.destroy();
      bridge.attach(socket, network);
    });
    return bridge;
  }

  /** The -netdev option that makes QEMU connect here. */
  netdev(id: string): string {
    return `stream,id=${id},server=off,addr.type=inet,addr.host=127.0.0.1,addr.port=${this.port}`;
  }

  close(): void {
    this.socket?.destroy();
    this.server.close();
  }

  private attach(socket: Socket, network: UserNetwork): void {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on("error", () => {});
    network.connect((frame) => {
      this.framesOut++;
      const record = Buffer.allocUnsafe(4 + frame.length);
      record.writeUInt32BE(frame.length, 0);
      record.set(frame, 4);
      socket.write(record);
    });
    let pending: Buffer = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let at = 0;
      while (pending.length - at >= 4) {
        const length = pending.readUInt32BE(at);
        if (pending.length - at - 4 < length) break;
        this.framesIn++;
        network.transmit(pending.subarray(at + 4, at + 4 + length));
        at += 4 + length;
      }
      pending = pending.subarray(at);
    });
  }
}
