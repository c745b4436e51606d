// Entry point of the wasm CPU core.
export { getX, setX } from "./registers";
export { read64 } from "./memory-access";
