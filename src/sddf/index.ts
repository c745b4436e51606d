// sDDF: the queue protocols over shared memory regions, and drivers and virtualisers as PDs.

export { SddfError, SharedFields, isPowerOfTwo, setvarAddress, regionBytes, mapSizeFrom } from "./shared.ts";
export * from "./serial/queue.ts";
export * from "./blk/queue.ts";
export * from "./net/queue.ts";
export * from "./sound/queue.ts";
export * from "./timer/protocol.ts";
export { timerDriver, type TimerDriverConfig } from "./timer/driver.ts";
