// The user-mode network: the other end of the guest's Ethernet cable, as QEMU's -netdev user.
//
// Gateway 10.0.2.2, DNS 10.0.2.3, DHCP handing out 10.0.2.15, ARP, ICMP echo, UDP and TCP, plus
// embedded hosts (trustworthy.systems at 10.0.2.100), outbound TCP NAT to host sockets, host-to-guest
// port forwards and a pcap capture. Frames from the guest never make it throw: what cannot be parsed
// is counted and dropped.

import type { MachineClock } from "../../clock.ts";
import type { EthernetWire } from "../../devices/ethernet.ts";
import {
  BROADCAST_MAC,
  DIRECTED_BROADCAST,
  FIRST_GUEST,
  GATEWAY,
  GUEST_POOL_SIZE,
  LIMITED_BROADCAST,
  NAMESERVER,
  NETWORK,
  TRUSTWORTHY_SYSTEMS,
  formatIpv4,
  inNetwork,
  parseIpv4,
  virtualMac,
  type Ipv4,
  type Mac,
} from "./addresses.ts";
import { ARP_REPLY, ARP_REQUEST, ArpTable, buildArp, parseArp } from "./arp.ts";
import { DHCP_CLIENT_PORT, DHCP_SERVER_PORT, DhcpServer } from "./dhcp.ts";
import { DNS_PORT, DnsServer, normaliseHostName } from "./dns.ts";
import { DnsTcpConnection } from "./dns-tcp.ts";
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, buildEthernet, isGroupMac, parseEthernet } from "./ethernet.ts";
import { nodeHostSockets, type HostEvents, type HostSocket, type HostSockets } from "./host-sockets.ts";
import { HttpConnection, type HttpRoutes } from "./http-server.ts";
import { ICMP_ECHO_REQUEST, UNREACHABLE_PORT, UNREACHABLE_PROTOCOL, echoReply, unreachable } from "./icmp.ts";
import {
  PROTOCOL_ICMP,
  PROTOCOL_TCP,
  PROTOCOL_UDP,
  buildIpv4,
  parseIpv4 as parseIpv4Packet,
  type Ipv4Packet,
} from "./ipv4.ts";
import { PcapWriter, type PcapSink } from "./pcap.ts";
import { pcapFile } from "./pcap-file.ts";
import { PortForwarder, type BoundForward, type PortForwardOptions } from "./port-forward.ts";
import { seededRandom } from "./random.ts";
import { SocketBridge } from "./socket-bridge.ts";
import {
  ACK,
  FIN,
  RST,
  SYN,
  buildTcp,
  parseTcp,
  seqAdd,
  type TcpOutgoing,
  type TcpSegment,
} from "./tcp-segment.ts";
import {
  TcpConnection,
  emptyTcpStats,
  type TcpEndpoints,
  type TcpEnvironment,
  type TcpHandler,
  type TcpStats,
} from "./tcp.ts";
import { TRUSTWORTHY_SYSTEMS_NAME, trustworthySystemsRoutes } from "./trustworthy-systems.ts";
import { buildUdp, parseUdp } from "./udp.ts";
import { WordService } from "./word-service.ts";

export type { HostEvents } from "./host-sockets.ts";
export type { BoundForward, PortForwardOptions } from "./port-forward.ts";
export type { HttpRoutes, HttpRequest, HttpResponse, HttpBodyStream } from "./http-server.ts";
export type { PcapSink } from "./pcap.ts";
export type { TcpCloseReason, TcpConnection, TcpHandler, TcpStats } from "./tcp.ts";

/** A TCP service on an embedded host: gets each new connection and returns what handles it. */
export type TcpService = (connection: TcpConnection) => TcpHandler;

export interface EmbeddedHostOptions {
  /** A DNS name the network's DNS server answers with the host's address. */
  readonly name: string;
  /** An unused address in 10.0.2.0/24; by default the next free one from 10.0.2.101. */
  readonly address?: string;
  /** An HTTP server on port 80 with these routes. */
  readonly routes?: HttpRoutes;
  /** Other TCP services by port. */
  readonly services?: Readonly<Record<number, TcpService>>;
}

