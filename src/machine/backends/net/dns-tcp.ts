// DNS over TCP at 10.0.2.3:53 (RFC 1035 4.2.2, RFC 7766): messages with a two-byte length in front.
//
// Resolvers fall back to it when a UDP answer is truncated, and some tools use it outright.

import type { DnsServer } from "./dns.ts";
import type { TcpConnection, TcpHandler } from "./tcp.ts";

/** The longest query accepted; anything larger closes the connection. */
const MAX_MESSAGE = 4096;

export class DnsTcpConnection implements TcpHandler {
  private input = new Uint8Array(0);
  private outstanding = 0;
  private peerEnded = false;
  private done = false;

  constructor(
    private readonly connection: TcpConnection,
    private readonly dns: DnsServer,
  ) {}

  data(bytes: Uint8Array): void {
    if (this.done) return;
    const joined = new Uint8Array(this.input.length + bytes.length);
    joined.set(this.input);
    joined.set(bytes, this.input.length);
    this.input = joined;
    while (this.input.length >= 2) {
      const length = (this.input[0]! << 8) | this.input[1]!;
      if (length > MAX_MESSAGE) return this.finish();
      if (this.input.length < 2 + length) return;
      const query = this.input.slice(2, 2 + length);
      this.input = this.input.subarray(2 + length);
      this.outstanding++;
      let answered = false;
      this.dns.handle(query, (response) => {
        answered = true;
        this.reply(response);
      });
      // A message the server does not answer (not a query) still counts as handled.
      if (!answered && !isQuery(query)) this.outstanding--;
    }
  }

  end(): void {
    this.peerEnded = true;
    if (this.outstanding === 0) this.finish();
  }

  closed(): void {
    this.done = true;
  }

  private reply(response: Uint8Array): void {
    this.outstanding--;
    if (this.done) return;
    const framed = new Uint8Array(2 + response.length);
    framed[0] = response.length >>> 8;
    framed[1] = response.length & 0xff;
    framed.set(response, 2);
    this.connection.write(framed);
    if (this.peerEnded && this.outstanding === 0) this.finish();
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.connection.close();
  }
}

/** True when the server will answer it: at least a header with the QR bit clear. */
function isQuery(message: Uint8Array): boolean {
  return message.length >= 12 && (message[2]! & 0x80) === 0;
}
