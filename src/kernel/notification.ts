// seL4 notification objects: badge words that signals OR into and a receive clears.

import type { Thread } from "./thread.ts";

/** A notification object: a word of badge bits, ORed by signals, cleared by receive. */
export class Notification {
  word = 0n;
  constructor(readonly bound: Thread) {}
}