export interface UserNetworkOptions {
  /** Every protocol timer and every pcap timestamp follows this clock. */
  readonly clock: MachineClock;
  /** The emulator's event loop: host socket events are posted into it. */
  readonly host: HostEvents;
  /** Seeds initial sequence numbers (default fixed): the same inputs give the same frames. */
  readonly seed?: number;
  /** Seeds the word service's sequence (default fixed). */
  readonly wordSeed?: number;
  /** Serve this word (five letters a-z) on every request instead. */
  readonly word?: string;
  /** More routes for trustworthy.systems (they take precedence over the built-in ones). */
  readonly routes?: HttpRoutes;
  /** More embedded hosts. */
  readonly hosts?: readonly EmbeddedHostOptions[];
  /** No NAT: the guest reaches only the virtual hosts (QEMU's restrict=on). */
  readonly restrict?: boolean;
  /** Resolve names that are not embedded with the host's resolver (default: NXDOMAIN). */
  readonly resolveOutside?: boolean;
  /** Host-to-guest TCP port forwards. */
  readonly forwards?: readonly PortForwardOptions[];
  /** Capture every frame both ways: a sink, or the path of a file to write. */
  readonly pcap?: PcapSink | string;
  /**
   * Makes the host's sockets and resolver (default: Node's). It gets the network's own view of the
   * event loop, and must deliver every socket event through its `post`.
   */
  readonly sockets?: (host: HostEvents) => HostSockets;
  /** Diagnostics (listen failures, restricted connections, failing handlers). */
  readonly log?: (message: string) => void;
}

export interface UserNetworkStats {
  framesFromGuest: number;
  framesToGuest: number;
  bytesFromGuest: number;
  bytesToGuest: number;
  /** Frames dropped because they could not be parsed (bad lengths, checksums, fields). */
  malformed: number;
  malformedByReason: Record<string, number>;
  /** Well-formed frames nobody here handles (IPv6, multicast, fragments, UDP beyond the network). */
  ignored: number;
  ignoredByReason: Record<string, number>;
  /** Frames for the guest lost because no receiver was connected or its address never resolved. */
  undeliverable: number;
  arpReplies: number;
  icmpEchoReplies: number;
  dhcpReplies: number;
  dnsQueries: number;
  natConnections: number;
  forwardedConnections: number;
  /** Outbound connections dropped because the network is restricted. */
  restricted: number;
  /** Bugs: an exception escaped while handling an event (it is caught, counted and logged). */
  internalErrors: number;
  tcp: TcpStats;
}

export interface UserNetwork extends EthernetWire {
  readonly stats: UserNetworkStats;
  /** Resolves once every port forward listens (with the ports bound); rejects when one cannot. */
  readonly ready: Promise<readonly BoundForward[]>;
  /** The virtual address of an embedded host name, as the DNS server answers it. */
  addressOf(name: string): string | undefined;
  /** Stops listening, drops every connection and host socket, and closes the capture. */
  close(): void;
}

export function createUserNetwork(options: UserNetworkOptions): UserNetwork {
  return new UserNetworkImpl(options);
}

/** The default seed for initial sequence numbers. */
const DEFAULT_SEED = 0x7ca1f00d;
const GATEWAY_MAC = virtualMac(GATEWAY);
const HTTP_PORT = 80;
/** Ports the gateway uses for connections it opens to the guest (port forwards). */
const EPHEMERAL_FIRST = 49152;
const EPHEMERAL_COUNT = 16384;
const RESTRICTED_LOG_LIMIT = 20;

interface EmbeddedHost {
  readonly name: string;
  readonly address: Ipv4;
  readonly services: Map<number, TcpService>;
}

type TcpTarget =
  | { readonly kind: "service"; readonly service: TcpService }
  | { readonly kind: "nat"; readonly address: string; readonly port: number }
  | { readonly kind: "closed" }
  | { readonly kind: "restricted" }
  | { readonly kind: "drop" };

function emptyStats(): UserNetworkStats {
  return {
    framesFromGuest: 0,
    framesToGuest: 0,
    bytesFromGuest: 0,
    bytesToGuest: 0,
    malformed: 0,
    malformedByReason: {},
    ignored: 0,
    ignoredByReason: {},
    undeliverable: 0,
    arpReplies: 0,
    icmpEchoReplies: 0,
    dhcpReplies: 0,
    dnsQueries: 0,
    natConnections: 0,
    forwardedConnections: 0,
    restricted: 0,
    internalErrors: 0,
    tcp: emptyTcpStats(),
  };
}

