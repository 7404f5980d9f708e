/**
 * The whole state of an Rng as plain JSON data: the four sfc32 words (int32) and the spare normal
 * deviate that `normal()` holds back. `Rng.fromState(rng.state())` continues the identical sequence.
 */
export interface RngState {
  a: number;
  b: number;
  c: number;
  d: number;
  spareNormal: number | null;
}

function isInt32(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= -0x80000000 && x <= 0xffffffff;
}

/**
 * Seeded PRNG (sfc32 seeded through splitmix32). Data and initial weights come from here rather than
 * from tfjs's random ops, so a seed gives bit-identical runs on every backend.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal: number | null = null;

  constructor(seed: number) {
    let s = seed >>> 0;
    const split = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = split();
    this.b = split();
    this.c = split();
    this.d = split();
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** A copy of the current state (plain data, JSON-safe: a resumed run continues from it). */
  state(): RngState {
    return { a: this.a, b: this.b, c: this.c, d: this.d, spareNormal: this.spareNormal };
  }

  /** Continues from `s` (as `state()` returned it): every later draw is the one the saved stream made. */
  restore(s: RngState): this {
    if (![s.a, s.b, s.c, s.d].every(isInt32) || !(s.spareNormal === null || (typeof s.spareNormal === 'number' && Number.isFinite(s.spareNormal)))) {
      throw new Error(`invalid Rng state ${JSON.stringify(s)}: expected four 32-bit integers a, b, c, d and spareNormal (a finite number or null)`);
    }
    this.a = s.a | 0;
    this.b = s.b | 0;
    this.c = s.c | 0;
    this.d = s.d | 0;
    this.spareNormal = s.spareNormal;
    return this;
  }

  /** A stream that continues from a saved state. */
  static fromState(s: RngState): Rng {
    return new Rng(0).restore(s);
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** A child stream, so adding draws to one consumer does not shift another's. */
  fork(label: number): Rng {
    return new Rng((this.nextUint32() ^ Math.imul(label + 1, 0x27d4eb2d)) >>> 0);
  }
}
