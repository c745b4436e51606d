// The DHCP server (RFC 2131/2132) at 10.0.2.2: an address per client MAC from 10.0.2.15, QEMU's options.

import {
  BROADCAST_MAC,
  FIRST_GUEST,
  GATEWAY,
  GUEST_POOL_SIZE,
  LIMITED_BROADCAST,
  NAMESERVER,
  NETMASK,
  formatMac,
  readIpv4,
  writeIpv4,
  type Ipv4,
  type Mac,
} from "./addresses.ts";

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;
export const LEASE_SECONDS = 86400;

const DISCOVER = 1;
const OFFER = 2;
const REQUEST = 3;
const DECLINE = 4;
const ACK = 5;
const NAK = 6;
const RELEASE = 7;
const INFORM = 8;

const OPTION_PAD = 0;
const OPTION_SUBNET_MASK = 1;
const OPTION_ROUTER = 3;
const OPTION_DNS = 6;
const OPTION_REQUESTED_ADDRESS = 50;
const OPTION_LEASE_TIME = 51;
const OPTION_MESSAGE_TYPE = 53;
const OPTION_SERVER_ID = 54;
const OPTION_MESSAGE = 56;
const OPTION_END = 255;

const MAGIC_COOKIE = 0x63825363;
const FIXED_PART = 236;
const OPTIONS_START = FIXED_PART + 4;
/** BOOTP's minimum message: some clients ignore shorter replies. */
const MINIMUM_REPLY = 300;
const FLAG_BROADCAST = 0x8000;

export interface DhcpReply {
  readonly payload: Uint8Array;
  readonly destinationIp: Ipv4;
  readonly destinationMac: Mac;
}

interface Request {
  readonly type: number;
  readonly xid: Uint8Array;
  readonly flags: number;
  readonly clientAddress: Ipv4;
  readonly relayAddress: Ipv4;
  readonly clientMac: Mac;
  readonly requestedAddress: Ipv4 | undefined;
  readonly serverId: Ipv4 | undefined;
}

/** The request in `bytes`, or undefined when it is not a well-formed DHCP request from an Ethernet client. */
function parseRequest(bytes: Uint8Array): Request | undefined {
  if (bytes.length < OPTIONS_START) return undefined;
  if (bytes[0] !== 1 || bytes[1] !== 1 || bytes[2] !== 6) return undefined;
  if (readIpv4(bytes, FIXED_PART) !== MAGIC_COOKIE) return undefined;
  const options = new Map<number, Uint8Array>();
  let at = OPTIONS_START;
  while (at < bytes.length) {
    const code = bytes[at]!;
    if (code === OPTION_END) break;
    if (code === OPTION_PAD) {
      at++;
      continue;
    }
    if (at + 1 >= bytes.length) return undefined;
    const length = bytes[at + 1]!;
    if (at + 2 + length > bytes.length) return undefined;
    // A repeated option continues the first (RFC 3396).
    const value = bytes.subarray(at + 2, at + 2 + length);
    const earlier = options.get(code);
    options.set(code, earlier ? Uint8Array.from([...earlier, ...value]) : value);
    at += 2 + length;
  }
  const type = options.get(OPTION_MESSAGE_TYPE);
  if (!type || type.length !== 1) return undefined;
  const address = (code: number): Ipv4 | undefined => {
    const value = options.get(code);
    return value && value.length === 4 ? readIpv4(value, 0) : undefined;
  };
  return {
    type: type[0]!,
    xid: bytes.slice(4, 8),
    flags: (bytes[10]! << 8) | bytes[11]!,
    clientAddress: readIpv4(bytes, 12),
    relayAddress: readIpv4(bytes, 24),
    clientMac: bytes.slice(28, 34),
    requestedAddress: address(OPTION_REQUESTED_ADDRESS),
    serverId: address(OPTION_SERVER_ID),
  };
}

export interface DhcpServerOptions {
  /** QEMU leaves out the router option when the network is restricted. */
  readonly router: boolean;
}

export class DhcpServer {
  /** Pool index → the MAC (as text) holding it. */
  private readonly holders: (string | undefined)[] = new Array(GUEST_POOL_SIZE).fill(undefined);

  constructor(private readonly options: DhcpServerOptions) {}

