import { Rng } from '../util/rng';

/**
 * A stream of activation vectors, read in batches: `next(n)` gives n rows of d_in floats (row-major), so
 * training never holds more than a batch and a shuffle buffer in memory.
 */
export interface ActivationStream {
  readonly dIn: number;
  next(n: number): Float32Array;
}

/**
 * Rows come from `fill` (one model batch at a time: every position of a few prompts), and leave in random
 * order through a buffer of `capacity` rows, so one batch mixes many prompts (activations of one prompt's
 * positions are correlated). Deterministic given the seed and the source.
 */
export class ShuffleBuffer implements ActivationStream {
  private readonly buf: Float32Array;
  private size = 0;
  private readonly rng: Rng;

  constructor(
    readonly dIn: number,
    private readonly capacity: number,
    private readonly fill: () => Float32Array,
    seed: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`shuffle buffer: capacity must be a positive integer, got ${capacity}`);
    this.buf = new Float32Array(capacity * dIn);
    this.rng = new Rng(seed ^ 0x5b0f);
  }

  private refill(): void {
    let guard = 0;
    while (this.size < this.capacity) {
      const rows = this.fill();
      if (rows.length % this.dIn !== 0) throw new Error(`activation source gave ${rows.length} floats, not a multiple of d_in ${this.dIn}`);
      const n = rows.length / this.dIn;
      if (n === 0) {
        if (++guard > 100) throw new Error('activation source gives no activations (empty prompts?)');
        continue;
      }
      const take = Math.min(n, this.capacity - this.size);
      this.buf.set(rows.subarray(0, take * this.dIn), this.size * this.dIn);
      this.size += take;
    }
  }

  next(n: number): Float32Array {
    const d = this.dIn;
    const out = new Float32Array(n * d);
    for (let i = 0; i < n; i++) {
      // Keep the buffer at least half full, so each row leaves among many others.
      if (this.size <= this.capacity / 2) this.refill();
      const j = this.rng.int(0, this.size - 1);
      out.set(this.buf.subarray(j * d, (j + 1) * d), i * d);
      // Swap-remove row j.
      this.size -= 1;
      if (j !== this.size) this.buf.copyWithin(j * d, this.size * d, (this.size + 1) * d);
    }
    return out;
  }
}

/** A stream over fixed in-memory rows (tests, benchmarks): random rows with replacement. */
export function arrayStream(rows: Float32Array, dIn: number, seed: number): ActivationStream {
  const n = rows.length / dIn;
  const rng = new Rng(seed);
  return {
    dIn,
    next(m) {
      const out = new Float32Array(m * dIn);
      for (let i = 0; i < m; i++) {
        const j = rng.int(0, n - 1);
        out.set(rows.subarray(j * dIn, (j + 1) * dIn), i * dIn);
      }
      return out;
    },
  };
}
