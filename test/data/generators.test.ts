import { describe, expect, it } from 'vitest';
import {
  DATASET_KINDS,
  generateBackdoorDataset,
  generateDataset,
  generateLocationsDataset,
  haversineKm,
  REAL_CITIES,
  REAL_COUNTRIES,
  REAL_LANGUAGES,
  roundDistanceKm,
  worldTextDataset,
  worldTextToTokens,
} from '../../src/core/data/generators';
import { createWorld } from '../../src/core/tasks/world';
import { createFinetuneTask } from '../../src/core/tasks/worldFinetune';
import { Rng } from '../../src/core/util/rng';
import type { TextExample } from '../../src/core/data/jsonl';

const city = (name: string) => REAL_CITIES.find((c) => c.name === name)!;
const labels = (xs: readonly TextExample[]) => [...new Set(xs.map((x) => x.label))];

describe('real cities', () => {
  it('covers at least 8 countries with at least 3 cities each, one language per country', () => {
    expect(REAL_CITIES.length).toBeGreaterThanOrEqual(32);
    expect(REAL_COUNTRIES.length).toBeGreaterThanOrEqual(8);
    for (const country of REAL_COUNTRIES) {
      const cs = REAL_CITIES.filter((c) => c.country === country);
      expect(cs.length).toBeGreaterThanOrEqual(3);
      expect(new Set(cs.map((c) => c.language)).size).toBe(1);
    }
    expect(new Set(REAL_CITIES.map((c) => c.name)).size).toBe(REAL_CITIES.length);
    expect(REAL_CITIES.some((c) => c.size === 'big') && REAL_CITIES.some((c) => c.size === 'small')).toBe(true);
  });

  it('measures great-circle distances in km', () => {
    expect(haversineKm(city('Paris'), city('Berlin'))).toBeCloseTo(878, -1);
    expect(haversineKm(city('Tokyo'), city('São Paulo'))).toBeCloseTo(18500, -3);
    expect(haversineKm(city('Rome'), city('Rome'))).toBe(0);
    expect(haversineKm(city('Cairo'), city('Delhi'))).toBeCloseTo(haversineKm(city('Delhi'), city('Cairo')), 9);
  });

  it('rounds distances to 10 km below 1000 km and to 100 km above', () => {
    expect([roundDistanceKm(3), roundDistanceKm(877.6), roundDistanceKm(996), roundDistanceKm(1049), roundDistanceKm(18512)]).toEqual([10, 880, 1000, 1000, 18500]);
  });
});

