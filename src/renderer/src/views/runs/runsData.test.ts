import { describe, expect, it } from 'vitest';
import { STUDY, TRAINING } from '../../shell/mocks/jobs';
import { FACTORIZED, LORA_RUN, STUDIES, SUMMARIES } from './mocks/runs';
import { accSummary, canResume, defaultRunId, groupRuns, unlistedRunIds, formatAcc, formatSeconds, runDetailRows, runRow, studyRows } from './runsData';

describe('runRow', () => {
  it('shows held-out accuracies compactly and every accuracy in the title', () => {
    const r = runRow(SUMMARIES[1]);
    expect(r.accText).toBe('test_fact 100% · test_impl 5.2%');
    expect(r.accTitle.split('\n')).toEqual(['train_fact_acc: 100%', 'train_impl_acc: 100%', 'test_fact_acc: 100%', 'test_impl_acc: 5.2%', 'final evaluation on fresh sequences (95% Wilson intervals)']);
    // With the number of questions, each accuracy carries its 95% Wilson interval.
    const withN = runRow({ ...SUMMARIES[1], finalEvalCounts: { test_impl_acc: 400 } });
    expect(withN.accTitle.split('\n')).toContain('test_impl_acc: 0.052 [0.034, 0.078] (n = 400)');
    expect(r).toMatchObject({ task: 'ocr-recall', preset: 'ocr-combined', status: 'completed', step: 2000, checkpoints: 8, finetune: '—' });
  });

  it('falls back to every accuracy when no split is held out, and knows heldout_ splits', () => {
    expect(runRow(SUMMARIES[2]).accText).toBe('world_country 100% · world_language 100% · world_dist 90%');
    expect(runRow(SUMMARIES[3]).accText).toBe('heldout_country 100% · heldout_language 100% · heldout 100%');
    expect(runRow(SUMMARIES[3]).finetune).toBe('lora');
    expect(runRow(SUMMARIES[3]).preset).toBe('—');
  });

  it('keeps an unreadable run with its error', () => {
    const r = runRow(SUMMARIES[4]);
    expect(r.id).toBe('broken');
    expect(r.status).toBe('unreadable');
    expect(r.error).toMatch(/Unexpected token/);
    expect(r.accText).toBe('');
  });
});

describe('formatting', () => {
  it('formats accuracies and durations', () => {
    expect(formatAcc(1)).toBe('100%');
    expect(formatAcc(0)).toBe('0%');
    expect(formatAcc(0.052083)).toBe('5.2%');
    expect(formatAcc(0.3333333)).toBe('33.3%');
    expect(formatAcc(undefined)).toBe('—');
    expect(formatSeconds(9.111)).toBe('9.1 s');
    expect(formatSeconds(125)).toBe('2 min 05 s');
    expect(formatSeconds(3720)).toBe('1 h 02 min');
    expect(formatSeconds(undefined)).toBe('—');
  });

  it('ignores non-accuracy and non-finite metrics', () => {
    expect(accSummary({ test_acc: NaN, test_loss: 1, train_acc: 0.5 }).all).toEqual([['train_acc', 0.5]]);
  });
});

describe('runDetailRows', () => {
  it('lists the key model and training fields', () => {
    const rows = runDetailRows(FACTORIZED);
    const get = (k: string) => rows.find((r) => r.key === k)?.value;
    expect(get('ov')).toBe('factorized, rank 8');
    expect(get('attention')).toBe('linear');
    expect(get('mlp')).toBe('no');
    expect(get('layerNorm')).toBe('no');
    expect(get('nHeads')).toBe('1 (dHead 128)');
    expect(get('steps')).toBe('2000');
    expect(get('batchSize')).toBe('252');
    expect(get('lr')).toBe('0.005');
    expect(get('seed')).toBe('0');
    expect(get('backend')).toBe('wasm');
    expect(get('seconds')).toBe('9.1 s');
    expect(get('checkpoints')).toBe('2 (steps 1000, 2000)');
    expect(rows.some((r) => r.group === 'Fine-tune')).toBe(false);
  });

  it('adds the fine-tune method, base and LoRA spec', () => {
    const rows = runDetailRows(LORA_RUN);
    const ft = rows.filter((r) => r.group === 'Fine-tune');
    expect(ft.map((r) => r.key)).toEqual(['method', 'base', 'lora', 'weights']);
    expect(ft[2].value).toBe('rank 4, alpha 8, attn.W_Q mlp.W_out on layers 0,1');
    expect(rows.find((r) => r.key === 'step')?.value).toBe('300 / 400');
    expect(rows.find((r) => r.key === 'checkpoints')?.value).toBe('none');
  });

  it('describes a fine-tune of a Hugging Face model folder: PEFT LoRA, data files and the adapter folder', () => {
    const m = LORA_RUN.manifest;
    const run = {
      ...LORA_RUN,
      manifest: {
        ...m,
        finetune: {
          base: '../models/gpt2',
          baseKind: 'model' as const,
          method: 'lora' as const,
          peft: { r: 8, alpha: 16, targetModules: ['c_attn'], layers: [0, 1, 2] },
          data: { train: 'data/train.jsonl', eval: 'data/eval.jsonl' },
          weights: 'adapter',
        },
      },
    };
    const ft = runDetailRows(run).filter((r) => r.group === 'Fine-tune');
    expect(ft.map((r) => [r.key, r.value])).toEqual([
      ['method', 'lora'],
      ['base', '../models/gpt2'],
      ['base kind', 'Hugging Face model folder'],
      ['PEFT LoRA', 'r 8, alpha 16, c_attn on layers 0,1,2'],
      ['data', 'data/train.jsonl, data/eval.jsonl'],
      ['weights', 'adapter'],
    ]);
  });
});

