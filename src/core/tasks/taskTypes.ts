import type { Rng } from '../util/rng';

/** A batch of token sequences with one target token per sequence, read at `readPosition`. */
export interface TokenBatch {
  /** [batch * seqLen], row-major. */
  tokens: Int32Array;
  /** [batch]. */
  targets: Int32Array;
  batch: number;
  seqLen: number;
}

export interface EvalSet extends TokenBatch {
  /** e.g. `test_impl`; metrics are `${name}_acc` and `${name}_loss`. */
  name: string;
}

/** A deterministic task generator. Every task fixes its vocabulary: token names are part of its contract. */
export interface Task {
  name: string;
  vocab: readonly string[];
  seqLen: number;
  /** The metric that measures out-of-context generalisation, e.g. `test_impl_acc`. */
  headlineMetric: string;
  /** Chance level of the headline metric. */
  chance: number;
  sampleTrainBatch(rng: Rng, batchSize: number): TokenBatch;
  evalSets(rng: Rng, samplesPerSet: number): EvalSet[];
}

export interface TaskDefinition<O> {
  name: string;
  description: string;
  /** Completes and validates raw options; throws with a clear message on bad ones. */
  resolveOptions(raw: Record<string, unknown>): O;
  create(options: O): Task;
}
