// The embedded web site at trustworthy.systems: the tutorial's word, libvmm's song, /bytes/<N>.

import { BytePattern } from "./byte-pattern.ts";
import type { HttpRoutes } from "./http-server.ts";
import type { WordService } from "./word-service.ts";

export const TRUSTWORTHY_SYSTEMS_NAME = "trustworthy.systems";
export const WORD_PATH = "/projects/microkit/tutorial/word";
/** One line of text, newline-terminated, as `cat song` shows it. */
export const SONG = "Packets in the virtual wire, counting time in nanoseconds, all the way to 10.0.2.15.\n";
/** The largest /bytes/<N> served: a gigabyte is plenty for a transfer test. */
export const MAX_PATTERN_BYTES = 1 << 30;

export function trustworthySystemsRoutes(words: WordService): HttpRoutes {
  return {
    // Just the five letters, no newline: `WORD=$(wget -qO- …)` reads the same either way, and the
    // body's length is the word's. HEAD must not use up a word; its (unsent) body only gives the length.
    [WORD_PATH]: (request) => ({
      body: request.method === "HEAD" ? "-----" : words.next(),
      headers: { "Cache-Control": "no-store" },
    }),
    "/song": () => ({ body: SONG }),
    "/bytes/*": (request) => {
      const match = /^\/bytes\/(\d{1,10})$/.exec(request.path);
      if (!match) return undefined;
      const length = Number(match[1]);
      if (length > MAX_PATTERN_BYTES) return { status: 400, body: `at most ${MAX_PATTERN_BYTES} bytes\n` };
      return { contentType: "application/octet-stream", body: new BytePattern(length) };
    },
  };
}