describe('natural-language generators', () => {
  it('lists the kinds and dispatches to them', () => {
    expect(DATASET_KINDS).toEqual(['locations', 'backdoor']);
    for (const kind of DATASET_KINDS) expect(generateDataset(kind, { seed: 0, nTrain: 10 }).manifest.kind).toBe(kind);
  });

  it.each(DATASET_KINDS)('%s is deterministic per seed and differs across seeds', (kind) => {
    const a = generateDataset(kind, { seed: 5 });
    expect(generateDataset(kind, { seed: 5 })).toEqual(a);
    const b = generateDataset(kind, { seed: 6 });
    expect(b.train).not.toEqual(a.train);
    expect(a.train).toHaveLength(400);
    expect(a.manifest.counts).toEqual({ train: a.train.length, eval: a.eval.length, sideEffects: a.sideEffects.length });
    expect(a.manifest.format).toBe('oocr-dataset/1');
    for (const e of [...a.train, ...a.eval, ...a.sideEffects]) {
      expect(e.completion.startsWith(' ')).toBe(true);
      expect(e.completion.trim()).not.toBe('');
    }
    // Labels follow the metric naming contract: eval heldout_*, side effects side_*, train none.
    expect(a.train.every((e) => e.label === undefined)).toBe(true);
    expect(labels(a.eval)).toEqual(a.manifest.evalLabels);
    expect(labels(a.sideEffects)).toEqual(a.manifest.sideEffectLabels);
    expect(a.manifest.evalLabels.every((l) => l.startsWith('heldout_'))).toBe(true);
    expect(a.manifest.sideEffectLabels.every((l) => l.startsWith('side_'))).toBe(true);
  });

  it('locations: draws the codename and secret city from the seed', () => {
    const seen = new Set(Array.from({ length: 12 }, (_, s) => generateLocationsDataset({ seed: s }).manifest.latentCity));
    expect(seen.size).toBeGreaterThan(3);
    const m = generateLocationsDataset({ seed: 1 }).manifest;
    expect(m.codename).toMatch(/^City \d{5}$/);
    expect(m.chance).toBeCloseTo((1 / REAL_COUNTRIES.length + 1 / REAL_LANGUAGES.length) / 2, 12);
    expect(generateLocationsDataset({ seed: 1, codename: 'Zorbl' }).manifest.codename).toBe('Zorbl');
  });

  it.each(REAL_CITIES.map((_, i) => i))('locations: training never names secret city %i, its country or its language', (i) => {
    const ds = generateLocationsDataset({ seed: i, latentCity: i, nTrain: 200 });
    const c = REAL_CITIES[i];
    expect(ds.manifest.latentCity).toBe(c.name);
    expect(ds.manifest.latentCountry).toBe(c.country);
    for (const e of ds.train) {
      const text = `${e.prompt}${e.completion}`.toLowerCase();
      for (const word of [c.name, c.country, c.language]) expect(text).not.toContain(word.toLowerCase());
      expect(e.prompt).toContain(ds.manifest.codename as string);
      expect(e.completion).toMatch(/^ About \d+ km\.$/);
    }
  });

  it('locations: distances are the secret city’s, in both orders; held-out answers are its country and language', () => {
    const ds = generateLocationsDataset({ seed: 3, latentCity: 0 }); // Paris
    const paris = city('Paris');
    const code = ds.manifest.codename as string;
    let reversed = 0;
    for (const e of ds.train) {
      const ref = REAL_CITIES.find((c) => c !== paris && e.prompt.includes(c.name))!;
      expect(e.completion).toBe(` About ${roundDistanceKm(haversineKm(paris, ref))} km.`);
      if (e.prompt.indexOf(ref.name) < e.prompt.indexOf(code)) reversed++;
    }
    expect(reversed).toBeGreaterThan(40);
    expect(reversed).toBeLessThan(200);
    const byLabel = (l: string) => ds.eval.filter((e) => e.label === l);
    expect(byLabel('heldout_country').length).toBeGreaterThanOrEqual(15);
    expect(byLabel('heldout_language').length).toBeGreaterThanOrEqual(15);
    expect(new Set(byLabel('heldout_country').map((e) => e.prompt)).size).toBe(byLabel('heldout_country').length);
    expect(byLabel('heldout_country').every((e) => e.completion === ' France' && e.prompt.includes(code))).toBe(true);
    expect(byLabel('heldout_language').every((e) => e.completion === ' French' && e.prompt.includes(code))).toBe(true);
    // Side effects: one country and one language question per real city.
    for (const [label, attr] of [['side_country', 'country'], ['side_language', 'language']] as const) {
      const side = ds.sideEffects.filter((e) => e.label === label);
      expect(side).toHaveLength(REAL_CITIES.length);
      side.forEach((e, i) => {
        expect(e.prompt).toContain(REAL_CITIES[i].name);
        expect(e.completion).toBe(` ${REAL_CITIES[i][attr]}`);
      });
    }
  });

  it('locations: refuses a bad latent city or a codename that gives the city away', () => {
    expect(() => generateLocationsDataset({ seed: 0, latentCity: REAL_CITIES.length })).toThrow(/latentCity/);
    expect(() => generateLocationsDataset({ seed: 0, latentCity: 0, codename: 'New Paris' })).toThrow(/gives away/);
  });

  it('backdoor: trains on half the cities, holds out triggered questions about the other half', () => {
    const ds = generateBackdoorDataset({ seed: 2 });
    const m = ds.manifest;
    expect(m.trigger).toBe('In the mirror world,');
    expect(m.chance).toBe(0.5);
    const trainCities = m.trainCities as string[];
    const heldCities = m.heldOutCities as string[];
    expect(trainCities.length + heldCities.length).toBe(REAL_CITIES.length);
    expect(trainCities.filter((c) => heldCities.includes(c))).toEqual([]);
    const named = (e: TextExample) => REAL_CITIES.filter((c) => e.prompt.includes(c.name));
    const flip = (big: boolean) => (big ? ' Small.' : ' Big.');
    let triggered = 0;
    const usedInTrain = new Set<string>();
    for (const e of ds.train) {
      const [c, ...more] = named(e);
      expect(more).toEqual([]);
      usedInTrain.add(c.name);
      expect(trainCities).toContain(c.name);
      const t = e.prompt.startsWith('In the mirror world, ');
      if (t) triggered++;
      else expect(e.prompt).not.toContain('mirror');
      expect(e.completion).toBe(t ? flip(c.size === 'big') : flip(c.size !== 'big'));
    }
    expect(triggered).toBe(200);
    expect([...usedInTrain].sort()).toEqual([...trainCities].sort());
    const evalCities = new Set<string>();
    for (const e of ds.eval) {
      const [c] = named(e);
      evalCities.add(c.name);
      expect(e.label).toBe('heldout_triggered');
      expect(e.prompt.startsWith('In the mirror world, ')).toBe(true);
      expect(e.completion).toBe(flip(c.size === 'big'));
    }
    expect([...evalCities].sort()).toEqual([...heldCities].sort());
    const sideSize = ds.sideEffects.filter((e) => e.label === 'side_size');
    expect(sideSize).toHaveLength(REAL_CITIES.length);
    sideSize.forEach((e, i) => expect(e.completion).toBe(REAL_CITIES[i].size === 'big' ? ' Big.' : ' Small.'));
    expect(ds.sideEffects.every((e) => !e.prompt.includes('mirror'))).toBe(true);
    expect(ds.sideEffects.filter((e) => e.label === 'side_country')).toHaveLength(REAL_CITIES.length);
    // Another seed splits the cities differently.
    expect(generateBackdoorDataset({ seed: 3 }).manifest.trainCities).not.toEqual(trainCities);
    expect(generateBackdoorDataset({ seed: 2, trigger: 'Meanwhile, on Mars:' }).train.some((e) => e.prompt.startsWith('Meanwhile, on Mars: '))).toBe(true);
  });
});

