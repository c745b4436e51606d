// The user network's link and network layers as a guest meets them: ARP, DHCP, ICMP echo and
// unreachables, with QEMU's addresses.
import { describe, expect, it } from "vitest";
import { dhcpDatagram, optionAddress, optionNumber, readDhcpReply } from "./dhcp-client.ts";
import { arpRequest, ethernet, ipv4 } from "./frames.ts";
import { GATEWAY_MAC, GUEST_MAC, TestGuest } from "./guest.ts";

describe("ARP", () => {
  it("answers for the gateway, the DNS server and trustworthy.systems with 52:55 + address", () => {
    const guest = new TestGuest();
    for (const [target, expected] of [
      ["10.0.2.2", "52:55:0a:00:02:02"],
      ["10.0.2.3", "52:55:0a:00:02:03"],
      ["10.0.2.100", "52:55:0a:00:02:64"],
    ] as const) {
      guest.send(arpRequest(GUEST_MAC, "10.0.2.15", target));
      const [reply, ...rest] = guest.take();
      expect(rest).toEqual([]);
      expect(reply!.destination).toBe(GUEST_MAC);
      expect(reply!.source).toBe(expected);
      expect(reply!.arp).toEqual({
        operation: 2,
        senderMac: expected,
        senderIp: target,
        targetMac: GUEST_MAC,
        targetIp: "10.0.2.15",
      });
    }
    expect(guest.net.stats.arpReplies).toBe(3);
  });

  it("stays silent for addresses nobody has", () => {
    const guest = new TestGuest();
    for (const target of ["10.0.2.15", "10.0.2.50", "10.0.2.1", "192.168.1.1"]) {
      guest.send(arpRequest(GUEST_MAC, "10.0.2.15", target));
    }
    expect(guest.take()).toEqual([]);
  });

  it("answers embedded hosts added by options, at the address given or the next free one", () => {
    const guest = new TestGuest({
      hosts: [
        { name: "files.example", address: "10.0.2.42", routes: {} },
        { name: "auto.example", routes: {} },
      ],
    });
    expect(guest.net.addressOf("files.example")).toBe("10.0.2.42");
    expect(guest.net.addressOf("AUTO.example.")).toBe("10.0.2.101");
    guest.send(arpRequest(GUEST_MAC, "10.0.2.15", "10.0.2.101"));
    expect(guest.take()[0]!.arp!.senderMac).toBe("52:55:0a:00:02:65");
  });

  it("rejects embedded hosts at addresses that are taken or outside the network", () => {
    const make = (address: string) => () => new TestGuest({ hosts: [{ name: "x.example", address }] });
    expect(make("10.0.2.2")).toThrow(/10.0.2.2 is the gateway's or the DNS server's/);
    expect(make("10.0.2.20")).toThrow(/DHCP pool/);
    expect(make("10.0.3.5")).toThrow(/not a host address in 10.0.2.0\/24/);
    expect(make("10.0.2.100")).toThrow(/already trustworthy.systems's/);
    expect(() => new TestGuest({ hosts: [{ name: "trustworthy.systems" }] })).toThrow(/defined twice/);
    expect(() => new TestGuest({ hosts: [{ name: "bad name!" }] })).toThrow(/not a valid host name/);
  });
});

describe("DHCP", () => {
  const xid = 0x1234abcd;

  it("offers 10.0.2.15 with QEMU's options and acknowledges the request (udhcpc's exchange)", () => {
    const guest = new TestGuest();
    guest.sendIp(dhcpDatagram({ type: 1, xid, clientMac: GUEST_MAC }), "ff:ff:ff:ff:ff:ff");
    const [offerFrame] = guest.take();
    // No broadcast flag: a unicast to the new address and the client's MAC (RFC 2131 4.1).
    expect(offerFrame!.destination).toBe(GUEST_MAC);
    expect(offerFrame!.source).toBe(GATEWAY_MAC);
    expect(offerFrame!.ip).toMatchObject({ source: "10.0.2.2", destination: "10.0.2.15", headerOk: true });
    expect(offerFrame!.udp).toMatchObject({ sourcePort: 67, destinationPort: 68, checksumOk: true });
    const offer = readDhcpReply(offerFrame!.udp!.payload);
    expect(offer).toMatchObject({ op: 2, xid, yiaddr: "10.0.2.15", chaddr: GUEST_MAC, type: 2 });
    expect(offer.length).toBeGreaterThanOrEqual(300);
    expect(optionAddress(offer.options.get(54))).toBe("10.0.2.2");
    expect(optionAddress(offer.options.get(1))).toBe("255.255.255.0");
    expect(optionAddress(offer.options.get(3))).toBe("10.0.2.2");
    expect(optionAddress(offer.options.get(6))).toBe("10.0.2.3");
    expect(optionNumber(offer.options.get(51))).toBe(86400);

    guest.sendIp(
      dhcpDatagram({ type: 3, xid, clientMac: GUEST_MAC, requested: "10.0.2.15", serverId: "10.0.2.2" }),
      "ff:ff:ff:ff:ff:ff",
    );
    const [ackFrame] = guest.take();
    const ack = readDhcpReply(ackFrame!.udp!.payload);
    expect(ack).toMatchObject({ type: 5, yiaddr: "10.0.2.15", xid });
    expect(optionNumber(ack.options.get(51))).toBe(86400);
    expect(guest.net.stats.dhcpReplies).toBe(2);
  });

  it("broadcasts when the client sets the broadcast flag", () => {
    const guest = new TestGuest();
    guest.sendIp(dhcpDatagram({ type: 1, xid, clientMac: GUEST_MAC, broadcast: true }), "ff:ff:ff:ff:ff:ff");
    const [offer] = guest.take();
    expect(offer!.destination).toBe("ff:ff:ff:ff:ff:ff");
    expect(offer!.ip!.destination).toBe("255.255.255.255");
    expect(readDhcpReply(offer!.udp!.payload).flags).toBe(0x8000);
  });

  it("refuses (NAK, broadcast) a request for an address it cannot give", () => {
    const guest = new TestGuest();
    guest.sendIp(
      dhcpDatagram({ type: 3, xid, clientMac: GUEST_MAC, requested: "10.0.2.99" }),
      "ff:ff:ff:ff:ff:ff",
    );
    const [nak] = guest.take();
    expect(nak!.destination).toBe("ff:ff:ff:ff:ff:ff");
    const reply = readDhcpReply(nak!.udp!.payload);
    expect(reply.type).toBe(6);
    expect(reply.yiaddr).toBe("0.0.0.0");
    expect(new TextDecoder().decode(reply.options.get(56))).toBe("requested address not available");
  });

  it("gives each MAC its own address, keeps it on renewal, and NAKs an address another MAC holds", () => {
    const guest = new TestGuest();
    const other = "52:54:00:00:00:02";
    guest.sendIp(dhcpDatagram({ type: 1, xid, clientMac: GUEST_MAC }), "ff:ff:ff:ff:ff:ff");
    guest.sendIp(dhcpDatagram({ type: 1, xid: 2, clientMac: other }), "ff:ff:ff:ff:ff:ff");
    const offers = guest.take().map((frame) => readDhcpReply(frame.udp!.payload).yiaddr);
    expect(offers).toEqual(["10.0.2.15", "10.0.2.16"]);
    guest.sendIp(
      dhcpDatagram({ type: 3, xid: 3, clientMac: other, requested: "10.0.2.15" }),
      "ff:ff:ff:ff:ff:ff",
    );
    expect(readDhcpReply(guest.take()[0]!.udp!.payload).type).toBe(6);
    // Renewing: unicast from the bound address, ciaddr set, no requested-address option.
    guest.sendIp(
      dhcpDatagram(
        { type: 3, xid: 4, clientMac: GUEST_MAC, clientAddress: "10.0.2.15" },
        "10.0.2.15",
        "10.0.2.2",
      ),
    );
    const [renewal] = guest.take();
    expect(renewal!.ip!.destination).toBe("10.0.2.15");
    expect(readDhcpReply(renewal!.udp!.payload)).toMatchObject({ type: 5, yiaddr: "10.0.2.15" });
  });

  it("leaves out the router when the network is restricted, as QEMU does", () => {
    const guest = new TestGuest({ restrict: true });
    guest.sendIp(dhcpDatagram({ type: 1, xid, clientMac: GUEST_MAC }), "ff:ff:ff:ff:ff:ff");
    const offer = readDhcpReply(guest.take()[0]!.udp!.payload);
    expect(offer.options.has(3)).toBe(false);
    expect(optionAddress(offer.options.get(6))).toBe("10.0.2.3");
  });

  it("ignores requests meant for another server", () => {
    const guest = new TestGuest();
    guest.sendIp(
      dhcpDatagram({ type: 3, xid, clientMac: GUEST_MAC, requested: "10.0.2.15", serverId: "10.0.2.9" }),
      "ff:ff:ff:ff:ff:ff",
    );
    expect(guest.take()).toEqual([]);
  });
});

describe("ICMP", () => {
  it("answers ten pings to the gateway with the same identifier, sequence numbers and data", () => {
    const guest = new TestGuest();
    const data = Array.from({ length: 56 }, (_, i) => i);
    for (let sequence = 0; sequence < 10; sequence++) guest.ping("10.0.2.2", 0x77, sequence, data);
    const replies = guest.take();
    expect(replies).toHaveLength(10);
    replies.forEach((reply, sequence) => {
      expect(reply.destination).toBe(GUEST_MAC);
      expect(reply.ip).toMatchObject({ source: "10.0.2.2", destination: "10.0.2.15", headerOk: true });
      expect(reply.icmp).toMatchObject({ type: 0, code: 0, checksumOk: true });
      expect(Array.from(reply.icmp!.body)).toEqual([0, 0x77, 0, sequence, ...data]);
    });
    expect(guest.net.stats.icmpEchoReplies).toBe(10);
  });

  it("answers pings to the DNS server and trustworthy.systems, not to the outside", () => {
    const guest = new TestGuest();
    guest.ping("10.0.2.3", 1, 1, [1, 2, 3]);
    guest.ping("10.0.2.100", 1, 2, [1, 2, 3]);
    guest.ping("8.8.8.8", 1, 3, [1, 2, 3]);
    expect(guest.take().map((frame) => frame.ip!.source)).toEqual(["10.0.2.3", "10.0.2.100"]);
    expect(guest.net.stats.ignoredByReason["icmp-beyond-network"]).toBe(1);
  });

  it("reports a closed UDP port on a virtual host as port unreachable, quoting the datagram", () => {
    const guest = new TestGuest();
    guest.udp("10.0.2.2", 5555, 9999, [1, 2, 3, 4]);
    const [error] = guest.take();
    expect(error!.icmp).toMatchObject({ type: 3, code: 3, checksumOk: true });
    // Unused word, then the original IP header and the first 8 bytes of UDP.
    const quoted = error!.icmp!.body.subarray(4);
    expect(quoted.length).toBe(28);
    expect(quoted[9]).toBe(17);
    expect((quoted[22]! << 8) | quoted[23]!).toBe(9999);
  });

  it("reports an unknown protocol to a virtual host as protocol unreachable", () => {
    const guest = new TestGuest();
    guest.sendIp(ipv4("10.0.2.15", "10.0.2.2", 99, [1, 2, 3, 4]));
    expect(guest.take()[0]!.icmp).toMatchObject({ type: 3, code: 2 });
  });
});

describe("frames nobody handles", () => {
  it("counts IPv6, multicast and UDP beyond the network as ignored, malformed frames as malformed", () => {
    const guest = new TestGuest();
    guest.send(ethernet("33:33:00:00:00:01", GUEST_MAC, 0x86dd, new Array(40).fill(0)));
    guest.send(ethernet(GATEWAY_MAC, GUEST_MAC, 0x86dd, new Array(40).fill(0)));
    guest.udp("192.0.2.1", 1000, 2000, [1]);
    guest.send(new Uint8Array(5));
    const bad = ipv4("10.0.2.15", "10.0.2.2", 1, [8, 0, 0, 0]);
    bad[10] ^= 0xff; // header checksum
    guest.sendIp(bad);
    expect(guest.take()).toEqual([]);
    expect(guest.net.stats).toMatchObject({ ignored: 3, malformed: 2, internalErrors: 0 });
    expect(guest.net.stats.malformedByReason).toEqual({ "ethernet-truncated": 1, "ipv4-checksum": 1 });
  });
});
