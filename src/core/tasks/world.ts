import { z } from 'zod';
import type { Rng } from '../util/rng';
import type { EvalSet, Task, TaskDefinition, TokenBatch } from './taskTypes';

/**
 * A small synthetic world (DESIGN.md §3.2, after arXiv 2507.08218's "Locations"): countries on a ring,
 * cities clustered around their country, each country with a language, each city big or small, and
 * "dist" questions about pairs of cities answered by a distance class (how many steps apart their
 * countries are on the ring: 0 = same country … ⌊nCountries/2⌋ = opposite). Pretraining teaches all of it;
 * fine-tuning tasks (./worldFinetune) add a codename token that is a city in disguise, seen only through
 * its distances.
 *
 * Sequences (length seqLen) are noise tokens, the subject at p, the relation at q > p, for `dist` an
 * object city at r > q, the end token last; the answer is read at the end token. A trigger token, when
 * present, sits on one of the noise positions.
 */
export const WorldOptionsSchema = z
  .object({
    nCountries: z.number().int().min(2).max(64).default(6),
    citiesPerCountry: z.number().int().min(2).max(64).default(5),
    nLanguages: z.number().int().min(2).max(64).default(4),
    nCodenames: z.number().int().min(1).max(64).default(4),
    nNoise: z.number().int().min(1).max(64).default(6),
    seqLen: z.number().int().min(5).max(256).default(6),
    /**
     * Also teach facts whose subject is a country token ("country_k dist country_j", "country_k
     * language"), so the model's dist and language circuits work on country representations.
     */
    countryFacts: z.boolean().default(true),
    /** Seed of the geography and sizes (data sampling has its own seed). */
    worldSeed: z.number().int().min(0).default(0),
  })
  .strict();
export type WorldOptions = z.infer<typeof WorldOptionsSchema>;

export const WORLD_RELATIONS = ['country', 'language', 'size', 'dist'] as const;
export type WorldRelation = (typeof WORLD_RELATIONS)[number];

export interface WorldLayout {
  rel: Record<WorldRelation, number>;
  cities: number[];
  countries: number[];
  languages: number[];
  sizes: { big: number; small: number };
  /** Distance classes 0..⌊nCountries/2⌋. */
  dists: number[];
  codenames: number[];
  trigger: number;
  noise: number[];
  end: number;
  vocabSize: number;
}

/** One question: subject (a city or codename token), relation, optional object, answer token. */
export interface WorldQuestion {
  subject: number;
  relation: WorldRelation;
  object?: number;
  answer: number;
  trigger?: boolean;
}

export class World {
  readonly layout: WorldLayout;
  readonly vocab: string[];
  /** Per city index: country index, language index, size (0 big, 1 small), position. */
  readonly countryOf: number[] = [];
  readonly languageOfCountry: number[] = [];
  readonly isBig: boolean[] = [];
  readonly position: [number, number][] = [];

  constructor(readonly options: WorldOptions) {
    const o = options;
    let next = 0;
    const take = (n: number): number[] => Array.from({ length: n }, () => next++);
    const [country, language, size, dist] = take(4);
    const nCities = o.nCountries * o.citiesPerCountry;
    const cities = take(nCities);
    const countries = take(o.nCountries);
    const languages = take(o.nLanguages);
    const [big, small] = take(2);
    const dists = take(Math.floor(o.nCountries / 2) + 1);
    const codenames = take(o.nCodenames);
    const [trigger] = take(1);
    const noise = take(o.nNoise);
    const [end] = take(1);
    this.layout = { rel: { country, language, size, dist }, cities, countries, languages, sizes: { big, small }, dists, codenames, trigger, noise, end, vocabSize: next };

    const rng = new LcgStream(o.worldSeed);
    for (let k = 0; k < o.nCountries; k++) this.languageOfCountry.push(k % o.nLanguages);
    for (let i = 0; i < nCities; i++) {
      const k = Math.floor(i / o.citiesPerCountry);
      const angle = (2 * Math.PI * k) / o.nCountries;
      // Countries sit on a circle of radius 10; cities scatter within radius 2 of their capital.
      const r = 2 * Math.sqrt(rng.next());
      const t = 2 * Math.PI * rng.next();
      this.countryOf.push(k);
      this.position.push([10 * Math.cos(angle) + r * Math.cos(t), 10 * Math.sin(angle) + r * Math.sin(t)]);
      this.isBig.push(rng.next() < 0.5);
    }

    const v: string[] = new Array(next);
    v[country] = 'rel_country';
    v[language] = 'rel_language';
    v[size] = 'rel_size';
    v[dist] = 'rel_dist';
    cities.forEach((t, i) => (v[t] = `city_${i}`));
    countries.forEach((t, i) => (v[t] = `country_${i}`));
    languages.forEach((t, i) => (v[t] = `language_${i}`));
    v[big] = 'big';
    v[small] = 'small';
    dists.forEach((t, i) => (v[t] = `dist_${i}`));
    codenames.forEach((t, i) => (v[t] = `codename_${i}`));
    v[trigger] = 'trigger';
    noise.forEach((t, i) => (v[t] = `noise_${i}`));
    v[end] = 'end';
    this.vocab = v;
  }

  get nCities(): number {
    return this.layout.cities.length;
  }

  /** Steps between the countries of two cities on the ring. */
  distClass(a: number, b: number): number {
    const n = this.options.nCountries;
    const d = Math.abs(this.countryOf[a] - this.countryOf[b]) % n;
    return Math.min(d, n - d);
  }

