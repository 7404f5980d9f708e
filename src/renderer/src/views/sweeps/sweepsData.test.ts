import { describe, expect, it } from 'vitest';
import type { SweepCellInfo } from '../../../../shared/sweeps';
import { applySweepEvent, chooseAxes, parseSpecText, progressSummary, sweepFigure, sweepFigureCsv, sweptLabel, xDomain } from './sweepsData';

const cell = (values: Record<string, number | string>, acc?: number, status: SweepCellInfo['status'] = acc === undefined ? 'pending' : 'completed'): SweepCellInfo => {
  const id = Object.entries(values)
    .map(([k, v]) => `${k}-${v}`)
    .join('_');
  return { id, values, run: `runs/${id}`, runId: `sweeps/s/runs/${id}`, status, step: 0, steps: 20, ...(acc === undefined ? {} : { metrics: { test_impl_acc: acc } }) };
};

describe('sweep figure data', () => {
  const rank = [1, 2, 4, 8].flatMap((r) => [0, 1, 2].map((seed) => cell({ ovRank: r, seed }, r === 1 ? 0.05 + seed * 0.01 : 1)));

  it('puts the first numeric swept value other than seed on x, log when it spans ≥ 8×', () => {
    expect(chooseAxes(rank)).toEqual({ xKey: 'ovRank', seriesKey: null, xLog: true, keys: ['ovRank', 'seed'] });
    expect(chooseAxes([cell({ lr: 0.001, seed: 0 }), cell({ lr: 0.002, seed: 0 })]).xLog).toBe(false);
    expect(chooseAxes([cell({ seed: 0 }), cell({ seed: 1 })])).toMatchObject({ xKey: 'seed', seriesKey: null });
    // A second swept variable splits the series; strings never go on x.
    const two = [cell({ preset: 'a', ovRank: 1, seed: 0 }), cell({ preset: 'b', ovRank: 4, seed: 0 })];
    expect(chooseAxes(two)).toMatchObject({ xKey: 'ovRank', seriesKey: 'preset' });
  });

  it('mean ± sd over seeds at each x, each seed a dot, unfinished cells left out', () => {
    const fig = sweepFigure([...rank, cell({ ovRank: 16, seed: 0 })], 'test_impl_acc');
    expect(fig.plotted).toBe(12);
    expect(fig.series).toHaveLength(1);
    const [s] = fig.series;
    expect(s.points).toHaveLength(12);
    expect(s.means.map((m) => m.x)).toEqual([1, 2, 4, 8]);
    expect(s.means[0].mean).toBeCloseTo(0.06, 12);
    expect(s.means[0].sd).toBeCloseTo(0.01, 12);
    expect(s.means[0].n).toBe(3);
    expect(s.means[3]).toMatchObject({ mean: 1, sd: 0, err: [0, 0] });
    const d = xDomain(fig) as [number, number];
    expect(d[0]).toBeLessThan(1);
    expect(d[1]).toBeGreaterThan(8);
    const csv = sweepFigureCsv(fig).trim().split('\n');
    expect(csv[0]).toBe('kind,ovRank,seed,test_impl_acc,test_impl_acc_sd,n,cell');
    expect(csv.filter((l) => l.startsWith('cell,'))).toHaveLength(12);
    expect(csv).toContain('mean,8,,1,0,3,');
  });

  it('one series per value of a second swept variable', () => {
    const cells = ['factorized', 'combined'].flatMap((p) => [1, 8].map((r) => cell({ model: p, ovRank: r, seed: 0 }, p === 'factorized' ? 1 : 0.05)));
    const fig = sweepFigure(cells, 'test_impl_acc');
    expect(fig.series.map((s) => s.label)).toEqual(['model factorized', 'model combined']);
    expect(sweepFigureCsv(fig).split('\n')[0]).toBe('kind,model,ovRank,seed,test_impl_acc,test_impl_acc_sd,n,cell');
  });

  it('applies live events to the cells, ignoring other sweeps', () => {
    const cells = [cell({ seed: 0 }), cell({ seed: 1 })];
    const run = applySweepEvent(cells, 's', { kind: 'sweep-cell', sweep: 's', cell: 'seed-0', status: 'running', done: 0, total: 2, worker: 'local' });
    expect(run[0]).toMatchObject({ status: 'running', worker: 'local', step: 0 });
    const prog = applySweepEvent(run, 's', { kind: 'sweep-progress', sweep: 's', cell: 'seed-0', step: 10, totalSteps: 20, loss: 1 });
    expect(prog[0]).toMatchObject({ step: 10, steps: 20 });
    expect(applySweepEvent(prog, 'other', { kind: 'sweep-progress', sweep: 's', cell: 'seed-0', step: 15, totalSteps: 20, loss: 1 })).toBe(prog);
    expect(progressSummary(prog)).toBe('0 / 2 completed · 1 running');
  });

  it('labels swept variables and checks pasted specs', () => {
    expect(sweptLabel('ovRank')).toBe('OV rank (W_O W_V)');
    expect(sweptLabel('taskOptions.nCities')).toBe('nCities (task option)');
    expect(parseSpecText('{"name": ')).toMatchObject({ error: expect.stringMatching(/not valid JSON/) });
    expect(parseSpecText('[1]')).toMatchObject({ error: expect.stringMatching(/JSON object/) });
    expect(parseSpecText('{"name":"x"}')).toEqual({ spec: { name: 'x' } });
  });
});
