// Console back-ends: where a UART's output goes and where its input comes from.

export interface Console {
  /** Output bytes from the machine. */
  write(bytes: Uint8Array): void;
  /**
   * Starts input: `onData` gets bytes typed by the user, `onEnd` is called once when no
   * more input can come. Called once.
   */
  attachInput(onData: (bytes: Uint8Array) => void, onEnd: () => void): void;
  /** Flushes output and releases the host terminal. */
  close(): void;
}
