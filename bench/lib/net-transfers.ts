// Shared by the network and virtIO benchmarks: TCP transfers between a host socket on 127.0.0.1 and a
// guest shell (busybox nc through the machine's user-mode NAT at 10.0.2.2), timed on the host, and the
// statistics the reports use.
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";

export const MEBIBYTE = 1 << 20;
export const TRANSFER_BYTES = 16 * MEBIBYTE;

/** A guest shell, on either machine. */
export interface Guest {
  name: string;
  run(command: string): Promise<string>;
  stop(): Promise<void>;
}

/** A host server for one transfer: it reports the seconds from accepting the guest to the end. */
function hostServer(onConnection: (socket: Socket, done: (bytes: number) => void) => void): {
  server: Server;
  result: Promise<{ seconds: number; bytes: number }>;
} {
  let finish!: (value: { seconds: number; bytes: number }) => void;
  const result = new Promise<{ seconds: number; bytes: number }>((resolve) => (finish = resolve));
  const server = createServer((socket) => {
    const start = performance.now();
    onConnection(socket, (bytes) => finish({ seconds: (performance.now() - start) / 1000, bytes }));
  });
  return { server, result };
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

/** Guest → host: the guest pipes zeros into nc; the host counts until the connection ends. */
export async function guestToHost(guest: Guest): Promise<number> {
  const { server, result } = hostServer((socket, done) => {
    let bytes = 0;
    socket.on("data", (chunk) => (bytes += chunk.length));
    socket.on("end", () => done(bytes));
  });
  const port = await listen(server);
  const blocks = TRANSFER_BYTES / 65536;
  await guest.run(`dd if=/dev/zero bs=65536 count=${blocks} 2>/dev/null | nc 10.0.2.2 ${port}`);
  const { seconds, bytes } = await result;
  server.close();
  if (bytes !== TRANSFER_BYTES)
    throw new Error(`${guest.name}: the host got ${bytes} of ${TRANSFER_BYTES} bytes`);
  return TRANSFER_BYTES / MEBIBYTE / seconds;
}

/** Host → guest: the host sends the bytes and closes; the guest counts them. */
export async function hostToGuest(guest: Guest): Promise<number> {
  const chunk = new Uint8Array(65536).fill(0x5a);
  const { server, result } = hostServer((socket, done) => {
    let sent = 0;
    const pump = (): void => {
      while (sent < TRANSFER_BYTES) {
        sent += chunk.length;
        if (!socket.write(chunk)) return void socket.once("drain", pump);
      }
      socket.end();
    };
    pump();
    socket.on("close", () => done(sent));
    socket.resume();
  });
  const port = await listen(server);
  const counted = await guest.run(`nc 10.0.2.2 ${port} | wc -c`);
  const { seconds } = await result;
  server.close();
  if (Number(counted.trim()) !== TRANSFER_BYTES) {
    throw new Error(`${guest.name}: the guest counted ${counted.trim()} of ${TRANSFER_BYTES} bytes`);
  }
  return TRANSFER_BYTES / MEBIBYTE / seconds;
}

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
export const round = (x: number): number => Math.round(x * 100) / 100;

/** The results file's date: 2026-12-03T1327Z. */
export function resultDate(): string {
  return new Date()
    .toISOString()
    .replace(/:\d\d\.\d+Z$/, "Z")
    .replace(":", "");
}
