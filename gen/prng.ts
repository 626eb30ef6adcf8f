// A small seeded PRNG (mulberry32) for generated order flow: tests, benchmarks
// and data generators that must produce the same stream for the same seed.
// Never used by the engine, which takes no randomness.

export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A stand-in for crypto randomBytes drawn from a seeded PRNG: the log id and
 * sync markers of a generated day, so that the same arguments give the same
 * bytes. Never for anything that must be unguessable.
 */
export function seededBytes(seed: number): (n: number) => Buffer {
  const rnd = prng(seed);
  return (n) => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
    return b;
  };
}