  /** The address leased to `mac`, if any. */
  leaseOf(mac: Mac): Ipv4 | undefined {
    const index = this.holders.indexOf(formatMac(mac));
    return index < 0 ? undefined : FIRST_GUEST + index;
  }

  /** The reply to a datagram sent to the server port, or undefined when there is none to send. */
  handle(bytes: Uint8Array): DhcpReply | undefined {
    const request = parseRequest(bytes);
    // Relayed requests never happen on this one-segment network.
    if (!request || request.relayAddress !== 0) return undefined;
    const mac = formatMac(request.clientMac);
    switch (request.type) {
      case DISCOVER: {
        const address = this.leaseOf(request.clientMac) ?? this.allocate(mac);
        return address === undefined ? undefined : this.reply(request, OFFER, address);
      }
      case REQUEST: {
        // SELECTING with another server's offer: the client is not ours.
        if (request.serverId !== undefined && request.serverId !== GATEWAY) return undefined;
        const wanted = request.requestedAddress ?? request.clientAddress;
        if (this.take(wanted, mac)) return this.reply(request, ACK, wanted);
        return this.reply(request, NAK, 0);
      }
      case RELEASE:
      case DECLINE: {
        const index = this.holders.indexOf(mac);
        if (index >= 0) this.holders[index] = undefined;
        return undefined;
      }
      case INFORM:
        return this.reply(request, ACK, 0);
      default:
        return undefined;
    }
  }

  private allocate(mac: string): Ipv4 | undefined {
    const index = this.holders.indexOf(undefined);
    if (index < 0) return undefined;
    this.holders[index] = mac;
    return FIRST_GUEST + index;
  }

  /** Binds `address` to `mac` when it is in the pool and free (or already theirs). */
  private take(address: Ipv4, mac: string): boolean {
    const index = address - FIRST_GUEST;
    if (index < 0 || index >= GUEST_POOL_SIZE) return false;
    const holder = this.holders[index];
    if (holder !== undefined && holder !== mac) return false;
    const previous = this.holders.indexOf(mac);
    if (previous >= 0) this.holders[previous] = undefined;
    this.holders[index] = mac;
    return true;
  }

  private reply(request: Request, type: number, address: Ipv4): DhcpReply {
    const options: number[] = [OPTION_MESSAGE_TYPE, 1, type];
    const addressOption = (code: number, value: Ipv4): void => {
      options.push(code, 4, value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff);
    };
    addressOption(OPTION_SERVER_ID, GATEWAY);
    if (type === NAK) {
      const text = new TextEncoder().encode("requested address not available");
      options.push(OPTION_MESSAGE, text.length, ...text);
    } else {
      addressOption(OPTION_SUBNET_MASK, NETMASK);
      if (this.options.router) addressOption(OPTION_ROUTER, GATEWAY);
      addressOption(OPTION_DNS, NAMESERVER);
      if (request.type !== INFORM) addressOption(OPTION_LEASE_TIME, LEASE_SECONDS);
    }
    options.push(OPTION_END);
    const payload = new Uint8Array(Math.max(MINIMUM_REPLY, OPTIONS_START + options.length));
    payload[0] = 2; // BOOTREPLY
    payload[1] = 1;
    payload[2] = 6;
    payload.set(request.xid, 4);
    payload[10] = request.flags >>> 8;
    payload[11] = request.flags & 0xff;
    if (type === ACK && request.type === INFORM) writeIpv4(payload, 12, request.clientAddress);
    if (type !== NAK) {
      writeIpv4(payload, 16, address);
      writeIpv4(payload, 20, GATEWAY);
    }
    payload.set(request.clientMac, 28);
    writeIpv4(payload, FIXED_PART, MAGIC_COOKIE);
    payload.set(options, OPTIONS_START);
    // RFC 2131 §4.1: a client with an address gets a unicast; one without gets a broadcast when it
    // asks for it (and a NAK always), otherwise a unicast to its new address and hardware address.
    if (type === NAK || (request.clientAddress === 0 && (request.flags & FLAG_BROADCAST) !== 0)) {
      return { payload, destinationIp: LIMITED_BROADCAST, destinationMac: BROADCAST_MAC };
    }
    const destinationIp = request.clientAddress !== 0 ? request.clientAddress : address;
    return { payload, destinationIp, destinationMac: request.clientMac };
  }
}