function connectionKey(remote: Ipv4, remotePort: number, local: Ipv4, localPort: number): string {
  return `${remote}:${remotePort}>${local}:${localPort}`;
}

class UserNetworkImpl implements UserNetwork {
  readonly stats = emptyStats();
  readonly ready: Promise<readonly BoundForward[]>;

  private readonly clock: MachineClock;
  private readonly host: HostEvents;
  private readonly log: (message: string) => void;
  private readonly restrict: boolean;
  private readonly sockets: HostSockets;
  private readonly random: () => number;
  private readonly arp: ArpTable;
  private readonly dhcp: DhcpServer;
  private readonly dns: DnsServer;
  private readonly hosts = new Map<Ipv4, EmbeddedHost>();
  private readonly connections = new Map<string, TcpConnection>();
  private readonly forwarder: PortForwarder;
  private readonly pcap: PcapWriter | undefined;
  private readonly restrictedLogged = new Set<string>();

  private receiver: ((frame: Uint8Array) => void) | undefined;
  private readonly outbox: Uint8Array[] = [];
  /** Events in progress: frames they produce wait in the outbox until the outermost one ends. */
  private depth = 0;
  private flushing = false;
  private closed = false;
  private identification = 0;
  private nextEphemeral = 0;

  constructor(options: UserNetworkOptions) {
    this.log = options.log ?? (() => {});
    this.restrict = options.restrict ?? false;
    // Every timer and host event runs through run(): it finishes its work before any frame it
    // produced reaches the guest, so a NIC that answers synchronously never re-enters the stack.
    const clock = options.clock;
    this.clock = {
      get nowNs() {
        return clock.nowNs;
      },
      at: (atNs, fire) => clock.at(atNs, () => this.run(fire)),
    };
    this.host = {
      post: (event) => options.host.post(() => this.run(event)),
      openSource: () => options.host.openSource(),
    };
    this.sockets = (options.sockets ?? nodeHostSockets)(this.host);
    this.random = seededRandom(options.seed ?? DEFAULT_SEED);
    this.arp = new ArpTable(
      this.clock,
      (address) => this.sendArpRequest(address),
      (count) => (this.stats.undeliverable += count),
    );
    this.dhcp = new DhcpServer({ router: !this.restrict });
    this.dns = new DnsServer(
      options.resolveOutside ? (name, done) => this.sockets.lookup(name, done) : undefined,
    );

    const words = new WordService({ seed: options.wordSeed, word: options.word });
    this.addHost({
      name: TRUSTWORTHY_SYSTEMS_NAME,
      address: formatIpv4(TRUSTWORTHY_SYSTEMS),
      routes: { ...trustworthySystemsRoutes(words), ...options.routes },
    });
    for (const host of options.hosts ?? []) this.addHost(host);

    this.forwarder = new PortForwarder(options.forwards ?? [], this.sockets, (address, port, socket) =>
      this.forwardToGuest(address, port, socket),
    );
    const pcap = options.pcap;
    this.pcap =
      pcap === undefined
        ? undefined
        : new PcapWriter(typeof pcap === "string" ? pcapFile(pcap) : pcap, clock);
    this.ready = this.forwarder.start();
    this.ready.catch((error: Error) => this.log(`user network: port forward failed: ${error.message}`));
  }

  // --- EthernetWire ---

  connect(receive: (frame: Uint8Array) => void): void {
    this.receiver = receive;
  }

  transmit(frame: Uint8Array): void {
    if (this.closed) return;
    this.stats.framesFromGuest++;
    this.stats.bytesFromGuest += frame.length;
    this.pcap?.record(frame);
    this.run(() => this.handleFrame(frame));
  }

  addressOf(name: string): string | undefined {
    const address = this.dns.lookupName(name);
    return address === undefined ? undefined : formatIpv4(address);
  }

  close(): void {
    if (this.closed) return;
    this.run(() => {
      this.closed = true;
      this.forwarder.close();
      for (const connection of [...this.connections.values()]) connection.destroy();
      this.connections.clear();
      this.arp.close();
      this.pcap?.close();
    });
  }

  // --- event plumbing ---

