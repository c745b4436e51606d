// A pcap sink that writes a file on the host.
//
// Records are gathered into 64 KiB blocks to keep a multi-megabyte transfer from costing a system
// call per frame; close() writes the rest.

import { closeSync, openSync, writeSync } from "node:fs";
import type { PcapSink } from "./pcap.ts";

const BLOCK = 64 * 1024;

export function pcapFile(path: string): PcapSink {
  const fd = openSync(path, "w");
  let block = new Uint8Array(BLOCK);
  let used = 0;
  let open = true;
  const flush = (): void => {
    let at = 0;
    while (at < used) at += writeSync(fd, block, at, used - at);
    used = 0;
  };
  return {
    write(bytes) {
      if (!open) return;
      if (used + bytes.length > block.length) {
        flush();
        if (bytes.length > block.length) block = new Uint8Array(bytes.length);
      }
      block.set(bytes, used);
      used += bytes.length;
    },
    close() {
      if (!open) return;
      open = false;
      flush();
      closeSync(fd);
    },
  };
}
