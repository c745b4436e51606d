// A small HTTP/1.0 and 1.1 origin server (RFC 9110/9112) for the embedded hosts.
//
// GET and HEAD, Content-Length on every response, persistent connections and pipelining for 1.1,
// `Connection: close` honoured. Response bodies are streamed as the guest's window allows, so serving
// gigabytes costs no more memory than the TCP send buffer.

import type { TcpConnection, TcpHandler } from "./tcp.ts";

export interface HttpRequest {
  readonly method: string;
  /** The path without the query, as sent (not percent-decoded). */
  readonly path: string;
  /** What follows `?`, or "". */
  readonly query: string;
  readonly version: "1.0" | "1.1";
  /** Header names in lower case; repeated headers joined with ", ". */
  readonly headers: ReadonlyMap<string, string>;
}

/** A body produced on demand: `next` returns the following bytes, at most `max`. */
export interface HttpBodyStream {
  readonly length: number;
  next(max: number): Uint8Array;
}

export interface HttpResponse {
  /** Default 200. */
  readonly status?: number;
  /** Default text/plain; charset=utf-8. */
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array | string | HttpBodyStream;
}

/** Answers a request; undefined means there is nothing at that path (404). */
export type HttpHandler = (request: HttpRequest) => HttpResponse | undefined;

/**
 * Routes by path: a key is an exact path, or a prefix when it ends in `*` (`/bytes/*`). The longest
 * matching key wins.
 */
export type HttpRoutes = Readonly<Record<string, HttpHandler>>;

const REASONS: Readonly<Record<number, string>> = {
  200: "OK",
  204: "No Content",
  301: "Moved Permanently",
  302: "Found",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  505: "HTTP Version Not Supported",
};

/** The most a request's head may take; longer ones get 431 and the connection closes. */
const MAX_HEAD = 16 * 1024;
/** How much of a streamed body goes into the TCP send buffer per call. */
const CHUNK = 64 * 1024;

const encoder = new TextEncoder();

export function routeRequest(routes: HttpRoutes, path: string): HttpHandler | undefined {
  const exact = routes[path];
  if (exact) return exact;
  let best: string | undefined;
  for (const key of Object.keys(routes)) {
    if (key.endsWith("*") && path.startsWith(key.slice(0, -1)) && (!best || key.length > best.length))
      best = key;
  }
  return best === undefined ? undefined : routes[best];
}

interface Outgoing {
  readonly head: Uint8Array;
  readonly body: Uint8Array | HttpBodyStream | undefined;
  readonly close: boolean;
}

/** Serves HTTP on one connection; make one per accepted connection. */
export class HttpConnection implements TcpHandler {
  private input = new Uint8Array(0);
  /** Bytes of a request body still to skip (GET and HEAD bodies mean nothing here). */
  private discard = 0;
  private current: { stream: HttpBodyStream; remaining: number; close: boolean } | undefined;
  private peerEnded = false;
  private finished = false;

  constructor(
    private readonly connection: TcpConnection,
    private readonly routes: HttpRoutes,
    private readonly log: (message: string) => void = () => {},
  ) {}

  data(bytes: Uint8Array): void {
    if (this.finished) return;
    if (this.discard > 0) {
      const skipped = Math.min(this.discard, bytes.length);
      this.discard -= skipped;
      bytes = bytes.subarray(skipped);
    }
    if (bytes.length === 0) return;
    const joined = new Uint8Array(this.input.length + bytes.length);
    joined.set(this.input);
    joined.set(bytes, this.input.length);
    this.input = joined;
    this.serve();
  }

  end(): void {
    this.peerEnded = true;
    this.serve();
  }

  writable(): void {
    this.pump();
  }

  closed(): void {
    this.finished = true;
    this.current = undefined;
  }

  /** Unanswered request bytes: a guest that pipelines faster than we answer sees the window close. */
  backlog(): number {
    return this.input.length;
  }

  /** Answers complete requests in order, one at a time (a streamed body finishes first). */
  private serve(): void {
    while (!this.finished && !this.current) {
      const headEnd = findHeadEnd(this.input);
      if (headEnd === undefined) {
        if (this.input.length > MAX_HEAD) return this.send(errorResponse(431), "1.1", true, false);
        if (this.peerEnded) this.finish();
        return;
      }
      const head = latin1(this.input.subarray(0, headEnd.start));
      this.input = this.input.subarray(headEnd.end);
      this.respond(head);
      this.connection.windowOpened();
    }
  }

  private respond(head: string): void {
    const request = parseHead(head);
    if (typeof request === "number") return this.send(errorResponse(request), "1.1", true, false);
    const connectionTokens = (request.headers.get("connection") ?? "").toLowerCase().split(/\s*,\s*/);
    let close =
      request.version === "1.0"
        ? !connectionTokens.includes("keep-alive")
        : connectionTokens.includes("close");
    if (request.headers.has("transfer-encoding")) {
      return this.send(errorResponse(501), request.version, true, false);
    }
    const length = request.headers.get("content-length");
    if (length !== undefined) {
      if (!/^\d{1,15}$/.test(length)) return this.send(errorResponse(400), request.version, true, false);
      const skipped = Math.min(Number(length), this.input.length);
      this.discard = Number(length) - skipped;
      this.input = this.input.subarray(skipped);
    }
    const headOnly = request.method === "HEAD";
    let response: HttpResponse;
    if (request.method !== "GET" && !headOnly) {
      response = { ...errorResponse(501), headers: { Allow: "GET, HEAD" } };
      close = true;
    } else {
      const handler = routeRequest(this.routes, request.path);
      try {
        response = (handler && handler(request)) ?? errorResponse(404);
      } catch (error) {
        this.log(`http: ${request.method} ${request.path} failed: ${(error as Error).message}`);
        response = errorResponse(500);
        close = true;
      }
    }
    this.send(response, request.version, close, headOnly);
  }

