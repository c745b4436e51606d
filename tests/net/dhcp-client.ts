// DHCP messages as a client (busybox udhcpc) sends them, and a reader for the server's replies.
import { ip, ipText, mac, macText, udp } from "./frames.ts";

export interface DhcpClientMessage {
  type: number;
  xid: number;
  clientMac: string;
  broadcast?: boolean;
  clientAddress?: string;
  requested?: string;
  serverId?: string;
}

export function dhcpMessage(message: DhcpClientMessage): number[] {
  const bytes = new Array<number>(240).fill(0);
  bytes[0] = 1;
  bytes[1] = 1;
  bytes[2] = 6;
  bytes[4] = message.xid >>> 24;
  bytes[5] = (message.xid >>> 16) & 255;
  bytes[6] = (message.xid >>> 8) & 255;
  bytes[7] = message.xid & 255;
  if (message.broadcast) bytes[10] = 0x80;
  const client = ip(message.clientAddress ?? "0.0.0.0");
  bytes.splice(12, 4, client >>> 24, (client >>> 16) & 255, (client >>> 8) & 255, client & 255);
  bytes.splice(28, 6, ...mac(message.clientMac));
  bytes.splice(236, 4, 99, 130, 83, 99);
  bytes.push(53, 1, message.type);
  // Client identifier and a parameter request list, as udhcpc sends them.
  bytes.push(61, 7, 1, ...mac(message.clientMac));
  const address = (code: number, text: string): void => {
    const value = ip(text);
    bytes.push(code, 4, value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255);
  };
  if (message.requested) address(50, message.requested);
  if (message.serverId) address(54, message.serverId);
  bytes.push(55, 4, 1, 3, 6, 51, 255);
  return bytes;
}

/** The UDP/IP datagram carrying `message` from the client port to the server port. */
export function dhcpDatagram(
  message: DhcpClientMessage,
  source = "0.0.0.0",
  destination = "255.255.255.255",
): number[] {
  return udp(source, 68, destination, 67, dhcpMessage(message));
}

export interface DhcpReplyFields {
  op: number;
  xid: number;
  flags: number;
  yiaddr: string;
  siaddr: string;
  chaddr: string;
  options: Map<number, Uint8Array>;
  type: number;
  length: number;
}

export function readDhcpReply(payload: Uint8Array): DhcpReplyFields {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const options = new Map<number, Uint8Array>();
  for (let at = 240; at < payload.length;) {
    const code = payload[at]!;
    if (code === 255) break;
    if (code === 0) {
      at++;
      continue;
    }
    const length = payload[at + 1]!;
    options.set(code, payload.slice(at + 2, at + 2 + length));
    at += 2 + length;
  }
  return {
    op: payload[0]!,
    xid: view.getUint32(4),
    flags: view.getUint16(10),
    yiaddr: ipText(view.getUint32(16)),
    siaddr: ipText(view.getUint32(20)),
    chaddr: macText(payload.subarray(28, 34)),
    options,
    type: options.get(53)?.[0] ?? 0,
    length: payload.length,
  };
}

export function optionAddress(value: Uint8Array | undefined): string | undefined {
  if (!value || value.length !== 4) return undefined;
  return ipText(new DataView(value.buffer, value.byteOffset).getUint32(0));
}

export function optionNumber(value: Uint8Array | undefined): number | undefined {
  if (!value || value.length !== 4) return undefined;
  return new DataView(value.buffer, value.byteOffset).getUint32(0);
}
