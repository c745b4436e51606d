// The DNS server at 10.0.2.3 (RFC 1035): embedded names, and the host's resolver when allowed.
//
// Other names get NXDOMAIN unless resolving outside is on. Every query gets an answer (SERVFAIL when
// the host's resolver fails), so a guest never waits on us.

import { parseIpv4, writeIpv4, type Ipv4 } from "./addresses.ts";

export const DNS_PORT = 53;

const TYPE_A = 1;
const TYPE_PTR = 12;
const CLASS_IN = 1;
const TYPE_ANY = 255;

export const RCODE_OK = 0;
export const RCODE_FORMAT_ERROR = 1;
export const RCODE_SERVER_FAILURE = 2;
export const RCODE_NAME_ERROR = 3;
export const RCODE_NOT_IMPLEMENTED = 4;

const HEADER = 12;
/** Time-to-live of embedded names: short, so a changed configuration shows after a restart. */
const EMBEDDED_TTL = 300;
/** The host's resolver gives no TTL; a minute keeps guests from caching stale answers for long. */
const OUTSIDE_TTL = 60;
/** Classic DNS over UDP: at most 512 bytes, so at most this many A records after a question. */
const MAX_ANSWERS = 16;

export type OutsideAnswer =
  { readonly addresses: readonly Ipv4[] } | { readonly error: "not-found" | "failure" };
/**
 * Resolves a name with the host's resolver and calls `done` inside the emulator's event loop.
 * Only IPv4 addresses count: the virtual network has no IPv6.
 */
export type OutsideLookup = (name: string, done: (answer: OutsideAnswer) => void) => void;

interface Question {
  /** Lower case, without the trailing dot. */
  readonly name: string;
  readonly type: number;
  readonly qclass: number;
  /** The question's bytes as received (name, type, class), echoed in the reply. */
  readonly bytes: Uint8Array;
}

interface Query {
  readonly id: number;
  readonly flags: number;
  readonly question: Question | undefined;
  readonly problem: number;
}

function parseQuery(bytes: Uint8Array): Query | undefined {
  if (bytes.length < HEADER) return undefined;
  const id = (bytes[0]! << 8) | bytes[1]!;
  const flags = (bytes[2]! << 8) | bytes[3]!;
  if (flags & 0x8000) return undefined; // a response, not a query: never answer those
  const opcode = (flags >>> 11) & 0xf;
  if (opcode !== 0) return { id, flags, question: undefined, problem: RCODE_NOT_IMPLEMENTED };
  const questions = (bytes[4]! << 8) | bytes[5]!;
  const formatError = { id, flags, question: undefined, problem: RCODE_FORMAT_ERROR };
  if (questions !== 1) return formatError;
  const labels: string[] = [];
  let at = HEADER;
  let nameLength = 0;
  for (;;) {
    if (at >= bytes.length) return formatError;
    const length = bytes[at]!;
    // Compression pointers have no place in a lone question; anything over 63 is not a label.
    if (length > 63) return formatError;
    at++;
    if (length === 0) break;
    if (at + length > bytes.length) return formatError;
    nameLength += length + 1;
    if (nameLength > 255) return formatError;
    labels.push(String.fromCharCode(...bytes.subarray(at, at + length)).toLowerCase());
    at += length;
  }
  if (at + 4 > bytes.length) return formatError;
  const type = (bytes[at]! << 8) | bytes[at + 1]!;
  const qclass = (bytes[at + 2]! << 8) | bytes[at + 3]!;
  const question = { name: labels.join("."), type, qclass, bytes: bytes.slice(HEADER, at + 4) };
  return { id, flags, question, problem: RCODE_OK };
}

interface ResourceRecord {
  readonly type: number;
  readonly ttl: number;
  readonly data: Uint8Array;
}