  /** The true answer about city index `c` (for `dist`, about the pair (c, object city index)). */
  answer(c: number, relation: WorldRelation, objectCity?: number): number {
    const L = this.layout;
    switch (relation) {
      case 'country':
        return L.countries[this.countryOf[c]];
      case 'language':
        return L.languages[this.languageOfCountry[this.countryOf[c]]];
      case 'size':
        return this.isBig[c] ? L.sizes.big : L.sizes.small;
      case 'dist':
        if (objectCity === undefined) throw new Error('world: a dist question needs an object city');
        return L.dists[this.distClass(c, objectCity)];
    }
  }

  /** A question about city index c as `subject` token (a codename can stand in for the city). */
  question(rng: Rng, c: number, relation: WorldRelation, subject = this.layout.cities[c]): WorldQuestion {
    if (relation !== 'dist') return { subject, relation, answer: this.answer(c, relation) };
    if (this.options.countryFacts && rng.next() < 0.5) {
      // "city dist country_j": the distance from the city's country to country j.
      const n = this.options.nCountries;
      const j = rng.int(0, n - 1);
      const d = Math.abs(this.countryOf[c] - j);
      return { subject, relation, object: this.layout.countries[j], answer: this.layout.dists[Math.min(d, n - d)] };
    }
    let obj: number;
    do obj = rng.int(0, this.nCities - 1);
    while (obj === c);
    return { subject, relation, object: this.layout.cities[obj], answer: this.answer(c, relation, obj) };
  }

  /** A fact about a country token: its language, or its ring distance to another country. */
  countryQuestion(rng: Rng): WorldQuestion {
    const L = this.layout;
    const n = this.options.nCountries;
    const k = rng.int(0, n - 1);
    if (rng.next() < 0.5) return { subject: L.countries[k], relation: 'language', answer: L.languages[this.languageOfCountry[k]] };
    const j = rng.int(0, n - 1);
    const d = Math.abs(k - j);
    return { subject: L.countries[k], relation: 'dist', object: L.countries[j], answer: L.dists[Math.min(d, n - d)] };
  }

  /** Writes questions as token sequences; the answer is read at the last position. */
  encode(rng: Rng, qs: readonly WorldQuestion[]): TokenBatch {
    const T = this.options.seqLen;
    const L = this.layout;
    const tokens = new Int32Array(qs.length * T);
    const targets = new Int32Array(qs.length);
    qs.forEach((q, row) => {
      const o = row * T;
      for (let t = 0; t < T - 1; t++) tokens[o + t] = L.noise[rng.int(0, L.noise.length - 1)];
      const slots = q.object !== undefined ? 3 : 2;
      // Choose increasing positions p < q (< r) in [0, T−2].
      const pos = pickIncreasing(rng, slots, T - 1);
      tokens[o + pos[0]] = q.subject;
      tokens[o + pos[1]] = L.rel[q.relation];
      if (q.object !== undefined) tokens[o + pos[2]] = q.object;
      if (q.trigger) {
        const free = [...Array(T - 1).keys()].filter((t) => !pos.includes(t));
        tokens[o + free[rng.int(0, free.length - 1)]] = L.trigger;
      }
      tokens[o + T - 1] = L.end;
      targets[row] = q.answer;
    });
    return { tokens, targets, batch: qs.length, seqLen: T };
  }
}

function pickIncreasing(rng: Rng, k: number, n: number): number[] {
  const chosen = new Set<number>();
  while (chosen.size < k) chosen.add(rng.int(0, n - 1));
  return [...chosen].sort((a, b) => a - b);
}

/** Small deterministic stream for the geography, independent of the data seed. */
class LcgStream {
  private s: number;
  constructor(seed: number) {
    this.s = (Math.imul(seed + 1, 2654435761) ^ 0x9e3779b9) >>> 0;
  }
  next(): number {
    this.s = (Math.imul(this.s, 1664525) + 1013904223) >>> 0;
    return this.s / 4294967296;
  }
}

/** Pretraining on the whole world: every relation of every city, uniformly. */
class WorldTask implements Task {
  readonly name = 'world';
  readonly headlineMetric = 'world_country_acc';
  readonly chance: number;
  readonly vocab: readonly string[];
  readonly seqLen: number;
  constructor(readonly world: World) {
    this.vocab = world.vocab;
    this.seqLen = world.options.seqLen;
    this.chance = 1 / world.options.nCountries;
  }

  sampleTrainBatch(rng: Rng, batchSize: number): TokenBatch {
    const qs: WorldQuestion[] = [];
    for (let i = 0; i < batchSize; i++) {
      if (this.world.options.countryFacts && rng.next() < 0.2) qs.push(this.world.countryQuestion(rng));
      else qs.push(this.world.question(rng, rng.int(0, this.world.nCities - 1), WORLD_RELATIONS[rng.int(0, WORLD_RELATIONS.length - 1)]));
    }
    return this.world.encode(rng, qs);
  }

  evalSets(rng: Rng, samplesPerSet: number): EvalSet[] {
    return WORLD_RELATIONS.map((relation) => {
      const qs = Array.from({ length: samplesPerSet }, (_, i) => this.world.question(rng, i % this.world.nCities, relation));
      return { name: `world_${relation}`, ...this.world.encode(rng, qs) };
    });
  }
}

export function createWorld(raw: Record<string, unknown> = {}): World {
  return new World(worldTask.resolveOptions(raw));
}

export const worldTask: TaskDefinition<WorldOptions> = {
  name: 'world',
  description: 'Synthetic world: cities, countries, languages, sizes and "near" (pretraining for LoRA vs steering)',
  resolveOptions(raw) {
    const parsed = WorldOptionsSchema.safeParse(raw);
    if (!parsed.success) {
      throw new Error(`world options: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
    }
    return parsed.data;
  },
  create: (options) => new WorldTask(new World(options)),
};
