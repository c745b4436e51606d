// Time as devices and back-ends see it: the system's clock (virtual by default, so runs are
// deterministic), with one-shot timeouts. The kernel's VirtualClock is one.

export interface MachineClock {
  /** Nanoseconds since the system started. */
  readonly nowNs: number;
  /** Runs `fire` once the clock reaches `atNs`; the result cancels it. */
  at(atNs: number, fire: () => void): () => void;
}
