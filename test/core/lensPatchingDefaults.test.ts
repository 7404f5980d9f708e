import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AnalysisRequest, LensAnalysis, PatchingAnalysis } from '../../src/shared/analyses';
import { answerSwap } from '../../src/core/analyses/patching';
import { taskAnswers } from '../../src/core/analyses/taskAnswers';
import { initBackend } from '../../src/core/backend/initBackend';
import { forward } from '../../src/core/model/forward';
import { liveParams } from '../../src/core/model/params';
import { analyzeRequest } from '../../src/core/runs/analyzeRequest';
import { openRun, runTask } from '../../src/core/runs/openRun';
import { readManifest } from '../../src/core/io/runStore';
import { Rng } from '../../src/core/util/rng';

/**
 * The Lens & Patching defaults on the shipped example runs: the answer is the task's true answer when
 * the prompt is one the task asks (with the model's prediction beside it), direct logit attribution
 * decomposes the logit difference answer − wrong and its components add up to it, and the default
 * corruption swaps the subject so that the true answer changes.
 */

const WS = path.resolve(import.meta.dirname, '../../resources/workspace');
const dirOf = (run: string): string => path.join(WS, run);
const lens = (run: string, args: Record<string, unknown> = {}): LensAnalysis => analyzeRequest(dirOf(run), { kind: 'logit-lens', id: run, ...args } as AnalysisRequest) as LensAnalysis;
const patch = (run: string, args: Record<string, unknown> = {}): PatchingAnalysis => analyzeRequest(dirOf(run), { kind: 'patching', id: run, ...args } as AnalysisRequest) as PatchingAnalysis;

/** The model's logits at the last position of a prompt given as token names. */
function modelLogits(run: string, tokens: readonly string[]): { logit: (name: string) => number; mean: number } {
  const r = openRun(dirOf(run));
  const ids = tokens.map((t) => r.vocab.indexOf(t));
  const params = liveParams(r.params);
  try {
    const row = tf.tidy(() => Array.from(forward(r.config, params, tf.tensor2d([ids], [1, ids.length], 'int32')).logits.slice([0, ids.length - 1, 0], [1, 1, -1]).dataSync()));
    return { logit: (name) => row[r.vocab.indexOf(name)], mean: row.reduce((s, v) => s + v, 0) / row.length };
  } finally {
    Object.values(params).forEach((t) => t.dispose());
  }
}

/** The held-out prompt the workbench reads by default (the first of the task's last eval split) and its target. */
function defaultPrompt(run: string): { tokens: string[]; answer: string; split: string } {
  const task = runTask(readManifest(dirOf(run)));
  const sets = task.evalSets(new Rng(0), 1);
  const set = sets[sets.length - 1];
  return { tokens: Array.from(set.tokens.subarray(0, set.seqLen), (t) => task.vocab[t]), answer: task.vocab[set.targets[0]], split: set.name };
}

const relErr = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(b), 1e-6);
const sumOf = (a: LensAnalysis): number => a.dla.components.reduce((s, c) => s + c.values[0], a.dla.bias[0]);

beforeAll(async () => {
  await initBackend();
});

