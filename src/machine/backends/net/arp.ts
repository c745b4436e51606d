// ARP (RFC 826) for IPv4 over Ethernet: messages, and the table of guest addresses the network learns.
//
// Datagrams for an address not yet known wait in the table while a request is out, as a host's
// neighbour table holds them, instead of being dropped at once.

import type { MachineClock } from "../../clock.ts";
import { readIpv4, writeIpv4, type Ipv4, type Mac } from "./addresses.ts";

export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;
const ARP_LENGTH = 28;

export interface ArpMessage {
  readonly operation: number;
  readonly senderMac: Mac;
  readonly senderIp: Ipv4;
  readonly targetMac: Mac;
  readonly targetIp: Ipv4;
}

/** The message, or undefined when it is not Ethernet/IPv4 ARP or is cut short. */
export function parseArp(bytes: Uint8Array): ArpMessage | undefined {
  if (bytes.length < ARP_LENGTH) return undefined;
  const hardware = (bytes[0]! << 8) | bytes[1]!;
  const protocol = (bytes[2]! << 8) | bytes[3]!;
  if (hardware !== 1 || protocol !== 0x0800 || bytes[4] !== 6 || bytes[5] !== 4) return undefined;
  return {
    operation: (bytes[6]! << 8) | bytes[7]!,
    senderMac: bytes.slice(8, 14),
    senderIp: readIpv4(bytes, 14),
    targetMac: bytes.slice(18, 24),
    targetIp: readIpv4(bytes, 24),
  };
}

export function buildArp(message: ArpMessage): Uint8Array {
  const bytes = new Uint8Array(ARP_LENGTH);
  bytes.set([0, 1, 0x08, 0x00, 6, 4, 0, message.operation], 0);
  bytes.set(message.senderMac, 8);
  writeIpv4(bytes, 14, message.senderIp);
  bytes.set(message.targetMac, 18);
  writeIpv4(bytes, 24, message.targetIp);
  return bytes;
}

/** How often and how many times an unanswered request is repeated before its queue is dropped. */
const REQUEST_INTERVAL_NS = 1_000_000_000;
const REQUEST_ATTEMPTS = 3;
/** Datagrams held per address while it is resolved; more are dropped, as a host's neighbour table does. */
const QUEUE_LIMIT = 64;

interface Pending {
  readonly queue: ((mac: Mac) => void)[];
  attempts: number;
  cancel: () => void;
}

/**
 * Guest addresses seen on the wire. Entries never expire: the network has no other stations, and a
 * guest that changes its MAC announces it (any frame it sends refreshes the entry).
 */
export class ArpTable {
  private readonly entries = new Map<Ipv4, Mac>();
  private readonly pending = new Map<Ipv4, Pending>();

  constructor(
    private readonly clock: MachineClock,
    /** Sends a request for `address` on the wire. */
    private readonly request: (address: Ipv4) => void,
    /** Counts datagrams dropped because nobody answered. */
    private readonly dropped: (count: number) => void,
  ) {}

  lookup(address: Ipv4): Mac | undefined {
    return this.entries.get(address);
  }

  learn(address: Ipv4, mac: Mac): void {
    const known = this.entries.get(address);
    if (!known || known.some((byte, i) => byte !== mac[i])) this.entries.set(address, Uint8Array.from(mac));
    const waiting = this.pending.get(address);
    if (waiting) {
      this.pending.delete(address);
      waiting.cancel();
      const resolved = this.entries.get(address)!;
      for (const send of waiting.queue) send(resolved);
    }
  }

  /** Calls `send` with the address's MAC now, or once a request is answered. */
  resolve(address: Ipv4, send: (mac: Mac) => void): void {
    const mac = this.entries.get(address);
    if (mac) return send(mac);
    let waiting = this.pending.get(address);
    if (!waiting) {
      waiting = { queue: [], attempts: 0, cancel: () => {} };
      this.pending.set(address, waiting);
      this.ask(address, waiting);
    }
    if (waiting.queue.length < QUEUE_LIMIT) waiting.queue.push(send);
    else this.dropped(1);
  }

  /** Cancels every outstanding request. */
  close(): void {
    for (const waiting of this.pending.values()) waiting.cancel();
    this.pending.clear();
  }

  private ask(address: Ipv4, waiting: Pending): void {
    if (waiting.attempts === REQUEST_ATTEMPTS) {
      this.pending.delete(address);
      this.dropped(waiting.queue.length);
      return;
    }
    waiting.attempts++;
    this.request(address);
    waiting.cancel = this.clock.at(this.clock.nowNs + REQUEST_INTERVAL_NS, () => this.ask(address, waiting));
  }
}
