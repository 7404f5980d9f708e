import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readManifest } from '../../src/core/io/runStore';
import { readSweepRecord, runSweep } from '../../src/core/sweeps/runSweep';
import { cellId, cellValues, parseSweepSpec, planCells, sweepPreset, type SweepSpec } from '../../src/core/sweeps/sweepSpec';
import { lastJson, oocr } from '../cli/runCli';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-sweep-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('sweep spec', () => {
  it('accepts the shipped presets; rank-sweep has 27 cells over ovRank × seed', () => {
    const rank = planCells(parseSweepSpec(sweepPreset('rank-sweep')));
    expect(rank).toHaveLength(27);
    expect(rank[0].id).toBe('ovRank-1_seed-0');
    expect(rank[26].id).toBe('ovRank-128_seed-2');
    expect(rank[4].config.model.ovRank).toBe(2);
    expect(rank[4].config.seed).toBe(1);
    expect(planCells(parseSweepSpec(sweepPreset('smoke'))).map((c) => c.config.steps)).toEqual([30, 30]);
  });

  it('sweeps the preset itself: sample-efficiency compares factorized and combined over the trained fraction', () => {
    const cells = planCells(parseSweepSpec(sweepPreset('sample-efficiency')));
    expect(cells).toHaveLength(24);
    const first = cells[0];
    expect(first.id).toBe('preset-ocr-factorized_taskOptions.trainFraction-0.05_seed-0');
    expect(first.preset).toBe('ocr-factorized');
    expect(first.config.taskOptions).toMatchObject({ trainFraction: 0.05 });
    const combined = cells.find((c) => c.values.preset === 'ocr-combined');
    expect(combined?.config.model.ov).toBe('combined');
    const spurious = planCells(parseSweepSpec(sweepPreset('spurious-vs-causal')));
    expect(spurious).toHaveLength(36);
    expect(new Set(spurious.map((c) => c.config.taskOptions.implication))).toEqual(new Set(['causal', 'arbitrary']));
    expect(() => planCells(parseSweepSpec({ name: 'x', preset: 'ocr-factorized', grid: { preset: ['nope'] }, metrics: ['test_impl_acc'] }))).toThrow(/cell preset-nope: unknown preset "nope"/);
  });

  it('asks for --yes above 1,000 cells and refuses above a million', () => {
    const big = parseSweepSpec({ name: 'big', preset: 'ocr-factorized', grid: { seed: Array.from({ length: 1001 }, (_, i) => i) }, metrics: ['test_impl_acc'] });
    expect(() => cellValues(big)).toThrow(/1001 cells \(more than 1000\); check the grid, and pass --yes/);
    expect(cellValues(big, { allowLarge: true })).toHaveLength(1001);
    const huge = parseSweepSpec({ name: 'huge', preset: 'ocr-factorized', grid: { seed: Array.from({ length: 1001 }, (_, i) => i), lr: Array.from({ length: 1000 }, (_, i) => i + 1) }, metrics: ['test_impl_acc'] });
    expect(() => cellValues(huge, { allowLarge: true })).toThrow(/1001000 cells; at most 1000000/);
  });

  it('names an unknown override, an unknown key and an empty grid in its error', () => {
    const base = { name: 'x', preset: 'ocr-factorized', grid: { seed: [0] }, metrics: ['test_impl_acc'] };
    expect(() => parseSweepSpec({ ...base, grid: { rnak: [1, 2] } })).toThrow(/grid\.rnak: unknown override 'rnak'/);
    expect(() => parseSweepSpec({ ...base, list: [{ sed: 1 }] })).toThrow(/list\.0\.sed: unknown override 'sed'/);
    expect(() => parseSweepSpec({ ...base, extra: 1 })).toThrow(/extra/);
    expect(() => parseSweepSpec({ ...base, preset: 'nope' })).toThrow(/unknown preset 'nope'/);
    expect(() => parseSweepSpec({ ...base, grid: { seed: [] } })).toThrow(/grid\.seed: a grid entry needs at least one value/);
    expect(() => parseSweepSpec({ ...base, metrics: [] })).toThrow(/metrics/);
    expect(() => cellValues(parseSweepSpec({ ...base, grid: {} }))).toThrow(/no cells/);
    expect(() => planCells(parseSweepSpec({ ...base, preset: 'ocr-combined', grid: { ovRank: [4] } }))).toThrow(/cell ovRank-4: override ovRank applies to factorized/);
    expect(() => planCells(parseSweepSpec({ ...base, grid: { seed: ['a'] } }))).toThrow(/cell seed-a: override seed: expects a number/);
    expect(() => planCells(parseSweepSpec({ ...base, grid: { lr: [-1] } }))).toThrow(/cell lr--1: invalid train config/);
  });

  it('gives every cell a stable id from its values, in grid key order, grid cells then list cells', () => {
    expect(cellId({ ovRank: 8, seed: 1 })).toBe('ovRank-8_seed-1');
    expect(cellId({ lr: 0.005, 'taskOptions.implication': 'a b/c' })).toBe('lr-0.005_taskOptions.implication-a%20b%2fc');
    const spec = parseSweepSpec({ name: 'x', preset: 'ocr-factorized', grid: { seed: [0, 1], lr: [1e-3] }, list: [{ seed: 9 }], metrics: ['m'] });
    expect(cellValues(spec).map(cellId)).toEqual(['seed-0_lr-0.001', 'seed-1_lr-0.001', 'seed-9']);
  });
});