  private send(response: HttpResponse, version: "1.0" | "1.1", close: boolean, headOnly: boolean): void {
    const status = response.status ?? 200;
    const body = typeof response.body === "string" ? encoder.encode(response.body) : response.body;
    const length = body === undefined ? 0 : body.length;
    const lines = [
      `HTTP/1.1 ${status} ${REASONS[status] ?? "Unknown"}`,
      // No Date header: an origin server without a reliable clock must not send one (RFC 9110 6.6.1),
      // and leaving it out keeps responses deterministic.
      "Server: virtkit",
      `Content-Type: ${response.contentType ?? "text/plain; charset=utf-8"}`,
      `Content-Length: ${length}`,
    ];
    for (const [name, value] of Object.entries(response.headers ?? {})) lines.push(`${name}: ${value}`);
    if (close) lines.push("Connection: close");
    else if (version === "1.0") lines.push("Connection: keep-alive");
    const outgoing: Outgoing = {
      head: encoder.encode(`${lines.join("\r\n")}\r\n\r\n`),
      body: headOnly ? undefined : body,
      close,
    };
    this.connection.write(outgoing.head);
    if (outgoing.body instanceof Uint8Array || outgoing.body === undefined) {
      if (outgoing.body && outgoing.body.length > 0) this.connection.write(outgoing.body);
      if (close) this.finish();
      return;
    }
    this.current = { stream: outgoing.body, remaining: outgoing.body.length, close };
    this.pump();
  }

  /** Feeds a streamed body while the send buffer takes it. */
  private pump(): void {
    const current = this.current;
    if (!current || this.finished) return;
    while (current.remaining > 0) {
      const chunk = current.stream.next(Math.min(CHUNK, current.remaining));
      if (chunk.length === 0 || chunk.length > current.remaining) {
        // A stream that breaks its promised length cannot be mended: the guest sees a reset.
        this.log("http: a response body stream returned the wrong number of bytes");
        this.finished = true;
        this.connection.abort();
        return;
      }
      current.remaining -= chunk.length;
      if (!this.connection.write(chunk) && current.remaining > 0) return;
    }
    this.current = undefined;
    if (current.close) return this.finish();
    this.serve();
  }

  private finish(): void {
    this.finished = true;
    this.connection.close();
  }
}

function errorResponse(status: number): HttpResponse {
  return { status, body: `${REASONS[status] ?? "Error"}\n` };
}

/** Where the head ends: after CRLF CRLF, or after a bare LF LF (tolerated, RFC 9112 2.2). */
function findHeadEnd(bytes: Uint8Array): { start: number; end: number } | undefined {
  for (let i = 0; i + 1 < bytes.length; i++) {
    if (bytes[i] !== 0x0a) continue;
    if (bytes[i + 1] === 0x0a) return { start: i, end: i + 2 };
    if (bytes[i + 1] === 0x0d && bytes[i + 2] === 0x0a) return { start: i, end: i + 3 };
  }
  return undefined;
}

function latin1(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 4096) {
    text += String.fromCharCode(...bytes.subarray(i, Math.min(bytes.length, i + 4096)));
  }
  return text;
}

/** The request in a head (request line and header lines), or the status to refuse it with. */
function parseHead(head: string): HttpRequest | number {
  // The head ends before its final LF; the CR of that line ending may still be there.
  const lines = head.replace(/\r$/, "").split(/\r?\n/);
  // Empty lines before the request line are ignored (RFC 9112 2.2).
  while (lines.length > 0 && lines[0] === "") lines.shift();
  const requestLine = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) HTTP\/(\d)\.(\d)$/.exec(lines.shift() ?? "");
  if (!requestLine) return 400;
  const [, method, target, major, minor] = requestLine;
  if (major !== "1") return 505;
  const version = minor === "0" ? "1.0" : "1.1";
  const headers = new Map<string, string>();
  for (const line of lines) {
    const match = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/.exec(line);
    if (!match) return 400;
    const name = match[1]!.toLowerCase();
    const earlier = headers.get(name);
    headers.set(name, earlier === undefined ? match[2]! : `${earlier}, ${match[2]!}`);
  }
  if (version === "1.1" && !headers.has("host")) return 400;
  // Absolute form (as sent to proxies): keep the path.
  let pathAndQuery = target!;
  const absolute = /^https?:\/\/[^/?#]*(.*)$/i.exec(pathAndQuery);
  if (absolute) pathAndQuery = absolute[1] || "/";
  if (!pathAndQuery.startsWith("/")) return 400;
  const hash = pathAndQuery.indexOf("#");
  if (hash >= 0) pathAndQuery = pathAndQuery.slice(0, hash);
  const question = pathAndQuery.indexOf("?");
  return {
    method: method!,
    path: question >= 0 ? pathAndQuery.slice(0, question) : pathAndQuery,
    query: question >= 0 ? pathAndQuery.slice(question + 1) : "",
    version,
    headers,
  };
}