describe('logit lens: the default answer', () => {
  it('is the task’s true answer on ocr-combined’s held-out prompt, with the prediction beside it', () => {
    const want = defaultPrompt('ocr-combined');
    const a = lens('ocr-combined');
    expect(a.tokens).toEqual(want.tokens);
    expect(want.split).toBe('test_impl');
    expect(a.answer).toBe(want.answer);
    expect(a.answer).toBe('animal_0');
    expect(a.answerSource).toBe('task');
    expect(a.split).toBe('test_impl');
    // The combined model does not know held-out implications: its prediction is another animal.
    expect(a.prediction.token).toBe('animal_7');
    expect(a.prediction.prob).toBeGreaterThan(0);
    expect(a.prediction.prob).toBeLessThan(0.2);
    // The lens tracks the true answer, not the prediction.
    const last = a.lens.hooks[a.lens.hooks.length - 1].prompts[0];
    expect(a.vocab[last.target?.token ?? -1]).toBe('animal_0');
    expect(last.target?.rank).toBeGreaterThan(0);
  });

  it('is the example’s answer for every prompt the view’s picker offers', () => {
    for (const run of ['ocr-combined', 'world-base', 'two-hop']) {
      const task = runTask(readManifest(dirOf(run)));
      const sets = task.evalSets(new Rng(0), 6);
      for (const set of [sets[0], sets[sets.length - 1]]) {
        const tokens = Array.from(set.tokens.subarray(0, set.seqLen), (t) => task.vocab[t]);
        const a = lens(run, { prompt: tokens.join(' ') });
        expect(a.answer, `${run} ${tokens.join(' ')}`).toBe(task.vocab[set.targets[0]]);
        expect(a.answerSource).toBe('task');
        expect(a.split).toBe(set.name);
      }
    }
  });

  it('is the model’s top prediction, labelled predicted, for a prompt the task does not ask', () => {
    const a = lens('world-base', { prompt: 'noise_0 city_3 noise_1 noise_2 noise_3 end' });
    expect(a.answerSource).toBe('predicted');
    expect(a.answer).toBe(a.prediction.token);
    expect(a.split).toBeUndefined();
    // And the DLA's wrong token is the next most likely one: a positive logit difference.
    expect(a.attribution.wrongSource).toBe('predicted');
    expect(a.dla.logit[0]).toBeGreaterThan(0);
  });

  it('is the given token when one is named, still recognised as the task’s when it is', () => {
    const t = defaultPrompt('ocr-combined');
    expect(lens('ocr-combined', { answer: 'animal_7' })).toMatchObject({ answer: 'animal_7', answerSource: 'given' });
    expect(lens('ocr-combined', { answer: t.answer })).toMatchObject({ answer: t.answer, answerSource: 'task', split: 'test_impl' });
  });
});

describe('direct logit attribution of the logit difference', () => {
  it.each(['world-base', 'ocr-combined', 'ocr-factorized', 'two-hop', 'reversal', 'reversal-tied'])(
    '%s: the components (+ bias) sum to logit(answer) − logit(wrong) of the model within 1e-3',
    (run) => {
      const a = lens(run);
      expect(a.attribution.method).toBe('logit-diff');
      expect(a.attribution.answer).toBe(a.answer);
      const wrong = a.attribution.wrong as string;
      expect(wrong).toBeDefined();
      expect(wrong).not.toBe(a.answer);
      expect(a.vocab[a.dla.baseline?.[0] ?? -1]).toBe(wrong);
      const m = modelLogits(run, a.tokens);
      const diff = m.logit(a.answer) - m.logit(wrong);
      expect(relErr(a.dla.logit[0], diff)).toBeLessThan(1e-3);
      expect(relErr(sumOf(a), diff)).toBeLessThan(1e-3);
      expect(relErr(a.dla.sum[0], diff)).toBeLessThan(1e-3);
    },
  );

  it('world-base’s default prompt: the answer (p = 1) is raised, not lowered by every component', () => {
    const a = lens('world-base');
    expect(a.answer).toBe('dist_1');
    expect(a.prediction).toMatchObject({ token: 'dist_1' });
    expect(a.prediction.prob).toBeGreaterThan(0.999);
    // The wrong token is the most likely other answer of the split (a distance class).
    expect(a.attribution.wrong).toMatch(/^dist_/);
    expect(a.attribution.wrongSource).toBe('task');
    expect(a.dla.logit[0]).toBeGreaterThan(10);
    // The raw logit of the same answer is hugely negative (what every token shares): not what DLA shows by default.
    const raw = lens('world-base', { attribution: 'logit' });
    expect(raw.dla.logit[0]).toBeLessThan(-100);
    expect(raw.attribution).toEqual({ method: 'logit', answer: 'dist_1' });
    expect(raw.dla.baseline).toBeNull();
    const m = modelLogits('world-base', a.tokens);
    expect(relErr(sumOf(raw), m.logit('dist_1'))).toBeLessThan(1e-3);
  });

  it('centred logits sum to logit(answer) − the mean logit', () => {
    for (const run of ['world-base', 'ocr-combined']) {
      const a = lens(run, { attribution: 'centred' });
      expect(a.attribution).toEqual({ method: 'centred', answer: a.answer });
      const m = modelLogits(run, a.tokens);
      expect(relErr(sumOf(a), m.logit(a.answer) - m.mean)).toBeLessThan(1e-3);
      expect(relErr(a.dla.logit[0], m.logit(a.answer) - m.mean)).toBeLessThan(1e-3);
    }
  });

  it('takes a named wrong token, and refuses one that is the answer or goes with another method', () => {
    const a = lens('world-base', { wrong: 'dist_0' });
    expect(a.attribution).toMatchObject({ wrong: 'dist_0', wrongSource: 'given' });
    expect(() => lens('world-base', { wrong: 'dist_1' })).toThrow(/is the answer/);
    expect(() => lens('world-base', { wrong: 'dist_0', attribution: 'centred' })).toThrow(/logit-diff/);
  });
});

