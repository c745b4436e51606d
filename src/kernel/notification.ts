import type { Thread } from "./thread.ts";

/** A notification object: a word of badge bits, ORed by signals, cleared by receive. */
export class Notification {
  word = 0n;
  constructor(readonly bound: Thread) {}
}
