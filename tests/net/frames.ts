// Frames as a guest would build and read them, written independently of the network's own codecs
// (its own checksum and byte layout), so a shared mistake cannot hide in both.

export function ip(text: string): number {
  const parts = text.split(".").map(Number);
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function ipText(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join(".");
}

export function mac(text: string): number[] {
  return text.split(":").map((part) => parseInt(part, 16));
}

export function macText(bytes: ArrayLike<number>): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join(":");
}

/** RFC 1071, the straightforward way: 16-bit words, end-around carry after each addition. */
export function internetChecksum(bytes: ArrayLike<number>, initial = 0): number {
  let sum = initial;
  for (let i = 0; i < bytes.length; i += 2) {
    sum += (bytes[i]! << 8) + (i + 1 < bytes.length ? bytes[i + 1]! : 0);
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  return ~sum & 0xffff;
}

function put16(bytes: number[], value: number): void {
  bytes.push((value >>> 8) & 255, value & 255);
}

function put32(bytes: number[], value: number): void {
  bytes.push((value >>> 24) & 255, (value >>> 16) & 255, (value >>> 8) & 255, value & 255);
}

export function ethernet(
  destination: string,
  source: string,
  type: number,
  payload: ArrayLike<number>,
): Uint8Array {
  return Uint8Array.from([
    ...mac(destination),
    ...mac(source),
    (type >>> 8) & 255,
    type & 255,
    ...Array.from(payload),
  ]);
}

export function arpRequest(senderMac: string, senderIp: string, targetIp: string): Uint8Array {
  const body: number[] = [0, 1, 8, 0, 6, 4, 0, 1, ...mac(senderMac)];
  put32(body, ip(senderIp));
  body.push(0, 0, 0, 0, 0, 0);
  put32(body, ip(targetIp));
  return ethernet("ff:ff:ff:ff:ff:ff", senderMac, 0x0806, body);
}

export function arpReply(
  senderMac: string,
  senderIp: string,
  targetMac: string,
  targetIp: string,
): Uint8Array {
  const body: number[] = [0, 1, 8, 0, 6, 4, 0, 2, ...mac(senderMac)];
  put32(body, ip(senderIp));
  body.push(...mac(targetMac));
  put32(body, ip(targetIp));
  return ethernet(targetMac, senderMac, 0x0806, body);
}

export function ipv4(
  source: string,
  destination: string,
  protocol: number,
  payload: ArrayLike<number>,
  id = 1,
): number[] {
  const header: number[] = [0x45, 0];
  put16(header, 20 + payload.length);
  put16(header, id);
  header.push(0x40, 0, 64, protocol, 0, 0);
  put32(header, ip(source));
  put32(header, ip(destination));
  const sum = internetChecksum(header);
  header[10] = sum >>> 8;
  header[11] = sum & 255;
  return [...header, ...Array.from(payload)];
}

function pseudoSum(source: string, destination: string, protocol: number, length: number): number {
  const pseudo: number[] = [];
  put32(pseudo, ip(source));
  put32(pseudo, ip(destination));
  pseudo.push(0, protocol);
  put16(pseudo, length);
  // The pseudo-header's contribution, not yet inverted.
  return ~internetChecksum(pseudo) & 0xffff;
}

export function udp(
  source: string,
  sourcePort: number,
  destination: string,
  destinationPort: number,
  payload: ArrayLike<number>,
): number[] {
  const bytes: number[] = [];
  put16(bytes, sourcePort);
  put16(bytes, destinationPort);
  put16(bytes, 8 + payload.length);
  put16(bytes, 0);
  bytes.push(...Array.from(payload));
  const sum = internetChecksum(bytes, pseudoSum(source, destination, 17, bytes.length)) || 0xffff;
  bytes[6] = sum >>> 8;
  bytes[7] = sum & 255;
  return ipv4(source, destination, 17, bytes);
}

export const TCP = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16 } as const;

export interface TcpFields {
  sourcePort: number;
  destinationPort: number;
  seq: number;
  ack?: number;
  flags: number;
  window?: number;
  mss?: number;
  windowScale?: number;
  payload?: ArrayLike<number>;
}

export function tcp(source: string, destination: string, fields: TcpFields): Uint8Array {
  const options: number[] = [];
  if (fields.mss !== undefined) options.push(2, 4, fields.mss >>> 8, fields.mss & 255);
  if (fields.windowScale !== undefined) options.push(1, 3, 3, fields.windowScale);
  const bytes: number[] = [];
  put16(bytes, fields.sourcePort);
  put16(bytes, fields.destinationPort);
  put32(bytes, fields.seq >>> 0);
  put32(bytes, (fields.ack ?? 0) >>> 0);
  bytes.push(((20 + options.length) / 4) << 4, fields.flags);
  put16(bytes, fields.window ?? 65535);
  put16(bytes, 0);
  put16(bytes, 0);
  bytes.push(...options);
  const segment = new Uint8Array(bytes.length + (fields.payload?.length ?? 0));
  segment.set(bytes);
  if (fields.payload) segment.set(Array.from(fields.payload), bytes.length);
  const sum = internetChecksum(segment, pseudoSum(source, destination, 6, segment.length));
  segment[16] = sum >>> 8;
  segment[17] = sum & 255;
  const datagram = new Uint8Array(20 + segment.length);
  datagram.set(ipv4(source, destination, 6, []).slice(0, 20));
  datagram[2] = datagram.length >>> 8;
  datagram[3] = datagram.length & 255;
  datagram[10] = 0;
  datagram[11] = 0;
  const headerSum = internetChecksum(datagram.subarray(0, 20));
  datagram[10] = headerSum >>> 8;
  datagram[11] = headerSum & 255;
  datagram.set(segment, 20);
  return datagram;
}