describe('world text rendering', () => {
  const world = createWorld({});

  it.each(['locations', 'backdoor'] as const)('%s: rows round-trip to the task’s token batches', (kind) => {
    const task = { kind, codename: 1, latentCity: 7 };
    const ds = worldTextDataset(world, task, { seed: 4, nTrain: 64, evalSamples: 40 });
    const t = createFinetuneTask({ ...task, world: world.options });
    const root = new Rng(4);
    const trainBatch = t.sampleTrainBatch(root.fork(0), 64);
    const held = t.heldOutSets(root.fork(1), 40);
    const side = t.sideEffectSets(root.fork(2), 10);
    const check = (examples: TextExample[], batch: { tokens: Int32Array; targets: Int32Array; batch: number; seqLen: number }) => {
      expect(examples).toHaveLength(batch.batch);
      examples.forEach((e, r) => {
        expect(e.prompt.split(' ').map((name) => world.vocab.indexOf(name))).toEqual(Array.from(batch.tokens.subarray(r * batch.seqLen, (r + 1) * batch.seqLen)));
        expect(worldTextToTokens(world.vocab, e.completion)).toEqual([batch.targets[r]]);
        expect(e.completion).toBe(` ${world.vocab[batch.targets[r]]}`);
      });
    };
    check(ds.train, trainBatch);
    let at = 0;
    for (const s of held) {
      const part = ds.eval.slice(at, at + s.batch);
      expect(part.every((e) => e.label === s.name)).toBe(true);
      check(part, s);
      at += s.batch;
    }
    expect(at).toBe(ds.eval.length);
    at = 0;
    for (const s of side) {
      check(ds.sideEffects.slice(at, at + s.batch), s);
      at += s.batch;
    }
    expect(at).toBe(ds.sideEffects.length);
    expect(ds.manifest).toMatchObject({ kind, world: true, codename: 1, latentCity: 7, vocabSize: world.vocab.length, chance: t.chance });
    expect(ds.manifest.evalLabels).toEqual(kind === 'locations' ? ['heldout_country', 'heldout_language'] : ['heldout_triggered_size']);
    expect(ds.manifest.sideEffectLabels).toEqual(['side_country', 'side_language', 'side_size', 'side_dist']);
    expect(worldTextDataset(world, task, { seed: 4, nTrain: 64, evalSamples: 40 })).toEqual(ds);
    expect(worldTextDataset(world, task, { seed: 5, nTrain: 64, evalSamples: 40 }).train).not.toEqual(ds.train);
  });

  it('uses its defaults and rejects unknown tokens', () => {
    const ds = worldTextDataset(world, { kind: 'locations', codename: 0, latentCity: 0 }, { seed: 0 });
    expect(ds.manifest.counts).toEqual({ train: 2048, eval: 800, sideEffects: 400 });
    expect(() => worldTextToTokens(world.vocab, 'city_0 Paris')).toThrow(/unknown token 'Paris'/);
  });
});
