import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initBackend } from '../../src/core/backend/initBackend';
import { presetConfig } from '../../src/core/presets';
import { createReversalTask, reversalTask } from '../../src/core/tasks/reversal';
import { createTask, TASKS } from '../../src/core/tasks/registry';
import type { TokenBatch } from '../../src/core/tasks/taskTypes';
import { createTwoHopTask, twoHopTask } from '../../src/core/tasks/twoHop';
import { checkTrainConfig, trainRun } from '../../src/core/train/trainRun';
import { Rng } from '../../src/core/util/rng';

const range = (lo: number, n: number): number[] => Array.from({ length: n }, (_, i) => lo + i);

/** Row r of a batch as a plain array. */
const row = (b: TokenBatch, r: number): number[] => Array.from(b.tokens.subarray(r * b.seqLen, (r + 1) * b.seqLen));

/**
 * Checks the sequence contract shared by both tasks: noise everywhere except one subject at p ≤ T−3,
 * one relation at p < q ≤ T−2 and the end token at T−1. Returns (subject, relation) per row.
 */
function parseRows(b: TokenBatch, isSubject: (t: number) => boolean, isRelation: (t: number) => boolean, isNoise: (t: number) => boolean, end: number): [number, number][] {
  const T = b.seqLen;
  const out: [number, number][] = [];
  for (let r = 0; r < b.batch; r++) {
    const seq = row(b, r);
    expect(seq[T - 1]).toBe(end);
    const ps = seq.map((t, i) => (isSubject(t) ? i : -1)).filter((i) => i >= 0);
    const qs = seq.map((t, i) => (isRelation(t) ? i : -1)).filter((i) => i >= 0);
    expect(ps.length).toBe(1);
    expect(qs.length).toBe(1);
    const [p, q] = [ps[0], qs[0]];
    expect(p).toBeLessThanOrEqual(T - 3);
    expect(q).toBeGreaterThan(p);
    expect(q).toBeLessThanOrEqual(T - 2);
    seq.forEach((t, i) => {
      if (i !== p && i !== q && i !== T - 1) expect(isNoise(t)).toBe(true);
    });
    out.push([seq[p], seq[q]]);
  }
  return out;
}