export function icmpEcho(
  source: string,
  destination: string,
  id: number,
  sequence: number,
  data: ArrayLike<number>,
): number[] {
  const bytes: number[] = [8, 0, 0, 0];
  put16(bytes, id);
  put16(bytes, sequence);
  bytes.push(...Array.from(data));
  const sum = internetChecksum(bytes);
  bytes[2] = sum >>> 8;
  bytes[3] = sum & 255;
  return ipv4(source, destination, 1, bytes);
}

export interface Decoded {
  readonly raw: Uint8Array;
  readonly destination: string;
  readonly source: string;
  readonly type: number;
  readonly arp?: {
    operation: number;
    senderMac: string;
    senderIp: string;
    targetMac: string;
    targetIp: string;
  };
  readonly ip?: {
    source: string;
    destination: string;
    protocol: number;
    headerOk: boolean;
    payload: Uint8Array;
  };
  readonly udp?: { sourcePort: number; destinationPort: number; payload: Uint8Array; checksumOk: boolean };
  readonly tcp?: {
    sourcePort: number;
    destinationPort: number;
    seq: number;
    ack: number;
    flags: number;
    window: number;
    mss?: number;
    windowScale?: number;
    payload: Uint8Array;
    checksumOk: boolean;
  };
  readonly icmp?: { type: number; code: number; body: Uint8Array; checksumOk: boolean };
}

function read16(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 8) | bytes[at + 1]!;
}

function read32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

/** Decodes a frame the network sent, checking every checksum independently. */
export function decode(raw: Uint8Array): Decoded {
  const frame = Uint8Array.from(raw);
  const base = {
    raw: frame,
    destination: macText(frame.subarray(0, 6)),
    source: macText(frame.subarray(6, 12)),
    type: read16(frame, 12),
  };
  const body = frame.subarray(14);
  if (base.type === 0x0806) {
    return {
      ...base,
      arp: {
        operation: read16(body, 6),
        senderMac: macText(body.subarray(8, 14)),
        senderIp: ipText(read32(body, 14)),
        targetMac: macText(body.subarray(18, 24)),
        targetIp: ipText(read32(body, 24)),
      },
    };
  }
  if (base.type !== 0x0800) return base;
  const headerLength = (body[0]! & 15) * 4;
  const total = read16(body, 2);
  const source = ipText(read32(body, 12));
  const destination = ipText(read32(body, 16));
  const protocol = body[9]!;
  const payload = body.subarray(headerLength, total);
  const ipInfo = {
    source,
    destination,
    protocol,
    headerOk: internetChecksum(body.subarray(0, headerLength)) === 0,
    payload,
  };
  const transportOk = (): boolean =>
    internetChecksum(payload, pseudoSum(source, destination, protocol, payload.length)) === 0;
  if (protocol === 17) {
    return {
      ...base,
      ip: ipInfo,
      udp: {
        sourcePort: read16(payload, 0),
        destinationPort: read16(payload, 2),
        payload: payload.subarray(8, read16(payload, 4)),
        checksumOk: transportOk(),
      },
    };
  }
  if (protocol === 6) {
    const offset = (payload[12]! >>> 4) * 4;
    let mss: number | undefined;
    let windowScale: number | undefined;
    for (let at = 20; at < offset;) {
      const kind = payload[at]!;
      if (kind === 0) break;
      if (kind === 1) {
        at++;
        continue;
      }
      if (kind === 2) mss = read16(payload, at + 2);
      if (kind === 3) windowScale = payload[at + 2];
      at += payload[at + 1]!;
    }
    return {
      ...base,
      ip: ipInfo,
      tcp: {
        sourcePort: read16(payload, 0),
        destinationPort: read16(payload, 2),
        seq: read32(payload, 4),
        ack: read32(payload, 8),
        flags: payload[13]! & 0x3f,
        window: read16(payload, 14),
        mss,
        windowScale,
        payload: payload.subarray(offset),
        checksumOk: transportOk(),
      },
    };
  }
  if (protocol === 1) {
    return {
      ...base,
      ip: ipInfo,
      icmp: {
        type: payload[0]!,
        code: payload[1]!,
        body: payload.subarray(4),
        checksumOk: internetChecksum(payload) === 0,
      },
    };
  }
  return { ...base, ip: ipInfo };
}
