// Packet capture in the classic pcap format (LINKTYPE_ETHERNET, microsecond timestamps).
//
// Readable with tcpdump or Wireshark. Timestamps come from the machine clock, so the same run gives
// the same capture.

import type { MachineClock } from "../../clock.ts";

/** Where capture bytes go; the records it is given are its own to keep. */
export interface PcapSink {
  write(bytes: Uint8Array): void;
  /** Called when the network closes (a file sink flushes and closes its file). */
  close?(): void;
}

const MAGIC = 0xa1b2c3d4;
const LINKTYPE_ETHERNET = 1;
/** The largest frame recorded whole; longer ones (not seen on a 1500-byte MTU) are cut. */
export const PCAP_SNAPLEN = 262144;
export const PCAP_GLOBAL_HEADER = 24;
export const PCAP_RECORD_HEADER = 16;

export class PcapWriter {
  constructor(
    private readonly sink: PcapSink,
    private readonly clock: MachineClock,
  ) {
    const header = new DataView(new ArrayBuffer(PCAP_GLOBAL_HEADER));
    header.setUint32(0, MAGIC, true);
    header.setUint16(4, 2, true); // version 2.4
    header.setUint16(6, 4, true);
    header.setInt32(8, 0, true); // timestamps are UTC: no zone correction
    header.setUint32(12, 0, true);
    header.setUint32(16, PCAP_SNAPLEN, true);
    header.setUint32(20, LINKTYPE_ETHERNET, true);
    sink.write(new Uint8Array(header.buffer));
  }

  record(frame: Uint8Array): void {
    const ns = this.clock.nowNs;
    const kept = Math.min(frame.length, PCAP_SNAPLEN);
    const record = new Uint8Array(PCAP_RECORD_HEADER + kept);
    const view = new DataView(record.buffer);
    view.setUint32(0, Math.floor(ns / 1e9), true);
    view.setUint32(4, Math.floor((ns % 1e9) / 1000), true);
    view.setUint32(8, kept, true);
    view.setUint32(12, frame.length, true);
    record.set(frame.subarray(0, kept), PCAP_RECORD_HEADER);
    this.sink.write(record);
  }

  close(): void {
    this.sink.close?.();
  }
}
