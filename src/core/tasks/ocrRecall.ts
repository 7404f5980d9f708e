import { z } from 'zod';
import type { Rng } from '../util/rng';
import type { EvalSet, Task, TaskDefinition, TokenBatch } from './taskTypes';

/**
 * Fact/implication recall of arXiv 2506.10887 (DESIGN.md §3.1). With the defaults the token ids are a
 * contract: relations 0 (fact) and 1 (implication); names 2–81; cities 82–101; animals 102–121;
 * noise 122–126; end 127. Name n ↦ city 82 + ((n − 2) mod 20); city 82 + j ↦ animal 102 + j.
 */
export const OcrRecallOptionsSchema = z
  .object({
    nNames: z.number().int().min(2).max(4096).default(80),
    nCities: z.number().int().min(2).max(1024).default(20),
    nNoise: z.number().int().min(1).max(1024).default(5),
    seqLen: z.number().int().min(3).max(1024).default(16),
    /** Fraction of names whose implications are trained. */
    trainFraction: z.number().gt(0).lt(1).default(0.25),
    /**
     * 'causal': a name's implication is the animal of its city, for test names too. 'arbitrary': test
     * names' true implications are drawn at random (seeded), so a model that "reasons" via the city
     * hallucinates: the paper's non-causal case. Training data is the same in both.
     */
    implication: z.enum(['causal', 'arbitrary']).default('causal'),
    /** Seed for the arbitrary implication map (data sampling has its own seed). */
    mapSeed: z.number().int().min(0).default(0),
  })
  .strict();
export type OcrRecallOptions = z.infer<typeof OcrRecallOptionsSchema>;

export interface OcrRecallLayout {
  relFact: number;
  relImpl: number;
  names: [number, number];
  cities: [number, number];
  animals: [number, number];
  noise: [number, number];
  end: number;
  vocabSize: number;
  trainNames: number[];
  testNames: number[];
}

export function ocrRecallLayout(o: OcrRecallOptions): OcrRecallLayout {
  const nAnimals = o.nCities;
  const names: [number, number] = [2, 2 + o.nNames - 1];
  const cities: [number, number] = [names[1] + 1, names[1] + o.nCities];
  const animals: [number, number] = [cities[1] + 1, cities[1] + nAnimals];
  const noise: [number, number] = [animals[1] + 1, animals[1] + o.nNoise];
  const end = noise[1] + 1;
  const nTrain = Math.round(o.nNames * o.trainFraction);
  if (nTrain < 1 || nTrain >= o.nNames) {
    throw new Error(`ocr-recall: trainFraction ${o.trainFraction} leaves ${nTrain} of ${o.nNames} names for training`);
  }
  const all = Array.from({ length: o.nNames }, (_, i) => names[0] + i);
  return {
    relFact: 0,
    relImpl: 1,
    names,
    cities,
    animals,
    noise,
    end,
    vocabSize: end + 1,
    trainNames: all.slice(0, nTrain),
    testNames: all.slice(nTrain),
  };
}

class OcrRecallTask implements Task {
  readonly name = 'ocr-recall';
  readonly headlineMetric = 'test_impl_acc';
  readonly vocab: readonly string[];
  readonly seqLen: number;
  readonly chance: number;
  readonly layout: OcrRecallLayout;
  private readonly implOf: Map<number, number>;

  constructor(readonly options: OcrRecallOptions) {
    this.layout = ocrRecallLayout(options);
    this.seqLen = options.seqLen;
    this.chance = 1 / options.nCities;
    this.vocab = buildVocab(this.layout);
    this.implOf = new Map();
    const mapRng = new ArbitraryMapRng(options.mapSeed);
    for (let n = this.layout.names[0]; n <= this.layout.names[1]; n++) {
      const causal = this.layout.animals[0] + (this.cityOf(n) - this.layout.cities[0]);
      const isTest = this.layout.testNames.includes(n);
      const animal = options.implication === 'arbitrary' && isTest ? this.layout.animals[0] + mapRng.below(options.nCities) : causal;
      this.implOf.set(n, animal);
    }
  }

  cityOf(name: number): number {
    return this.layout.cities[0] + ((name - this.layout.names[0]) % this.options.nCities);
  }

  implicationOf(name: number): number {
    const a = this.implOf.get(name);
    if (a === undefined) throw new Error(`ocr-recall: ${name} is not a name token`);
    return a;
  }