  private run(work: () => void): void {
    this.depth++;
    try {
      work();
    } catch (error) {
      // Guest input must never take the host down; an exception here is our bug, made visible.
      this.stats.internalErrors++;
      this.log(`user network: internal error: ${(error as Error).stack ?? String(error)}`);
    } finally {
      this.depth--;
    }
    this.flush();
  }

  private emit(frame: Uint8Array): void {
    if (this.closed) return;
    this.stats.framesToGuest++;
    this.stats.bytesToGuest += frame.length;
    this.pcap?.record(frame);
    this.outbox.push(frame);
    this.flush();
  }

  /** Hands queued frames to the guest, in order, unless an event is still running or already flushing. */
  private flush(): void {
    if (this.depth > 0 || this.flushing) return;
    this.flushing = true;
    let delivered = 0;
    try {
      while (delivered < this.outbox.length) {
        const frame = this.outbox[delivered++]!;
        if (this.receiver) this.receiver(frame);
        else this.stats.undeliverable++;
      }
    } finally {
      // Even when the receiver throws, what it was given is not given again.
      this.outbox.splice(0, delivered);
      this.flushing = false;
    }
  }

  private malformed(reason: string): void {
    this.stats.malformed++;
    this.stats.malformedByReason[reason] = (this.stats.malformedByReason[reason] ?? 0) + 1;
  }

  private ignored(reason: string): void {
    this.stats.ignored++;
    this.stats.ignoredByReason[reason] = (this.stats.ignoredByReason[reason] ?? 0) + 1;
  }

  // --- configuration ---

  private addHost(options: EmbeddedHostOptions): void {
    const name = normaliseHostName(options.name);
    if (this.dns.lookupName(name) !== undefined) throw new Error(`embedded host ${name} is defined twice`);
    const address = options.address === undefined ? this.freeHostAddress() : this.checkHostAddress(options);
    const services = new Map<number, TcpService>();
    if (options.routes) {
      const routes = options.routes;
      services.set(HTTP_PORT, (connection) => new HttpConnection(connection, routes, this.log));
    }
    for (const [port, service] of Object.entries(options.services ?? {})) {
      const number = Number(port);
      if (!Number.isInteger(number) || number < 1 || number > 65535) {
        throw new Error(`embedded host ${name}: service port ${port} is not 1-65535`);
      }
      services.set(number, service);
    }
    this.hosts.set(address, { name, address, services });
    this.dns.addHost(name, address);
  }

  private checkHostAddress(options: EmbeddedHostOptions): Ipv4 {
    const address = parseIpv4(options.address ?? "");
    const problem =
      address === undefined
        ? "is not an IPv4 address"
        : !inNetwork(address) || address === NETWORK || address === DIRECTED_BROADCAST
          ? "is not a host address in 10.0.2.0/24"
          : address === GATEWAY || address === NAMESERVER
            ? "is the gateway's or the DNS server's"
            : address >= FIRST_GUEST && address < FIRST_GUEST + GUEST_POOL_SIZE
              ? "is in the DHCP pool 10.0.2.15-10.0.2.30"
              : this.hosts.has(address)
                ? `is already ${this.hosts.get(address)!.name}'s`
                : undefined;
    if (problem) throw new Error(`embedded host ${options.name}: address ${options.address} ${problem}`);
    return address!;
  }

  private freeHostAddress(): Ipv4 {
    for (let address = TRUSTWORTHY_SYSTEMS + 1; address < DIRECTED_BROADCAST; address++) {
      if (!this.hosts.has(address)) return address;
    }
    throw new Error("no free address for another embedded host");
  }

  private isVirtual(address: Ipv4): boolean {
    return address === GATEWAY || address === NAMESERVER || this.hosts.has(address);
  }

  // --- frames from the guest ---

  private handleFrame(frame: Uint8Array): void {
    const ethernet = parseEthernet(frame);
    if (!ethernet) return this.malformed("ethernet-truncated");
    if (isGroupMac(ethernet.source)) return this.malformed("ethernet-group-source");
    const broadcast = ethernet.destination.every((byte) => byte === 0xff);
    if (isGroupMac(ethernet.destination) && !broadcast) return this.ignored("multicast");
    const payload = frame.subarray(14);
    switch (ethernet.type) {
      case ETHERTYPE_ARP:
        return this.handleArp(payload);
      case ETHERTYPE_IPV4:
        return this.handleIpv4(payload, Uint8Array.from(ethernet.source));
      default:
        return this.ignored(ethernet.type === 0x86dd ? "ipv6" : "ethertype");
    }
  }