function buildResponse(
  query: Query,
  rcode: number,
  authoritative: boolean,
  answers: readonly ResourceRecord[],
): Uint8Array {
  const questionBytes = query.question?.bytes ?? new Uint8Array(0);
  const kept = answers.slice(0, MAX_ANSWERS);
  const length =
    HEADER + questionBytes.length + kept.reduce((sum, record) => sum + 12 + record.data.length, 0);
  const bytes = new Uint8Array(length);
  bytes[0] = query.id >>> 8;
  bytes[1] = query.id & 0xff;
  // QR, the query's opcode and RD, AA for our own names, RA: we recurse on the guest's behalf.
  const flags = 0x8000 | (query.flags & 0x7900) | (authoritative ? 0x0400 : 0) | 0x0080 | rcode;
  bytes[2] = flags >>> 8;
  bytes[3] = flags & 0xff;
  bytes[5] = query.question ? 1 : 0;
  bytes[7] = kept.length;
  bytes.set(questionBytes, HEADER);
  let at = HEADER + questionBytes.length;
  for (const record of kept) {
    // The owner name is the question's: a pointer to offset 12.
    bytes.set([0xc0, HEADER, record.type >>> 8, record.type & 0xff, 0, CLASS_IN], at);
    bytes[at + 6] = record.ttl >>> 24;
    bytes[at + 7] = (record.ttl >>> 16) & 0xff;
    bytes[at + 8] = (record.ttl >>> 8) & 0xff;
    bytes[at + 9] = record.ttl & 0xff;
    bytes[at + 10] = record.data.length >>> 8;
    bytes[at + 11] = record.data.length & 0xff;
    bytes.set(record.data, at + 12);
    at += 12 + record.data.length;
  }
  return bytes;
}

function addressRecord(address: Ipv4, ttl: number): ResourceRecord {
  const data = new Uint8Array(4);
  writeIpv4(data, 0, address);
  return { type: TYPE_A, ttl, data };
}

function nameRecord(name: string): ResourceRecord {
  const parts: number[] = [];
  for (const label of name.split(".")) parts.push(label.length, ...Array.from(label, (c) => c.charCodeAt(0)));
  parts.push(0);
  return { type: TYPE_PTR, ttl: EMBEDDED_TTL, data: Uint8Array.from(parts) };
}

/** `10.0.2.100` for `100.2.0.10.in-addr.arpa`, else undefined. */
function reverseName(name: string): Ipv4 | undefined {
  const suffix = ".in-addr.arpa";
  if (!name.endsWith(suffix)) return undefined;
  return parseIpv4(name.slice(0, -suffix.length).split(".").reverse().join("."));
}

/** Host names must be DNS names: letters, digits, hyphens and dots. */
export function normaliseHostName(name: string): string {
  const lower = name.toLowerCase().replace(/\.$/, "");
  if (
    !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(lower) ||
    lower.length > 253
  ) {
    throw new Error(`not a valid host name: ${JSON.stringify(name)}`);
  }
  return lower;
}

export class DnsServer {
  private readonly names = new Map<string, Ipv4>();

  /** `outside` is absent when names outside the virtual network must not be resolved. */
  constructor(private readonly outside: OutsideLookup | undefined) {}

  addHost(name: string, address: Ipv4): void {
    this.names.set(normaliseHostName(name), address);
  }

  lookupName(name: string): Ipv4 | undefined {
    return this.names.get(name.toLowerCase().replace(/\.$/, ""));
  }

  /**
   * Answers the DNS message `query` by calling `reply` once (now, or later for a name resolved by
   * the host), or never when the message is not a query at all.
   */
  handle(query: Uint8Array, reply: (response: Uint8Array) => void): void {
    const parsed = parseQuery(query);
    if (!parsed) return;
    const { question } = parsed;
    if (!question) return reply(buildResponse(parsed, parsed.problem, false, []));
    if (question.qclass !== CLASS_IN && question.qclass !== TYPE_ANY) {
      return reply(buildResponse(parsed, RCODE_NOT_IMPLEMENTED, false, []));
    }
    const wantsA = question.type === TYPE_A || question.type === TYPE_ANY;
    const embedded = this.names.get(question.name);
    if (embedded !== undefined) {
      // Other types (AAAA above all) get an empty answer: the name exists, without such records.
      return reply(
        buildResponse(parsed, RCODE_OK, true, wantsA ? [addressRecord(embedded, EMBEDDED_TTL)] : []),
      );
    }
    const reverse = reverseName(question.name);
    if (reverse !== undefined && question.type === TYPE_PTR) {
      for (const [name, address] of this.names) {
        if (address === reverse) return reply(buildResponse(parsed, RCODE_OK, true, [nameRecord(name)]));
      }
    }
    if (!this.outside || reverse !== undefined || question.name === "") {
      return reply(buildResponse(parsed, RCODE_NAME_ERROR, false, []));
    }
    this.outside(question.name, (answer) => {
      if ("error" in answer) {
        const rcode = answer.error === "not-found" ? RCODE_NAME_ERROR : RCODE_SERVER_FAILURE;
        return reply(buildResponse(parsed, rcode, false, []));
      }
      const records = wantsA ? answer.addresses.map((address) => addressRecord(address, OUTSIDE_TTL)) : [];
      reply(buildResponse(parsed, RCODE_OK, false, records));
    });
  }
}