  /** Writes one sequence: noise, the name at p ∈ [0, T−3], the relation at a later position ≤ T−2, end last. */
  private writeSequence(rng: Rng, out: Int32Array, offset: number, name: number, relation: number): void {
    const T = this.seqLen;
    const { noise, end } = this.layout;
    for (let t = 0; t < T - 1; t++) out[offset + t] = rng.int(noise[0], noise[1]);
    const p = rng.int(0, T - 3);
    const q = rng.int(p + 1, T - 2);
    out[offset + p] = name;
    out[offset + q] = relation;
    out[offset + T - 1] = end;
  }

  private fill(rng: Rng, groups: { names: number[]; relation: number; count: number; cycle: boolean }[]): TokenBatch {
    const batch = groups.reduce((s, g) => s + g.count, 0);
    const tokens = new Int32Array(batch * this.seqLen);
    const targets = new Int32Array(batch);
    let row = 0;
    for (const g of groups) {
      for (let i = 0; i < g.count; i++, row++) {
        // Eval sets cycle through names so each name is weighted equally; training samples uniformly.
        const name = g.cycle ? g.names[i % g.names.length] : g.names[rng.int(0, g.names.length - 1)];
        this.writeSequence(rng, tokens, row * this.seqLen, name, g.relation);
        targets[row] = g.relation === this.layout.relFact ? this.cityOf(name) : this.implicationOf(name);
      }
    }
    return { tokens, targets, batch, seqLen: this.seqLen };
  }

  sampleTrainBatch(rng: Rng, batchSize: number): TokenBatch {
    const { trainNames, testNames, relFact, relImpl } = this.layout;
    const third = Math.floor(batchSize / 3);
    const rest = batchSize - 3 * third;
    return this.fill(rng, [
      { names: trainNames, relation: relFact, count: third + (rest > 0 ? 1 : 0), cycle: false },
      { names: trainNames, relation: relImpl, count: third + (rest > 1 ? 1 : 0), cycle: false },
      { names: testNames, relation: relFact, count: third, cycle: false },
    ]);
  }

  evalSets(rng: Rng, samplesPerSet: number): EvalSet[] {
    const { trainNames, testNames, relFact, relImpl } = this.layout;
    const sets: [string, number[], number][] = [
      ['train_fact', trainNames, relFact],
      ['train_impl', trainNames, relImpl],
      ['test_fact', testNames, relFact],
      ['test_impl', testNames, relImpl],
    ];
    return sets.map(([name, names, relation]) => ({
      name,
      ...this.fill(rng, [{ names, relation, count: samplesPerSet, cycle: true }]),
    }));
  }
}

/** Tiny LCG kept separate from the data stream so the arbitrary map depends on mapSeed alone. */
class ArbitraryMapRng {
  private s: number;
  constructor(seed: number) {
    this.s = (seed * 2654435761 + 12345) >>> 0;
  }
  below(n: number): number {
    this.s = (Math.imul(this.s, 1664525) + 1013904223) >>> 0;
    return Math.floor((this.s / 4294967296) * n);
  }
}

function buildVocab(l: OcrRecallLayout): string[] {
  const v: string[] = new Array(l.vocabSize);
  v[l.relFact] = 'rel_fact';
  v[l.relImpl] = 'rel_impl';
  for (let i = l.names[0]; i <= l.names[1]; i++) v[i] = `name_${i - l.names[0]}`;
  for (let i = l.cities[0]; i <= l.cities[1]; i++) v[i] = `city_${i - l.cities[0]}`;
  for (let i = l.animals[0]; i <= l.animals[1]; i++) v[i] = `animal_${i - l.animals[0]}`;
  for (let i = l.noise[0]; i <= l.noise[1]; i++) v[i] = `noise_${i - l.noise[0]}`;
  v[l.end] = 'end';
  return v;
}

export const ocrRecallTask: TaskDefinition<OcrRecallOptions> = {
  name: 'ocr-recall',
  description: 'Fact/implication recall (arXiv 2506.10887): implications of names seen only in facts',
  resolveOptions(raw) {
    const parsed = OcrRecallOptionsSchema.safeParse(raw);
    if (!parsed.success) {
      throw new Error(`ocr-recall options: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
    }
    return parsed.data;
  },
  create: (options) => new OcrRecallTask(options),
};

export type { OcrRecallTask };
export function createOcrRecallTask(raw: Record<string, unknown> = {}): OcrRecallTask {
  return new OcrRecallTask(ocrRecallTask.resolveOptions(raw));
}