  private handleArp(payload: Uint8Array): void {
    const message = parseArp(payload);
    if (!message) return this.malformed("arp");
    if (this.learnable(message.senderIp)) this.arp.learn(message.senderIp, message.senderMac);
    if (message.operation !== ARP_REQUEST || !this.isVirtual(message.targetIp)) return;
    const mac = virtualMac(message.targetIp);
    const reply = buildArp({
      operation: ARP_REPLY,
      senderMac: mac,
      senderIp: message.targetIp,
      targetMac: message.senderMac,
      targetIp: message.senderIp,
    });
    this.stats.arpReplies++;
    this.emit(buildEthernet(message.senderMac, mac, ETHERTYPE_ARP, reply));
  }

  /** A guest's own unicast address (not ours, not a wildcard, broadcast, multicast or loopback). */
  private learnable(address: Ipv4): boolean {
    const first = address >>> 24;
    return (
      address !== 0 &&
      address !== LIMITED_BROADCAST &&
      address !== DIRECTED_BROADCAST &&
      first !== 127 &&
      first < 224 &&
      !this.isVirtual(address)
    );
  }

  private handleIpv4(payload: Uint8Array, sourceMac: Mac): void {
    const packet = parseIpv4Packet(payload);
    if (typeof packet === "string") return this.malformed(`ipv4-${packet}`);
    if (packet.fragment) return this.ignored("ipv4-fragment");
    if (this.learnable(packet.source)) this.arp.learn(packet.source, sourceMac);
    switch (packet.protocol) {
      case PROTOCOL_UDP:
        return this.handleUdp(packet, sourceMac);
      case PROTOCOL_ICMP:
        return this.handleIcmp(packet, sourceMac);
      case PROTOCOL_TCP:
        return this.handleTcp(packet);
      default:
        if (!this.isVirtual(packet.destination)) return this.ignored("ipv4-protocol");
        return this.sendIcmpError(packet, UNREACHABLE_PROTOCOL, sourceMac);
    }
  }

  private handleIcmp(packet: Ipv4Packet, sourceMac: Mac): void {
    if (!this.isVirtual(packet.destination)) return this.ignored("icmp-beyond-network");
    if (packet.payload[0] !== ICMP_ECHO_REQUEST) return this.ignored("icmp-type");
    const reply = echoReply(packet.payload);
    if (!reply) return this.malformed("icmp");
    this.stats.icmpEchoReplies++;
    this.sendIp(packet.destination, packet.source, PROTOCOL_ICMP, reply, sourceMac);
  }

  private handleUdp(packet: Ipv4Packet, sourceMac: Mac): void {
    const datagram = parseUdp(packet.source, packet.destination, packet.payload);
    if (typeof datagram === "string") return this.malformed(`udp-${datagram}`);
    const { destination } = packet;
    const toBroadcast = destination === LIMITED_BROADCAST || destination === DIRECTED_BROADCAST;
    if (datagram.destinationPort === DHCP_SERVER_PORT && (toBroadcast || destination === GATEWAY)) {
      const reply = this.dhcp.handle(datagram.payload);
      if (!reply) return;
      this.stats.dhcpReplies++;
      const udp = buildUdp(GATEWAY, DHCP_SERVER_PORT, reply.destinationIp, DHCP_CLIENT_PORT, reply.payload);
      const ip = buildIpv4(GATEWAY, reply.destinationIp, PROTOCOL_UDP, this.nextIdentification(), udp);
      if (reply.destinationIp !== LIMITED_BROADCAST)
        this.arp.learn(reply.destinationIp, reply.destinationMac);
      return this.emit(buildEthernet(reply.destinationMac, GATEWAY_MAC, ETHERTYPE_IPV4, ip));
    }
    if (destination === NAMESERVER && datagram.destinationPort === DNS_PORT) {
      this.stats.dnsQueries++;
      const { source } = packet;
      const port = datagram.sourcePort;
      return this.dns.handle(datagram.payload, (response) => {
        const udp = buildUdp(NAMESERVER, DNS_PORT, source, port, response);
        this.sendIp(NAMESERVER, source, PROTOCOL_UDP, udp, sourceMac);
      });
    }
    if (this.isVirtual(destination)) return this.sendIcmpError(packet, UNREACHABLE_PORT, sourceMac);
    this.ignored(toBroadcast ? "udp-broadcast" : "udp-beyond-network");
  }

