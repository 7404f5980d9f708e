import { describe, expect, it } from 'vitest';
import { createOcrRecallTask, ocrRecallTask } from '../../src/core/tasks/ocrRecall';
import { TASKS } from '../../src/core/tasks/registry';
import { Rng } from '../../src/core/util/rng';

describe('ocr-recall task (arXiv 2506.10887 layout)', () => {
  const task = createOcrRecallTask();
  const L = task.layout;

  it('fixes the token ids of the contract', () => {
    expect([L.relFact, L.relImpl]).toEqual([0, 1]);
    expect(L.names).toEqual([2, 81]);
    expect(L.cities).toEqual([82, 101]);
    expect(L.animals).toEqual([102, 121]);
    expect(L.noise).toEqual([122, 126]);
    expect(L.end).toBe(127);
    expect(task.vocab.length).toBe(128);
    expect(task.vocab[0]).toBe('rel_fact');
    expect(task.vocab[2]).toBe('name_0');
    expect(task.vocab[82]).toBe('city_0');
    expect(task.vocab[127]).toBe('end');
    expect(new Set(task.vocab).size).toBe(128);
  });

  it('maps name n to city 82 + ((n − 2) mod 20) and city 82 + j to animal 102 + j', () => {
    for (let n = 2; n <= 81; n++) {
      const city = 82 + ((n - 2) % 20);
      expect(task.cityOf(n)).toBe(city);
      expect(task.implicationOf(n)).toBe(102 + (city - 82));
    }
  });

  it('splits names 2–21 for training (one per city) and 22–81 for test', () => {
    expect(L.trainNames).toEqual(Array.from({ length: 20 }, (_, i) => 2 + i));
    expect(L.testNames).toEqual(Array.from({ length: 60 }, (_, i) => 22 + i));
    expect(new Set(L.trainNames.map((n) => task.cityOf(n))).size).toBe(20);
  });

  it('writes sequences of 16: noise, the name at 0..13, the relation later and before 15, end last', () => {
    const b = task.sampleTrainBatch(new Rng(0), 252);
    expect(b.batch).toBe(252);
    const namePositions = new Set<number>();
    for (let r = 0; r < b.batch; r++) {
      const seq = Array.from(b.tokens.subarray(r * 16, (r + 1) * 16));
      expect(seq[15]).toBe(127);
      const p = seq.findIndex((t) => t >= 2 && t <= 81);
      const q = seq.findIndex((t) => t === 0 || t === 1);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThanOrEqual(13);
      expect(q).toBeGreaterThan(p);
      expect(q).toBeLessThanOrEqual(14);
      namePositions.add(p);
      seq.forEach((t, i) => {
        if (i !== p && i !== q && i !== 15) expect(t >= 122 && t <= 126).toBe(true);
      });
      const name = seq[p];
      expect(b.targets[r]).toBe(seq[q] === 0 ? task.cityOf(name) : task.implicationOf(name));
    }
    expect(namePositions.size).toBe(14);
  });

  it('fills a batch of 252 with one third each: train facts, train implications, test facts', () => {
    const b = task.sampleTrainBatch(new Rng(1), 252);
    const kinds = { trainFact: 0, trainImpl: 0, testFact: 0, other: 0 };
    for (let r = 0; r < b.batch; r++) {
      const seq = Array.from(b.tokens.subarray(r * 16, (r + 1) * 16));
      const name = seq.find((t) => t >= 2 && t <= 81) as number;
      const rel = seq.find((t) => t === 0 || t === 1);
      const train = name <= 21;
      if (train && rel === 0) kinds.trainFact++;
      else if (train && rel === 1) kinds.trainImpl++;
      else if (!train && rel === 0) kinds.testFact++;
      else kinds.other++;
    }
    expect(kinds).toEqual({ trainFact: 84, trainImpl: 84, testFact: 84, other: 0 });
  });

  it('is deterministic given a seed and differs across seeds', () => {
    const a = task.sampleTrainBatch(new Rng(7), 60);
    const b = task.sampleTrainBatch(new Rng(7), 60);
    const c = task.sampleTrainBatch(new Rng(8), 60);
    expect(Array.from(a.tokens)).toEqual(Array.from(b.tokens));
    expect(Array.from(a.tokens)).not.toEqual(Array.from(c.tokens));
  });

  it('eval sets cover each split with every name equally', () => {
    const sets = task.evalSets(new Rng(3), 120);
    expect(sets.map((s) => s.name)).toEqual(['train_fact', 'train_impl', 'test_fact', 'test_impl']);
    const testImpl = sets[3];
    const counts = new Map<number, number>();
    for (let r = 0; r < testImpl.batch; r++) {
      const name = Array.from(testImpl.tokens.subarray(r * 16, (r + 1) * 16)).find((t) => t >= 2 && t <= 81) as number;
      expect(name).toBeGreaterThanOrEqual(22);
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    expect(counts.size).toBe(60);
    expect(new Set(counts.values())).toEqual(new Set([2]));
  });

  it("the 'arbitrary' variant changes only test names' implications", () => {
    const arb = createOcrRecallTask({ implication: 'arbitrary', mapSeed: 3 });
    for (const n of L.trainNames) expect(arb.implicationOf(n)).toBe(task.implicationOf(n));
    const changed = L.testNames.filter((n) => arb.implicationOf(n) !== task.implicationOf(n)).length;
    expect(changed).toBeGreaterThan(40);
    for (const n of L.testNames) expect(arb.implicationOf(n)).toBeGreaterThanOrEqual(102);
  });

  it('rejects bad options with a clear message', () => {
    expect(() => ocrRecallTask.resolveOptions({ nNames: 'many' })).toThrow(/ocr-recall options: nNames/);
    expect(() => ocrRecallTask.resolveOptions({ colour: 'red' })).toThrow(/ocr-recall options/);
    expect(() => createOcrRecallTask({ trainFraction: 0.001 })).toThrow(/leaves 0 of 80 names/);
  });

  it('task registry names are unique', () => {
    const names = TASKS.map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
  });
});
