import { z } from 'zod';
import { Rng } from '../util/rng';
import type { EvalSet, Task, TaskDefinition, TokenBatch } from './taskTypes';
import { fillQueries, parseTaskOptions, shuffled, type QueryGroup } from './twoHop';

/**
 * Reversal (DESIGN.md §3.4; arXiv 2309.12288 "reversal curse"). Pairs (celeb_i, parent_π(i)) of two
 * entity sets, π a permutation seeded by mapSeed. The forward relation `rel_parent` maps a celeb to its
 * parent; the reverse relation `rel_child` maps a parent to its celeb.
 *
 * Training data: forward facts for every pair (half of each batch) and reverse facts only for the
 * training pairs (the first ⌊trainFraction · nPairs⌉ celebs and their parents, the other half). The
 * test is the reverse of the held-out pairs (`test_rev_acc`), whose forward facts were trained. Chance is
 * 1/nPairs (1/nTest for a model that has at least learned that held-out parents answer held-out celebs).
 *
 * Token layout (defaults: 128 tokens): 0 `rel_parent`, 1 `rel_child`, then `celeb_0..` (nPairs),
 * `parent_0..` (nPairs), `noise_0..` (nNoise), `end` last. Sequences as in two-hop / ocr-recall: noise,
 * the subject at p ∈ [0, T−3], the relation at q ∈ (p, T−2], `end` at T−1 where the answer is read.
 *
 * Note: with untied (learned) embeddings, a held-out parent token is only ever a target, never an input,
 * so its input embedding gets no gradient but weight decay; only a tied unembedding lets forward facts
 * shape it.
 */
export const ReversalOptionsSchema = z
  .object({
    nPairs: z.number().int().min(2).max(4096).default(60),
    nNoise: z.number().int().min(1).max(1024).default(5),
    seqLen: z.number().int().min(3).max(1024).default(8),
    /** Fraction of pairs whose reverse facts are trained. */
    trainFraction: z.number().gt(0).lt(1).default(0.5),
    /** Seed of the pairing (data sampling has its own seed). */
    mapSeed: z.number().int().min(0).default(0),
  })
  .strict();
export type ReversalOptions = z.infer<typeof ReversalOptionsSchema>;

export interface ReversalLayout {
  relFwd: number;
  relRev: number;
  celebs: number[];
  parents: number[];
  noise: number[];
  end: number;
  vocabSize: number;
  trainCelebs: number[];
  testCelebs: number[];
}

export function reversalLayout(o: ReversalOptions): ReversalLayout {
  let next = 0;
  const take = (n: number): number[] => Array.from({ length: n }, () => next++);
  const [relFwd, relRev] = take(2);
  const celebs = take(o.nPairs);
  const parents = take(o.nPairs);
  const noise = take(o.nNoise);
  const [end] = take(1);
  const nTrain = Math.round(o.nPairs * o.trainFraction);
  if (nTrain < 1 || nTrain >= o.nPairs) {
    throw new Error(`reversal: trainFraction ${o.trainFraction} leaves ${nTrain} of ${o.nPairs} pairs for training`);
  }
  return { relFwd, relRev, celebs, parents, noise, end, vocabSize: next, trainCelebs: celebs.slice(0, nTrain), testCelebs: celebs.slice(nTrain) };
}

class ReversalTask implements Task {
  readonly name = 'reversal';
  readonly headlineMetric = 'test_rev_acc';
  readonly vocab: readonly string[];
  readonly seqLen: number;
  readonly chance: number;
  readonly layout: ReversalLayout;
  /** Parents of the training / held-out celebs, in the same order. */
  readonly trainParents: number[];
  readonly testParents: number[];
  private readonly parentOfCeleb = new Map<number, number>();
  private readonly celebOfParent = new Map<number, number>();

  constructor(readonly options: ReversalOptions) {
    const L = reversalLayout(options);
    this.layout = L;
    this.seqLen = options.seqLen;
    this.chance = 1 / options.nPairs;
    const perm = shuffled(new Rng(options.mapSeed), L.parents);
    L.celebs.forEach((c, i) => {
      this.parentOfCeleb.set(c, perm[i]);
      this.celebOfParent.set(perm[i], c);
    });
    this.trainParents = L.trainCelebs.map((c) => this.parentOf(c));
    this.testParents = L.testCelebs.map((c) => this.parentOf(c));
    const v: string[] = new Array(L.vocabSize);
    v[L.relFwd] = 'rel_parent';
    v[L.relRev] = 'rel_child';
    L.celebs.forEach((t, i) => (v[t] = `celeb_${i}`));
    L.parents.forEach((t, i) => (v[t] = `parent_${i}`));
    L.noise.forEach((t, i) => (v[t] = `noise_${i}`));
    v[L.end] = 'end';
    this.vocab = v;
  }

  parentOf(celeb: number): number {
    const p = this.parentOfCeleb.get(celeb);
    if (p === undefined) throw new Error(`reversal: ${celeb} is not a celeb token`);
    return p;
  }

  celebOf(parent: number): number {
    const c = this.celebOfParent.get(parent);
    if (c === undefined) throw new Error(`reversal: ${parent} is not a parent token`);
    return c;
  }

  answer(subject: number, relation: number): number {
    if (relation === this.layout.relFwd) return this.parentOf(subject);
    if (relation === this.layout.relRev) return this.celebOf(subject);
    throw new Error(`reversal: ${relation} is not a relation token`);
  }

  private fill(rng: Rng, groups: readonly QueryGroup[]): TokenBatch {
    return fillQueries(rng, this.seqLen, this.layout.noise, this.layout.end, groups, (s, r) => this.answer(s, r));
  }

  sampleTrainBatch(rng: Rng, batchSize: number): TokenBatch {
    const { celebs, relFwd, relRev } = this.layout;
    const half = Math.ceil(batchSize / 2);
    return this.fill(rng, [
      { subjects: celebs, relation: relFwd, count: half, cycle: false },
      { subjects: this.trainParents, relation: relRev, count: batchSize - half, cycle: false },
    ]);
  }

  evalSets(rng: Rng, samplesPerSet: number): EvalSet[] {
    const { trainCelebs, testCelebs, relFwd, relRev } = this.layout;
    const sets: [string, readonly number[], number][] = [
      ['train_fwd', trainCelebs, relFwd],
      ['train_rev', this.trainParents, relRev],
      ['test_fwd', testCelebs, relFwd],
      ['test_rev', this.testParents, relRev],
    ];
    return sets.map(([name, subjects, relation]) => ({ name, ...this.fill(rng, [{ subjects, relation, count: samplesPerSet, cycle: true }]) }));
  }
}

export const reversalTask: TaskDefinition<ReversalOptions> = {
  name: 'reversal',
  description: 'Reversal (arXiv 2309.12288): parent → celeb queries for pairs trained only forwards',
  resolveOptions(raw) {
    const o = parseTaskOptions('reversal', ReversalOptionsSchema, raw);
    reversalLayout(o);
    return o;
  },
  create: (options) => new ReversalTask(options),
};

export type { ReversalTask };
export function createReversalTask(raw: Record<string, unknown> = {}): ReversalTask {
  return new ReversalTask(reversalTask.resolveOptions(raw));
}