describe('two-hop task', () => {
  const task = createTwoHopTask();
  const L = task.layout;
  const inSet = (xs: number[]) => (t: number) => xs.includes(t);
  const isSubject = (t: number): boolean => L.people.includes(t) || L.friends.includes(t);
  const isRelation = inSet([L.relFriend, L.relColour, L.relComp]);
  const isNoise = inSet(L.noise);

  it('lays out 129 readable, space-free, unique tokens', () => {
    expect([L.relFriend, L.relColour, L.relComp]).toEqual([0, 1, 2]);
    expect(L.people).toEqual(range(3, 80));
    expect(L.sharedFriends).toEqual(range(83, 10));
    expect(L.privateFriends).toEqual(range(93, 20));
    expect(L.friends).toEqual(range(83, 30));
    expect(L.colours).toEqual(range(113, 10));
    expect(L.noise).toEqual(range(123, 5));
    expect(L.end).toBe(128);
    expect(task.vocab.length).toBe(129);
    expect(L.vocabSize).toBe(129);
    expect(new Set(task.vocab).size).toBe(129);
    for (const v of task.vocab) expect(v).toMatch(/^[a-z_0-9]+$/);
    expect([task.vocab[0], task.vocab[1], task.vocab[2]]).toEqual(['rel_friend', 'rel_colour', 'rel_friend_colour']);
    expect([task.vocab[3], task.vocab[83], task.vocab[113], task.vocab[123], task.vocab[128]]).toEqual(['person_0', 'friend_0', 'colour_0', 'noise_0', 'end']);
    expect(task.headlineMetric).toBe('test_comp_acc');
    expect(task.chance).toBeCloseTo(0.1);
    expect(task.seqLen).toBe(8);
  });

  it('splits people 0–39 training, 40–59 held out with shared friends, 60–79 with private friends', () => {
    expect(L.trainPeople).toEqual(range(3, 40));
    expect(L.testSharedPeople).toEqual(range(43, 20));
    expect(L.testPrivatePeople).toEqual(range(63, 20));
    expect(L.testPeople).toEqual([...L.testSharedPeople, ...L.testPrivatePeople]);
  });

  it('composes friend and colour maps; bridges are shared or private as documented', () => {
    for (const p of L.people) expect(task.composedOf(p)).toBe(task.colourOf(task.friendOf(p)));
    const trainFriends = new Set(L.trainPeople.map((p) => task.friendOf(p)));
    expect(trainFriends).toEqual(new Set(L.sharedFriends));
    for (const p of L.testSharedPeople) expect(L.sharedFriends).toContain(task.friendOf(p));
    const privateFriends = L.testPrivatePeople.map((p) => task.friendOf(p));
    expect(new Set(privateFriends)).toEqual(new Set(L.privateFriends));
    for (const f of privateFriends) expect(trainFriends.has(f)).toBe(false);
    // Colours are spread evenly over shared friends (10 → one each) and over private ones (20 → two each).
    const count = (fs: number[]): number[] => L.colours.map((c) => fs.filter((f) => task.colourOf(f) === c).length);
    expect(count(L.sharedFriends)).toEqual(L.colours.map(() => 1));
    expect(count(L.privateFriends)).toEqual(L.colours.map(() => 2));
    expect(() => task.answer(L.colours[0], L.relFriend)).toThrow(/no answer/);
  });

  it('training batches: thirds of hop-1 (all people), hop-2 (all friends), composed (training people only)', () => {
    const rng = new Rng(1);
    const seenHop1 = new Set<number>();
    const seenHop2 = new Set<number>();
    const seenComp = new Set<number>();
    for (let k = 0; k < 20; k++) {
      const b = task.sampleTrainBatch(rng, 128);
      expect(b.batch).toBe(128);
      expect(b.seqLen).toBe(8);
      const rows = parseRows(b, isSubject, isRelation, isNoise, L.end);
      const counts = [0, 0, 0];
      rows.forEach(([s, r], i) => {
        counts[r] += 1;
        expect(b.targets[i]).toBe(task.answer(s, r));
        if (r === L.relFriend) {
          expect(L.people).toContain(s);
          seenHop1.add(s);
        } else if (r === L.relColour) {
          expect(L.friends).toContain(s);
          seenHop2.add(s);
        } else {
          // The split: no held-out person is ever asked a composed query in training.
          expect(L.trainPeople).toContain(s);
          seenComp.add(s);
        }
      });
      expect(counts).toEqual([43, 43, 42]);
    }
    expect(seenHop1.size).toBe(80);
    expect(seenHop2.size).toBe(30);
    expect(seenComp).toEqual(new Set(L.trainPeople));
  });

  it('puts the subject at every allowed position', () => {
    const b = task.sampleTrainBatch(new Rng(2), 300);
    const positions = new Set<number>();
    for (let r = 0; r < b.batch; r++) positions.add(row(b, r).findIndex(isSubject));
    expect([...positions].sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('eval sets weight every subject equally and answer correctly', () => {
    const sets = task.evalSets(new Rng(3), 120);
    expect(sets.map((s) => s.name)).toEqual(['train_hop1', 'test_hop1', 'train_hop2', 'train_comp', 'test_comp', 'test_comp_shared', 'test_comp_private']);
    const expected: Record<string, [number[], number]> = {
      train_hop1: [L.trainPeople, L.relFriend],
      test_hop1: [L.testPeople, L.relFriend],
      train_hop2: [L.friends, L.relColour],
      train_comp: [L.trainPeople, L.relComp],
      test_comp: [L.testPeople, L.relComp],
      test_comp_shared: [L.testSharedPeople, L.relComp],
      test_comp_private: [L.testPrivatePeople, L.relComp],
    };
    for (const s of sets) {
      expect(s.batch).toBe(120);
      const [subjects, relation] = expected[s.name];
      const counts = new Map<number, number>();
      parseRows(s, isSubject, isRelation, isNoise, L.end).forEach(([subj, rel], i) => {
        expect(rel).toBe(relation);
        expect(subjects).toContain(subj);
        expect(s.targets[i]).toBe(task.answer(subj, rel));
        counts.set(subj, (counts.get(subj) ?? 0) + 1);
      });
      expect(counts.size).toBe(subjects.length);
      expect(Math.max(...counts.values()) - Math.min(...counts.values())).toBeLessThanOrEqual(1);
    }
    const noPrivate = createTwoHopTask({ privateFraction: 0 });
    expect(noPrivate.evalSets(new Rng(0), 10).map((s) => s.name)).not.toContain('test_comp_private');
    expect(noPrivate.vocab.length).toBe(109);
  });

  it('is deterministic given options and the data seed', () => {
    const again = createTwoHopTask();
    expect(again.vocab).toEqual(task.vocab);
    for (const p of L.people) expect(again.friendOf(p)).toBe(task.friendOf(p));
    for (const f of L.friends) expect(again.colourOf(f)).toBe(task.colourOf(f));
    const a = task.sampleTrainBatch(new Rng(7), 60);
    const b = again.sampleTrainBatch(new Rng(7), 60);
    const c = task.sampleTrainBatch(new Rng(8), 60);
    expect(Array.from(a.tokens)).toEqual(Array.from(b.tokens));
    expect(Array.from(a.targets)).toEqual(Array.from(b.targets));
    expect(Array.from(a.tokens)).not.toEqual(Array.from(c.tokens));
    const other = createTwoHopTask({ mapSeed: 5 });
    expect(L.people.some((p) => other.friendOf(p) !== task.friendOf(p))).toBe(true);
  });

  it('rejects bad options with a clear message', () => {
    expect(() => twoHopTask.resolveOptions({ nPeople: 'many' })).toThrow(/two-hop options: nPeople/);
    expect(() => twoHopTask.resolveOptions({ nFriends: 20 })).toThrow(/two-hop options/);
    expect(() => twoHopTask.resolveOptions({ trainFraction: 1 })).toThrow(/two-hop options: trainFraction/);
    expect(() => twoHopTask.resolveOptions({ privateFraction: 1.5 })).toThrow(/two-hop options: privateFraction/);
    expect(() => createTwoHopTask({ trainFraction: 0.001 })).toThrow(/leaves 0 of 80 people/);
    expect(() => createTwoHopTask({ nSharedFriends: 41 })).toThrow(/nSharedFriends 41 exceeds the 40 training people/);
    expect(() => createTwoHopTask({ nColours: 11 })).toThrow(/nColours 11 exceeds nSharedFriends 10/);
  });
});

describe('reversal task', () => {
  const task = createReversalTask();
  const L = task.layout;
  const isSubject = (t: number): boolean => L.celebs.includes(t) || L.parents.includes(t);
  const isRelation = (t: number): boolean => t === L.relFwd || t === L.relRev;
  const isNoise = (t: number): boolean => L.noise.includes(t);

  it('lays out 128 readable, space-free, unique tokens', () => {
    expect([L.relFwd, L.relRev]).toEqual([0, 1]);
    expect(L.celebs).toEqual(range(2, 60));
    expect(L.parents).toEqual(range(62, 60));
    expect(L.noise).toEqual(range(122, 5));
    expect(L.end).toBe(127);
    expect(task.vocab.length).toBe(128);
    expect(new Set(task.vocab).size).toBe(128);
    for (const v of task.vocab) expect(v).toMatch(/^[a-z_0-9]+$/);
    expect([task.vocab[0], task.vocab[1], task.vocab[2], task.vocab[62], task.vocab[122], task.vocab[127]]).toEqual(['rel_parent', 'rel_child', 'celeb_0', 'parent_0', 'noise_0', 'end']);
    expect(task.headlineMetric).toBe('test_rev_acc');
    expect(task.chance).toBeCloseTo(1 / 60);
  });

  it('pairs celebs and parents one to one; the first 30 pairs train the reverse', () => {
    expect(new Set(L.celebs.map((c) => task.parentOf(c)))).toEqual(new Set(L.parents));
    for (const c of L.celebs) expect(task.celebOf(task.parentOf(c))).toBe(c);
    expect(L.trainCelebs).toEqual(range(2, 30));
    expect(L.testCelebs).toEqual(range(32, 30));
    expect(task.trainParents).toEqual(L.trainCelebs.map((c) => task.parentOf(c)));
    expect(task.testParents).toEqual(L.testCelebs.map((c) => task.parentOf(c)));
    expect(L.parents.some((p, i) => task.celebOf(p) !== L.celebs[i])).toBe(true);
  });

  it('training batches: half forward (all pairs), half reverse (training pairs only)', () => {
    const rng = new Rng(1);
    const seenFwd = new Set<number>();
    const seenRev = new Set<number>();
    for (let k = 0; k < 20; k++) {
      const b = task.sampleTrainBatch(rng, 127);
      const rows = parseRows(b, isSubject, isRelation, isNoise, L.end);
      let nFwd = 0;
      rows.forEach(([s, r], i) => {
        expect(b.targets[i]).toBe(task.answer(s, r));
        if (r === L.relFwd) {
          nFwd += 1;
          expect(L.celebs).toContain(s);
          seenFwd.add(s);
        } else {
          // The split: held-out parents never appear as the subject of a training query.
          expect(task.trainParents).toContain(s);
          seenRev.add(s);
        }
      });
      expect(nFwd).toBe(64);
    }
    expect(seenFwd.size).toBe(60);
    expect(seenRev).toEqual(new Set(task.trainParents));
  });

  it('eval sets cover each split with every subject equally', () => {
    const sets = task.evalSets(new Rng(3), 120);
    expect(sets.map((s) => s.name)).toEqual(['train_fwd', 'train_rev', 'test_fwd', 'test_rev']);
    const expected: Record<string, [number[], number]> = {
      train_fwd: [L.trainCelebs, L.relFwd],
      train_rev: [task.trainParents, L.relRev],
      test_fwd: [L.testCelebs, L.relFwd],
      test_rev: [task.testParents, L.relRev],
    };
    for (const s of sets) {
      const [subjects, relation] = expected[s.name];
      const counts = new Map<number, number>();
      parseRows(s, isSubject, isRelation, isNoise, L.end).forEach(([subj, rel], i) => {
        expect(rel).toBe(relation);
        expect(s.targets[i]).toBe(task.answer(subj, rel));
        counts.set(subj, (counts.get(subj) ?? 0) + 1);
      });
      expect(new Set(counts.keys())).toEqual(new Set(subjects));
      expect(new Set(counts.values())).toEqual(new Set([4]));
    }
  });

  it('is deterministic given options and the data seed', () => {
    const again = createReversalTask();
    for (const c of L.celebs) expect(again.parentOf(c)).toBe(task.parentOf(c));
    const a = task.sampleTrainBatch(new Rng(7), 50);
    const b = again.sampleTrainBatch(new Rng(7), 50);
    expect(Array.from(a.tokens)).toEqual(Array.from(b.tokens));
    expect(Array.from(a.targets)).toEqual(Array.from(b.targets));
    const other = createReversalTask({ mapSeed: 1 });
    expect(L.celebs.some((c) => other.parentOf(c) !== task.parentOf(c))).toBe(true);
  });

  it('rejects bad options with a clear message', () => {
    expect(() => reversalTask.resolveOptions({ nPairs: 1 })).toThrow(/reversal options: nPairs/);
    expect(() => reversalTask.resolveOptions({ pairs: 3 })).toThrow(/reversal options/);
    expect(() => createReversalTask({ trainFraction: 0.999 })).toThrow(/leaves 60 of 60 pairs/);
    expect(() => task.answer(L.celebs[0], L.relRev)).toThrow(/not a parent token/);
  });
});

describe('registry and presets', () => {
  it('registers two-hop and reversal under unique names', () => {
    const names = TASKS.map((t) => t.name);
    expect(names).toContain('two-hop');
    expect(names).toContain('reversal');
    expect(new Set(names).size).toBe(names.length);
    expect(createTask('two-hop', { nPeople: 40, nSharedFriends: 5, nColours: 5 }).vocab.length).toBe(3 + 40 + 5 + 10 + 5 + 5 + 1);
    expect(createTask('reversal', {}).headlineMetric).toBe('test_rev_acc');
  });

  it.each(['two-hop', 'two-hop-factorized', 'reversal', 'reversal-tied'])('preset %s passes checkTrainConfig', (name) => {
    const c = checkTrainConfig(presetConfig(name));
    const task = createTask(c.task, c.taskOptions);
    expect(c.model.dVocab).toBe(task.vocab.length);
    expect(c.model.nCtx).toBe(task.seqLen);
  });

  it('a task option that changes the vocabulary must be matched by the model', () => {
    const c = presetConfig('two-hop');
    expect(() => checkTrainConfig({ ...c, taskOptions: { nPeople: 60 } })).toThrow(/104 tokens but model.dVocab is 129/);
  });
});

describe('a few training steps', () => {
  let tmp: string;
  beforeAll(async () => {
    await initBackend();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-twohop-'));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it.each(['two-hop', 'reversal'])('%s trains and reports every split', async (name) => {
    const backend = await initBackend();
    const config = { ...presetConfig(name), steps: 3, batchSize: 24, evalSamples: 20, logEvery: 3, checkpointEvery: 0 };
    const r = await trainRun({ config, preset: name, outDir: path.join(tmp, name), backend, finalEvalSamples: 20 });
    expect(r.status).toBe('completed');
    const task = createTask(config.task, config.taskOptions);
    const keys = task.evalSets(new Rng(0), 1).map((s) => `${s.name}_acc`);
    expect(Object.keys(r.finalMetrics).filter((k) => k.endsWith('_acc'))).toEqual(keys);
    expect(keys).toContain(task.headlineMetric);
    for (const k of keys) expect(Number.isFinite(r.finalMetrics[k])).toBe(true);
  });
});