  private sendIcmpError(packet: Ipv4Packet, code: number, sourceMac: Mac): void {
    const message = unreachable(code, packet.datagram, packet.headerLength);
    this.sendIp(packet.destination, packet.source, PROTOCOL_ICMP, message, sourceMac);
  }

  // --- TCP ---

  private handleTcp(packet: Ipv4Packet): void {
    const segment = parseTcp(packet.source, packet.destination, packet.payload);
    if (typeof segment === "string") return this.malformed(`tcp-${segment}`);
    const key = connectionKey(packet.source, segment.sourcePort, packet.destination, segment.destinationPort);
    let connection = this.connections.get(key);
    const opening = (segment.flags & (SYN | ACK | RST)) === SYN;
    if (connection && opening && connection.acceptsNewSyn(segment)) {
      connection.destroy();
      connection = undefined;
    }
    if (connection) return connection.input(segment);
    if (segment.flags & RST) return;
    if (!opening) return this.resetUnknown(packet, segment);
    const target = this.tcpTarget(packet.destination, segment.destinationPort);
    const endpoints: TcpEndpoints = {
      localAddress: packet.destination,
      localPort: segment.destinationPort,
      remoteAddress: packet.source,
      remotePort: segment.sourcePort,
    };
    switch (target.kind) {
      case "drop":
        return this.ignored("tcp-broadcast");
      case "closed":
        return this.resetUnknown(packet, segment);
      case "restricted":
        return this.refuseRestricted(packet.destination, segment.destinationPort);
      case "service": {
        connection = TcpConnection.listen(this.tcpEnvironment(endpoints, key), endpoints, this.random());
        connection.handler = target.service(connection);
        break;
      }
      case "nat": {
        connection = TcpConnection.listen(this.tcpEnvironment(endpoints, key), endpoints, this.random(), {
          deferAccept: true,
        });
        const bridge = new SocketBridge(this.sockets.connect(target.address, target.port), "nat");
        bridge.attach(connection);
        connection.handler = bridge.handler;
        this.stats.natConnections++;
        break;
      }
    }
    this.connections.set(key, connection);
    connection.input(segment);
  }

  private tcpTarget(destination: Ipv4, port: number): TcpTarget {
    const service = this.hosts.get(destination)?.services.get(port);
    if (service) return { kind: "service", service };
    if (destination === NAMESERVER) {
      if (port !== DNS_PORT) return { kind: "closed" };
      return { kind: "service", service: (connection) => new DnsTcpConnection(connection, this.dns) };
    }
    if (
      destination === LIMITED_BROADCAST ||
      destination === DIRECTED_BROADCAST ||
      destination >>> 28 === 0xe
    ) {
      return { kind: "drop" };
    }
    if (destination === GATEWAY) {
      // The gateway is the host: QEMU connects to the host's loopback.
      return this.restrict ? { kind: "restricted" } : { kind: "nat", address: "127.0.0.1", port };
    }
    if (inNetwork(destination) || destination === 0) return { kind: "closed" };
    return this.restrict ? { kind: "restricted" } : { kind: "nat", address: formatIpv4(destination), port };
  }

  /** QEMU's restrict=on drops such packets; so do we, and say so (a few times) in the log. */
  private refuseRestricted(destination: Ipv4, port: number): void {
    this.stats.restricted++;
    const where = `${formatIpv4(destination)}:${port}`;
    if (this.restrictedLogged.has(where) || this.restrictedLogged.size >= RESTRICTED_LOG_LIMIT) return;
    this.restrictedLogged.add(where);
    this.log(`user network: restricted: dropped the guest's connection to ${where} (NAT is off)`);
  }

