// A small seeded pseudo-random generator for everything the network chooses.
//
// Initial sequence numbers and words come from one of these, not Math.random, so a run with the
// same inputs repeats exactly.

/** Returns successive unsigned 32-bit values: a Weyl sequence through a 32-bit integer mixer. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}