function csvRows(file: string): string[][] {
  return fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(','));
}

describe('runSweep (local workers)', () => {
  const smoke: SweepSpec = sweepPreset('smoke');
  const dir = (): string => path.join(tmp, 'smoke');

  it('trains a 2-cell sweep on 2 workers into run folders, sweep.json and results.csv', async () => {
    const events: string[] = [];
    const s = await runSweep({ spec: smoke, outDir: dir(), workers: 2, onEvent: (e) => e.kind === 'cell' && events.push(`${e.cell}:${e.status}`) });
    expect(s).toMatchObject({ cells: 2, completed: 2, failed: 0, skipped: 0 });
    for (const id of ['seed-0', 'seed-1']) {
      const m = readManifest(path.join(dir(), 'runs', id));
      expect(m.status).toBe('completed');
      expect(m.step).toBe(30);
    }
    const rec = readSweepRecord(dir());
    expect(rec?.cells.map((c) => [c.id, c.run, c.status])).toEqual([
      ['seed-0', 'runs/seed-0', 'completed'],
      ['seed-1', 'runs/seed-1', 'completed'],
    ]);
    const rows = csvRows(s.results);
    expect(rows[0]).toEqual(['cell', 'seed', 'status', 'test_impl_acc', 'test_fact_acc', 'run']);
    expect(rows).toHaveLength(3);
    for (const r of rows.slice(1)) {
      expect(r[2]).toBe('completed');
      expect(Number(r[3])).toBeGreaterThanOrEqual(0);
      expect(Number(r[4])).toBeLessThanOrEqual(1);
      expect(r[3]).not.toBe('');
    }
    expect(events.filter((e) => e.endsWith(':completed')).sort()).toEqual(['seed-0:completed', 'seed-1:completed']);
  });

  it('re-running the same folder retrains nothing', async () => {
    const runJson = (id: string): number => fs.statSync(path.join(dir(), 'runs', id, 'run.json')).mtimeMs;
    const before = ['seed-0', 'seed-1'].map(runJson);
    const csvBefore = fs.readFileSync(path.join(dir(), 'results.csv'), 'utf8');
    const s = await runSweep({ spec: smoke, outDir: dir(), workers: 2 });
    expect(s).toMatchObject({ cells: 2, completed: 2, skipped: 2 });
    expect(['seed-0', 'seed-1'].map(runJson)).toEqual(before);
    expect(fs.readFileSync(path.join(dir(), 'results.csv'), 'utf8')).toBe(csvBefore);
  });

  it('refuses a folder that holds a sweep with a different spec', async () => {
    await expect(runSweep({ spec: { ...smoke, metrics: ['test_impl_acc'] }, outDir: dir(), workers: 1 })).rejects.toThrow(/different spec/);
  });

  it('resumes a cell cancelled mid-way from its checkpoint instead of starting it again', async () => {
    // 2,000 steps: the fused kernel runs ~4 a millisecond, so a cancel must have room to land mid-run.
    const spec: SweepSpec = { ...smoke, name: 'cancel', grid: { seed: [3] }, fixed: { ...smoke.fixed, steps: 2000, checkpointEvery: 10, logEvery: 100 } };
    const out = path.join(tmp, 'cancel');
    let stop = false;
    const first = await runSweep({
      spec,
      outDir: out,
      workers: 1,
      shouldCancel: () => stop,
      onEvent: (e) => {
        if (e.kind === 'job' && e.event.kind === 'checkpoint' && e.event.step >= 20) stop = true;
      },
    });
    expect(first).toMatchObject({ completed: 0, cancelled: 1 });
    const runDir = path.join(out, 'runs', 'seed-3');
    const stopped = readManifest(runDir);
    expect(stopped.status).toBe('cancelled');
    expect(stopped.step).toBeGreaterThanOrEqual(20);
    expect(stopped.step).toBeLessThan(2000);
    expect(readSweepRecord(out)?.cells[0].status).toBe('cancelled');

    const logs: string[] = [];
    const second = await runSweep({ spec, outDir: out, workers: 1, onEvent: (e) => e.kind === 'job' && e.event.kind === 'log' && logs.push(e.event.message) });
    expect(second).toMatchObject({ completed: 1, skipped: 0 });
    const m = readManifest(runDir);
    expect(m.status).toBe('completed');
    expect(m.step).toBe(2000);
    expect(m.createdAt).toBe(stopped.createdAt);
    expect(logs.some((l) => l.startsWith('resuming from step'))).toBe(true);
    expect(readSweepRecord(out)?.cells[0].status).toBe('completed');
    expect(csvRows(path.join(out, 'results.csv'))[1][2]).toBe('completed');
  });
});