describe('patching: the default corruption changes the true answer', () => {
  it('ocr-combined: a held-out subject of another class; clean and corrupted answers are the task’s', () => {
    const p = patch('ocr-combined');
    const changed = p.tokens.map((t, i) => i).filter((i) => p.tokens[i] !== p.corrupted[i]);
    expect(changed).toHaveLength(1);
    expect(p.tokens[changed[0]]).toBe('name_20');
    expect(p.corrupted[changed[0]]).toMatch(/^name_/);
    expect(p.corruption).toBe('answer-swap');
    expect(p).toMatchObject({ answer: 'animal_0', answerSource: 'task', wrongSource: 'task', splits: { clean: 'test_impl', corrupted: 'test_impl' } });
    expect(p.wrong).toMatch(/^animal_/);
    expect(p.wrong).not.toBe(p.answer);
    // The predictions are reported beside the answers (the combined model gets both wrong).
    expect(p.predictions.clean).toBe('animal_7');
  });

  it.each(['ocr-combined', 'ocr-factorized', 'world-base', 'two-hop', 'two-hop-factorized', 'reversal'])(
    '%s: the corrupted prompt’s true answer differs from the clean one, and is the wrong token',
    (run) => {
      const p = patch(run);
      const task = runTask(readManifest(dirOf(run)));
      const answers = taskAnswers(task);
      const ids = (ts: string[]): number[] => ts.map((t) => task.vocab.indexOf(t));
      const clean = answers.lookup(ids(p.tokens));
      const corrupted = answers.lookup(ids(p.corrupted));
      expect(clean).toBeDefined();
      expect(corrupted).toBeDefined();
      expect(corrupted?.answer).not.toBe(clean?.answer);
      expect(p.answer).toBe(task.vocab[clean?.answer ?? -1]);
      expect(p.wrong).toBe(task.vocab[corrupted?.answer ?? -1]);
      expect(p.corruption).toBe('answer-swap');
      expect(p.tokens.filter((t, i) => t !== p.corrupted[i])).toHaveLength(1);
      expect(p.residual.cleanLogitDiff).not.toBe(p.residual.corruptedLogitDiff);
    },
  );

  it.each(['lora-vs-steering/lora', 'lora-vs-steering-backdoor/lora'])('%s (a fine-tune task, no checkpoints): the swap still finds a subject with another answer', (run) => {
    const task = runTask(readManifest(dirOf(run)));
    const answers = taskAnswers(task);
    const sets = task.evalSets(new Rng(0), 1);
    const held = sets[0];
    const clean = Array.from(held.tokens.subarray(0, held.seqLen));
    const known = answers.lookup(clean);
    expect(known).toEqual({ answer: held.targets[0], split: held.name });
    const model = { vocab: task.vocab, config: { dVocab: task.vocab.length } } as unknown as Parameters<typeof answerSwap>[0];
    const swap = answerSwap(model, answers, clean, known as NonNullable<typeof known>);
    expect(swap).not.toBeNull();
    const changed = clean.map((t, i) => i).filter((i) => clean[i] !== swap?.tokens[i]);
    expect(changed).toHaveLength(1);
    // The subject (the first content token) is what changes.
    expect(changed[0]).toBe(clean.findIndex((t) => !answers.isNoise(t)));
    expect(swap?.answer.answer).not.toBe(known?.answer);
    expect(answers.lookup(swap?.tokens ?? [])).toEqual(swap?.answer);
  });

  it('a typed corrupted prompt: its true answer is the wrong token where the task knows it', () => {
    const p = patch('world-base', { prompt: 'noise_0 city_3 rel_country noise_1 noise_2 end', corrupt: 'noise_0 city_12 rel_country noise_1 noise_2 end' });
    expect(p).toMatchObject({ answer: 'country_0', wrong: 'country_2', answerSource: 'task', wrongSource: 'task', corruption: 'given' });
  });

  it('a prompt the task does not ask: the model’s predictions stand in, as before', () => {
    const p = patch('world-base', { prompt: 'noise_0 city_3 noise_1 noise_2 noise_3 end' });
    expect(p.answerSource).toBe('predicted');
    expect(p.answer).toBe(p.predictions.clean);
    expect(p.corruption).toBe('prediction-swap');
    expect(p.wrong).toBe(p.predictions.corrupted);
  });
});