  /** The reset a closed port sends (RFC 793 p. 36). */
  private resetUnknown(packet: Ipv4Packet, segment: TcpSegment): void {
    this.stats.tcp.resetsSent++;
    const length = segment.payload.length + (segment.flags & SYN ? 1 : 0) + (segment.flags & FIN ? 1 : 0);
    const reply: TcpOutgoing =
      segment.flags & ACK
        ? { seq: segment.ack, ack: 0, flags: RST, window: 0, payload: new Uint8Array(0) }
        : {
            seq: 0,
            ack: seqAdd(segment.seq, length),
            flags: RST | ACK,
            window: 0,
            payload: new Uint8Array(0),
          };
    const tcp = buildTcp(
      packet.destination,
      segment.destinationPort,
      packet.source,
      segment.sourcePort,
      reply,
    );
    this.sendIp(packet.destination, packet.source, PROTOCOL_TCP, tcp);
  }

  private tcpEnvironment(endpoints: TcpEndpoints, key: string): TcpEnvironment {
    return {
      clock: this.clock,
      stats: this.stats.tcp,
      send: (segment) => {
        const tcp = buildTcp(
          endpoints.localAddress,
          endpoints.localPort,
          endpoints.remoteAddress,
          endpoints.remotePort,
          segment,
        );
        this.sendIp(endpoints.localAddress, endpoints.remoteAddress, PROTOCOL_TCP, tcp);
      },
      released: (connection) => {
        if (this.connections.get(key) === connection) this.connections.delete(key);
      },
    };
  }

  /** A host connection accepted by a port forward: the gateway connects to the guest. */
  private forwardToGuest(guestAddress: Ipv4, guestPort: number, socket: HostSocket): void {
    if (this.closed) return socket.destroy();
    const localPort = this.ephemeralPort(guestAddress, guestPort);
    if (localPort === undefined) return socket.destroy();
    const endpoints: TcpEndpoints = {
      localAddress: GATEWAY,
      localPort,
      remoteAddress: guestAddress,
      remotePort: guestPort,
    };
    const key = connectionKey(guestAddress, guestPort, GATEWAY, localPort);
    const bridge = new SocketBridge(socket, "forward");
    const connection = TcpConnection.open(
      this.tcpEnvironment(endpoints, key),
      endpoints,
      this.random(),
      bridge.handler,
    );
    bridge.attach(connection);
    this.connections.set(key, connection);
    this.stats.forwardedConnections++;
  }

  private ephemeralPort(guestAddress: Ipv4, guestPort: number): number | undefined {
    for (let tries = 0; tries < EPHEMERAL_COUNT; tries++) {
      const port = EPHEMERAL_FIRST + this.nextEphemeral;
      this.nextEphemeral = (this.nextEphemeral + 1) % EPHEMERAL_COUNT;
      if (!this.connections.has(connectionKey(guestAddress, guestPort, GATEWAY, port))) return port;
    }
    return undefined;
  }

  // --- frames to the guest ---

  private nextIdentification(): number {
    this.identification = (this.identification + 1) & 0xffff;
    return this.identification;
  }

  /**
   * Sends a datagram to the guest. Replies go to the MAC the request came from; other datagrams to
   * the address ARP knows (asking for it first when it is unknown).
   */
  private sendIp(source: Ipv4, destination: Ipv4, protocol: number, payload: Uint8Array, mac?: Mac): void {
    const datagram = buildIpv4(source, destination, protocol, this.nextIdentification(), payload);
    // Virtual hosts send from their own MAC; NAT traffic comes through the gateway.
    const sourceMac = this.isVirtual(source) ? virtualMac(source) : GATEWAY_MAC;
    if (destination === LIMITED_BROADCAST || destination === DIRECTED_BROADCAST) {
      return this.emit(buildEthernet(BROADCAST_MAC, sourceMac, ETHERTYPE_IPV4, datagram));
    }
    const known = mac ?? this.arp.lookup(destination);
    if (known) return this.emit(buildEthernet(known, sourceMac, ETHERTYPE_IPV4, datagram));
    this.arp.resolve(destination, (resolved) =>
      this.emit(buildEthernet(resolved, sourceMac, ETHERTYPE_IPV4, datagram)),
    );
  }

  private sendArpRequest(address: Ipv4): void {
    const request = buildArp({
      operation: ARP_REQUEST,
      senderMac: GATEWAY_MAC,
      senderIp: GATEWAY,
      targetMac: new Uint8Array(6),
      targetIp: address,
    });
    this.emit(buildEthernet(BROADCAST_MAC, GATEWAY_MAC, ETHERTYPE_ARP, request));
  }
}