describe('oocr sweep --preset rank-sweep, shortened', () => {
  it('puts rank-1 cells at or below chance and rank ≥ 4 cells near 1.0 (the paper\'s figure in miniature)', async () => {
    const out = path.join(tmp, 'rank');
    const r = await oocr(['sweep', '--preset', 'rank-sweep', '--grid', 'ovRank=1,4,8', '--grid', 'seed=0', '--set', 'steps=800', '--set', 'evalSamples=200', '--out', out, '--workers', '2', '--json'], { timeoutMs: 240_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(lastJson(r.stdout)).toMatchObject({ cells: 3, completed: 3 });
    const [header, ...rows] = csvRows(path.join(out, 'results.csv'));
    expect(header).toEqual(['cell', 'ovRank', 'seed', 'status', 'test_impl_acc', 'test_fact_acc', 'run']);
    const acc = new Map(rows.map((row) => [Number(row[1]), Number(row[4])]));
    const chance = 1 / 20;
    expect(acc.get(1)).toBeLessThanOrEqual(chance + 0.05);
    expect(acc.get(4)).toBeGreaterThanOrEqual(0.9);
    expect(acc.get(8)).toBeGreaterThanOrEqual(0.9);
    // The overrides are part of the recorded spec, so a re-run must repeat them to resume.
    expect(readSweepRecord(out)?.spec).toMatchObject({ grid: { ovRank: [1, 4, 8], seed: [0] }, fixed: { steps: 800, evalSamples: 200 } });
  }, 240_000);
});
