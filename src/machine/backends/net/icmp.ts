// ICMP (RFC 792): echo replies for the virtual hosts and the destination-unreachable errors.

import { checksum } from "./addresses.ts";

export const ICMP_ECHO_REPLY = 0;
export const ICMP_UNREACHABLE = 3;
export const ICMP_ECHO_REQUEST = 8;
export const UNREACHABLE_PROTOCOL = 2;
export const UNREACHABLE_PORT = 3;

/**
 * The echo reply to an echo request (`message` is the ICMP message), or undefined when `message` is
 * not a well-formed echo request. Identifier, sequence number and data come back unchanged.
 */
export function echoReply(message: Uint8Array): Uint8Array | undefined {
  if (message.length < 8 || message[0] !== ICMP_ECHO_REQUEST || message[1] !== 0) return undefined;
  if (checksum(message, 0, message.length) !== 0) return undefined;
  const reply = Uint8Array.from(message);
  reply[0] = ICMP_ECHO_REPLY;
  reply[2] = 0;
  reply[3] = 0;
  const sum = checksum(reply, 0, reply.length);
  reply[2] = sum >>> 8;
  reply[3] = sum & 0xff;
  return reply;
}

/** A destination-unreachable message quoting the offending datagram's header and first 8 data bytes. */
export function unreachable(code: number, datagram: Uint8Array, headerLength: number): Uint8Array {
  const quoted = datagram.subarray(0, Math.min(datagram.length, headerLength + 8));
  const message = new Uint8Array(8 + quoted.length);
  message[0] = ICMP_UNREACHABLE;
  message[1] = code;
  message.set(quoted, 8);
  const sum = checksum(message, 0, message.length);
  message[2] = sum >>> 8;
  message[3] = sum & 0xff;
  return message;
}
