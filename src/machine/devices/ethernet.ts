// The wire a network device model is plugged into: frames go out to a back-end (the user-mode
// network, a pcap tap, another machine) and frames come back, with no host I/O in the device.

export interface EthernetWire {
  /** A frame the device transmitted: destination MAC first, no preamble or FCS. The wire copies what it keeps. */
  transmit(frame: Uint8Array): void;
  /** Connects the device's receiver: the wire calls `receive` with each frame sent to the device. */
  connect(receive: (frame: Uint8Array) => void): void;
}
