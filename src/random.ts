// Seeded random numbers (mulberry32): parameter initialisation and shuffling are deterministic for a given seed.
//
// Any safe integer is a seed. The low 32 bits start mulberry32's counter, exactly as they always have, so a seed in
// [0, 2^32) gives the stream it always gave. The high bits (0 for those seeds) become a key xor-ed into the counter
// before it is hashed: a bijection of the high bits into 31 bits, 0 only when they are 0. Seeds with the same key
// walk one counter cycle from different starts, as 32-bit seeds always did. Seeds with different keys never share a
// counter sequence, not even shifted: (x + d) ^ k2 = x ^ k1 for every x needs k1 ^ k2 = 0 (d = 0) or 2^31 (d = 2^31),
// and two 31-bit keys cannot differ by 2^31. So distinct seeds give distinct streams, and seed 2^40 is no longer
// seed 0. (Negative seeds have high bits too: they no longer alias seed + 2^32.)
export class Random {
  private s: number;
  private readonly key: number;
  constructor(seed: number) {
    // [-2^53, 2^53): the safe integers, and -2^53 that shuffleSeed can reach from them.
    if (!(Number.isInteger(seed) && seed >= -(2 ** 53) && seed < 2 ** 53)) throw new RangeError(`Random: seed must be an integer in [-2^53, 2^53), got ${seed}`);
    this.s = seed >>> 0;
    const high = (seed - this.s) / 2 ** 32; // an integer in [-2^21, 2^21)
    this.key = seedKey(high);
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = (this.s ^ this.key) >>> 0;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in [-limit, limit). */
  uniform(n: number, limit: number): Float32Array {
    return Float32Array.from({ length: n }, () => (2 * this.next() - 1) * limit);
  }

  /** A random permutation of 0..n-1 (Fisher-Yates). */
  permutation(n: number): Uint32Array {
    const p = range(n);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const tmp = p[i]!;
      p[i] = p[j]!;
      p[j] = tmp;
    }
    return p;
  }
}

/**
 * The high 22 bits of a seed as a 31-bit key: their two's complement times an odd constant mod 2^31 (a bijection),
 * then an xorshift (also a bijection); 0 only for 0.
 */
function seedKey(high: number): number {
  const h = high & 0x3fffff;
  const k = Math.imul(h, 0x2c1b3c6d) & 0x7fffffff;
  return (k ^ (k >>> 13)) >>> 0;
}

/**
 * The seed of a shuffle: (seed * 7919 + step) mod 2^32 in the low bits, as it always was for seeds in [0, 2^32),
 * with the seed's high bits kept so that seeds which differ only there shuffle differently too.
 */
export function shuffleSeed(seed: number, step: number): number {
  const low = seed >>> 0;
  const high = (seed - low) / 2 ** 32;
  return high * 2 ** 32 + ((low * 7919 + step) >>> 0);
}

/** start, start + 1, ..., start + n - 1: a data set's own order (or a part of it). */
export function range(n: number, start = 0): Uint32Array {
  return Uint32Array.from({ length: n }, (_, i) => start + i);
}