describe('studies and selection', () => {
  it('formats study accuracies', () => {
    expect(studyRows(STUDIES)[0]).toEqual({ id: 'lora-vs-steering', kind: 'locations', seed: 0, base: '0%', lora: '100%', naturalSv: '33.3%', trainedSv: '100%' });
  });

  it('keeps a listed selection, else picks the first run with checkpoints, else the first readable', () => {
    expect(defaultRunId(SUMMARIES, 'world-base')).toBe('world-base');
    expect(defaultRunId(SUMMARIES, 'gone')).toBe('ocr-factorized');
    expect(defaultRunId(SUMMARIES, null)).toBe('ocr-factorized');
    expect(defaultRunId([SUMMARIES[4], SUMMARIES[3], SUMMARIES[2]], null)).toBe('world-base');
    expect(defaultRunId([SUMMARIES[4], SUMMARIES[3]], null)).toBe('lora-vs-steering/lora');
    expect(defaultRunId([SUMMARIES[4]], null)).toBeNull();
    expect(defaultRunId(undefined, 'x')).toBe('x');
  });
});

describe('unlistedRunIds', () => {
  it('names running trainings missing from the list, once they report progress', () => {
    expect(unlistedRunIds([TRAINING, STUDY], SUMMARIES)).toEqual([TRAINING.runId]);
    expect(unlistedRunIds([{ ...TRAINING, step: 0 }], SUMMARIES)).toEqual([]);
    expect(unlistedRunIds([{ ...TRAINING, status: 'completed' }], SUMMARIES)).toEqual([]);
    expect(unlistedRunIds([TRAINING], [...SUMMARIES, { id: TRAINING.runId, status: 'running' }])).toEqual([]);
    expect(unlistedRunIds([TRAINING], undefined)).toEqual([]);
  });
});

describe('canResume', () => {
  it('offers Resume for training runs stopped before their last step, not for completed runs or fine-tunes', () => {
    const m = LORA_RUN.manifest;
    const training = { ...m, finetune: undefined, step: 120, config: { ...m.config, steps: 400 } };
    for (const status of ['cancelled', 'failed', 'interrupted'] as const) expect(canResume({ manifest: { ...training, status } }), status).toBe(true);
    expect(canResume({ manifest: { ...training, status: 'completed' } })).toBe(false);
    expect(canResume({ manifest: { ...training, status: 'running' } })).toBe(false);
    expect(canResume({ manifest: { ...training, status: 'cancelled', step: 400 } })).toBe(false);
    expect(canResume({ manifest: { ...m, status: 'cancelled', step: 10 } })).toBe(false);
  });
});

describe('final evaluation rows', () => {
  it('list every accuracy with its Wilson interval and say which draw it is', () => {
    const rows = runDetailRows(LORA_RUN).filter((r) => r.group === 'Final evaluation');
    expect(rows.length).toBeGreaterThan(1);
    expect(rows.at(-1)).toMatchObject({ key: 'questions', value: expect.stringMatching(/fresh sequences per split, never trained on/) });
    for (const r of rows.slice(0, -1)) expect(r.value).toMatch(/^\d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\] \(n = \d+\)$/);
  });
});

describe('Runs: sweep cells grouped under their sweep', () => {
  it('one group row per sweep, where its first cell sat, counting from the sweep record', () => {
    const runs = [{ id: 'a' }, { id: 'sweeps/r/runs/seed-0', status: 'completed' as const }, { id: 'sweeps/r/runs/seed-1', status: 'running' as const }, { id: 'z' }];
    const items = groupRuns(runs);
    expect(items.map((i) => (i.kind === 'run' ? i.run.id : `group ${i.sweep} ${i.completed}/${i.total}`))).toEqual(['a', 'group r 1/2', 'z']);
    const withRecord = groupRuns(runs, [{ name: 'r', specName: 'r', preset: 'p', total: 27, completed: 1, failed: 0, running: 1, cancelled: 0, pending: 25, updatedAt: '', state: 'running' }]);
    expect(withRecord[1]).toMatchObject({ kind: 'sweep', completed: 1, total: 27, state: 'running' });
  });
});

describe('defaultRunId keeps a sweep cell opened from Sweeps', () => {
  it('even before the runs list holds it', () => {
    expect(defaultRunId([{ id: 'a' }], 'sweeps/r/runs/seed-0')).toBe('sweeps/r/runs/seed-0');
    expect(defaultRunId([{ id: 'a' }], 'gone')).toBe('a');
  });
});
