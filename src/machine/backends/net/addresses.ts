// The user network's addresses (QEMU's -netdev user layout), MAC/IPv4 helpers and the Internet checksum.

/** An IPv4 address as an unsigned 32-bit number, so comparisons and map keys are cheap. */
export type Ipv4 = number;
/** A MAC address: six bytes. */
export type Mac = Uint8Array;

export function ipv4(text: string): Ipv4 {
  const parsed = parseIpv4(text);
  if (parsed === undefined) throw new Error(`not an IPv4 address: ${JSON.stringify(text)}`);
  return parsed;
}

/** The address in dotted-quad form, or undefined when `text` is not one. */
export function parseIpv4(text: string): Ipv4 | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

export function formatIpv4(address: Ipv4): string {
  return `${address >>> 24}.${(address >>> 16) & 0xff}.${(address >>> 8) & 0xff}.${address & 0xff}`;
}

export function readIpv4(bytes: Uint8Array, at: number): Ipv4 {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

export function writeIpv4(bytes: Uint8Array, at: number, address: Ipv4): void {
  bytes[at] = address >>> 24;
  bytes[at + 1] = (address >>> 16) & 0xff;
  bytes[at + 2] = (address >>> 8) & 0xff;
  bytes[at + 3] = address & 0xff;
}

export function formatMac(mac: Mac): string {
  return Array.from(mac, (byte) => byte.toString(16).padStart(2, "0")).join(":");
}

export function parseMac(text: string): Mac {
  const parts = text.split(":");
  if (parts.length !== 6 || parts.some((part) => !/^[0-9a-fA-F]{2}$/.test(part))) {
    throw new Error(`not a MAC address: ${JSON.stringify(text)}`);
  }
  return Uint8Array.from(parts, (part) => parseInt(part, 16));
}

export const BROADCAST_MAC: Mac = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

export function sameMac(a: Uint8Array, aAt: number, b: Uint8Array, bAt = 0): boolean {
  for (let i = 0; i < 6; i++) if (a[aAt + i] !== b[bAt + i]) return false;
  return true;
}

/**
 * The MAC a virtual host answers ARP with: QEMU's slirp uses 52:55 followed by the host's IPv4
 * address, so the gateway 10.0.2.2 is 52:55:0a:00:02:02.
 */
export function virtualMac(address: Ipv4): Mac {
  const mac = new Uint8Array(6);
  mac[0] = 0x52;
  mac[1] = 0x55;
  writeIpv4(mac, 2, address);
  return mac;
}

// QEMU's defaults for `-netdev user`; a guest sees exactly these.
export const NETWORK = ipv4("10.0.2.0");
export const NETMASK = ipv4("255.255.255.0");
export const GATEWAY = ipv4("10.0.2.2");
export const NAMESERVER = ipv4("10.0.2.3");
/** The first address the DHCP server hands out; QEMU's port forwards target it by default. */
export const FIRST_GUEST = ipv4("10.0.2.15");
/** QEMU's DHCP pool has 16 addresses from the first guest address. */
export const GUEST_POOL_SIZE = 16;
export const DIRECTED_BROADCAST = (NETWORK | ~NETMASK) >>> 0;
export const LIMITED_BROADCAST = 0xffffffff;
/** Where `trustworthy.systems` lives: an address QEMU's network leaves unused (see docs/networking.md). */
export const TRUSTWORTHY_SYSTEMS = ipv4("10.0.2.100");
/** The host's loopback: the gateway address leads there through NAT, as in QEMU. */
export const HOST_LOOPBACK = ipv4("127.0.0.1");

export function inNetwork(address: Ipv4): boolean {
  return (address & NETMASK) >>> 0 === NETWORK;
}

/**
 * The one's-complement sum of 16-bit big-endian words (RFC 1071), not yet folded or inverted, so
 * that a pseudo-header and a payload can be summed separately. Plain addition keeps it exact: a
 * double holds the sum of any frame's words without overflow.
 */
export function onesSum(bytes: Uint8Array, start: number, end: number, sum = 0): number {
  let i = start;
  for (; i + 1 < end; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (i < end) sum += bytes[i]! << 8;
  return sum;
}

/** Folds a sum from onesSum into 16 bits and inverts it: the value that goes into a header. */
export function finishChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

export function checksum(bytes: Uint8Array, start: number, end: number, initial = 0): number {
  return finishChecksum(onesSum(bytes, start, end, initial));
}
