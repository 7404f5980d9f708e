import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MetricsLine, RunManifest } from '../../src/shared/modelConfig';
import {
  RunFileError,
  appendMetrics,
  checkpointFileName,
  checkpointPath,
  listCheckpoints,
  listRuns,
  readManifest,
  readMetrics,
  resolveCheckpoint,
  writeManifest,
} from '../../src/core/io/runStore';

let ws: string;
beforeEach(() => {
  ws = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-runs-'));
});
afterEach(() => {
  fs.rmSync(ws, { recursive: true, force: true });
});

function manifest(id: string, extra: Partial<RunManifest> = {}): RunManifest {
  return {
    format: 'oocr-run/1',
    id,
    preset: null,
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:01:00.000Z',
    status: 'completed',
    config: {
      task: 'copy',
      taskOptions: { k: 3 },
      model: {
        nLayers: 1,
        dModel: 8,
        nHeads: 2,
        dHead: 4,
        dVocab: 10,
        nCtx: 6,
        dMlp: 16,
        attention: 'softmax',
        ov: 'factorized',
        ovRank: 4,
        mlp: true,
        layerNorm: true,
        residual: true,
        posEmbed: true,
        embed: 'learned',
        unembed: 'learned',
        wK: 'learned',
        initScale: 1,
      },
      optimizer: { name: 'adamw', lr: 1e-3, weightDecay: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8 },
      steps: 1000,
      batchSize: 32,
      seed: 1,
      logEvery: 10,
      checkpointEvery: 500,
      evalSamples: 256,
    },
    backend: 'cpu',
    versions: { tfjs: '4.22.0' },
    step: 1000,
    seconds: 12.5,
    checkpoints: [{ step: 500, file: 'checkpoints/step-000500.safetensors' }],
    ...extra,
  };
}

function expectRunFileError(fn: () => unknown, file: string, phrase: string | RegExp): RunFileError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(RunFileError);
  const err = caught as RunFileError;
  expect(err.file).toBe(file);
  expect(err.message).toContain(file);
  if (typeof phrase === 'string') expect(err.message).toContain(phrase);
  else expect(err.message).toMatch(phrase);
  return err;
}

function touch(file: string, content = ''): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
}

describe('checkpointFileName', () => {
  it('zero-pads to six digits and grows beyond', () => {
    expect(checkpointFileName(0)).toBe('step-000000.safetensors');
    expect(checkpointFileName(500)).toBe('step-000500.safetensors');
    expect(checkpointFileName(999_999)).toBe('step-999999.safetensors');
    expect(checkpointFileName(1_234_567)).toBe('step-1234567.safetensors');
    expect(checkpointPath('/r', 5)).toBe(path.join('/r', 'checkpoints', 'step-000005.safetensors'));
  });

  it('rejects steps that are not non-negative integers', () => {
    expect(() => checkpointFileName(-1)).toThrow(RangeError);
    expect(() => checkpointFileName(1.5)).toThrow(RangeError);
  });
});

describe('run manifest', () => {
  it('round-trips as pretty JSON with a trailing newline, atomically', () => {
    const run = path.join(ws, 'run1');
    const m = manifest('run1', { finalMetrics: { test_iid_acc: 0.75 }, error: undefined });
    writeManifest(run, m);
    const text = fs.readFileSync(path.join(run, 'run.json'), 'utf8');
    expect(text.endsWith('}\n')).toBe(true);
    expect(text).toContain('\n  "format": "oocr-run/1"');
    expect(readManifest(run)).toEqual(JSON.parse(text));
    expect(readManifest(run).finalMetrics).toEqual({ test_iid_acc: 0.75 });
    expect(fs.readdirSync(run)).toEqual(['run.json']);
  });

  it('a NaN final metric (diverged run) survives the trip through JSON null', () => {
    const run = path.join(ws, 'nan');
    writeManifest(run, manifest('nan', { status: 'failed', error: 'loss diverged', finalMetrics: { loss: NaN } }));
    const back = readManifest(run);
    expect(back.finalMetrics?.loss).toBeNaN();
    expect(back.error).toBe('loss diverged');
  });

  it('drops unknown keys instead of refusing newer files', () => {
    const run = path.join(ws, 'newer');
    touch(path.join(run, 'run.json'), JSON.stringify({ ...manifest('newer'), futureField: 1 }));
    expect(readManifest(run)).not.toHaveProperty('futureField');
  });

  it('missing, corrupt and invalid run.json raise RunFileError naming the file', () => {
    const run = path.join(ws, 'bad');
    const file = path.join(run, 'run.json');
    expectRunFileError(() => readManifest(run), file, 'file not found');

    touch(file, '{"format": "oocr-run/1", ');
    expectRunFileError(() => readManifest(run), file, 'not valid JSON');

    const m = manifest('bad');
    touch(file, JSON.stringify({ ...m, config: { ...m.config, model: { ...m.config.model, dModel: 0 } } }));
    expectRunFileError(() => readManifest(run), file, 'config.model.dModel');

    touch(file, JSON.stringify({ ...m, format: 'oocr-run/2' }));
    expectRunFileError(() => readManifest(run), file, /invalid run manifest: format:/);

    touch(file, JSON.stringify({ ...m, status: 'paused', step: -1 }));
    const err = expectRunFileError(() => readManifest(run), file, 'status');
    expect(err.problem).toContain('step');

    touch(file, '[]');
    expectRunFileError(() => readManifest(run), file, '(top level)');
  });
});

describe('metrics.jsonl', () => {
  const line = (step: number, loss = 1 / (step + 1)): MetricsLine => ({
    step,
    time: step / 10,
    loss,
    metrics: { train_iid_acc: step / 100, test_ood_loss: loss * 2 },
  });

  it('appends and reads back, missing file is empty', () => {
    const run = path.join(ws, 'm');
    fs.mkdirSync(run);
    expect(readMetrics(run)).toEqual([]);
    const lines = [line(0), line(10), line(20)];
    for (const l of lines) appendMetrics(run, l);
    expect(readMetrics(run)).toEqual(lines);
    expect(fs.readFileSync(path.join(run, 'metrics.jsonl'), 'utf8').split('\n')).toHaveLength(4);
  });

  it('NaN loss is stored as null and read back as NaN', () => {
    const run = path.join(ws, 'm');
    fs.mkdirSync(run);
    appendMetrics(run, line(5, NaN));
    expect(readMetrics(run)[0].loss).toBeNaN();
  });

  it('skips a truncated last line (crash mid-append)', () => {
    const run = path.join(ws, 'm');
    fs.mkdirSync(run);
    appendMetrics(run, line(0));
    appendMetrics(run, line(10));
    const file = path.join(run, 'metrics.jsonl');
    const full = JSON.stringify(line(20));
    fs.appendFileSync(file, full.slice(0, full.length - 7));
    expect(readMetrics(run)).toEqual([line(0), line(10)]);

    // The same with a garbled (not just cut) last line followed by a newline.
    fs.appendFileSync(file, '\u0000\u0000garbage\n');
    expect(readMetrics(run)).toEqual([line(0), line(10)]);
  });

  it('appending after a crash drops the partial line so the file stays readable', () => {
    const run = path.join(ws, 'm');
    fs.mkdirSync(run);
    appendMetrics(run, line(0));
    const file = path.join(run, 'metrics.jsonl');
    fs.appendFileSync(file, '{"step": 10, "ti');
    appendMetrics(run, line(10));
    appendMetrics(run, line(20));
    expect(readMetrics(run)).toEqual([line(0), line(10), line(20)]);
  });

  it('a complete last line without a newline is kept, also when appending after it', () => {
    const run = path.join(ws, 'm');
    const file = path.join(run, 'metrics.jsonl');
    touch(file, `${JSON.stringify(line(0))}\n${JSON.stringify(line(1))}`);
    expect(readMetrics(run)).toEqual([line(0), line(1)]);
    appendMetrics(run, line(2));
    expect(readMetrics(run)).toEqual([line(0), line(1), line(2)]);
  });

  it('a garbled line in the middle is an error naming the file and line number', () => {
    const run = path.join(ws, 'm');
    const file = path.join(run, 'metrics.jsonl');
    touch(file, [JSON.stringify(line(0)), '{"step": oops', JSON.stringify(line(2)), ''].join('\n'));
    expectRunFileError(() => readMetrics(run), file, 'line 2: not valid JSON');

    touch(file, [JSON.stringify(line(0)), JSON.stringify({ step: 'x' }), JSON.stringify(line(2))].join('\n'));
    expectRunFileError(() => readMetrics(run), file, /line 2: not a metrics record \(step:/);
  });

  it('tolerates blank lines and CRLF endings', () => {
    const run = path.join(ws, 'm');
    touch(path.join(run, 'metrics.jsonl'), `${JSON.stringify(line(0))}\r\n\r\n${JSON.stringify(line(1))}\r\n\n`);
    expect(readMetrics(run)).toEqual([line(0), line(1)]);
  });
});

describe('listRuns', () => {
  it('finds runs at the top level and one level down, sorted, with errors for broken ones', () => {
    writeManifest(path.join(ws, 'b-run'), manifest('b-run'));
    writeManifest(path.join(ws, 'group', 'a-run'), manifest('a-run'));
    writeManifest(path.join(ws, 'group', 'c-run'), manifest('c-run'));
    touch(path.join(ws, 'corrupt', 'run.json'), '{ not json');
    touch(path.join(ws, 'invalid', 'run.json'), JSON.stringify({ format: 'oocr-run/1' }));
    touch(path.join(ws, 'notes', 'readme.txt'), 'not a run');
    touch(path.join(ws, 'loose-file.txt'), 'x');
    writeManifest(path.join(ws, '.trash', 'old'), manifest('old'));
    writeManifest(path.join(ws, 'deep', 'x', 'y'), manifest('too-deep'));
    fs.symlinkSync(path.join(ws, 'b-run'), path.join(ws, 'linked'));

    const runs = listRuns(ws);
    expect(runs.map((r) => path.relative(ws, r.dir))).toEqual([
      'b-run',
      'corrupt',
      path.join('group', 'a-run'),
      path.join('group', 'c-run'),
      'invalid',
      'linked',
    ]);
    expect(runs[0].manifest?.id).toBe('b-run');
    expect(runs[0].error).toBeUndefined();
    expect(runs[1].manifest).toBeUndefined();
    expect(runs[1].error).toContain(path.join(ws, 'corrupt', 'run.json'));
    expect(runs[1].error).toContain('not valid JSON');
    expect(runs[4].error).toContain('invalid run manifest');
  });

  it('a missing workspace lists no runs', () => {
    expect(listRuns(path.join(ws, 'nope'))).toEqual([]);
  });
});

describe('checkpoints', () => {
  function runWithCheckpoints(steps: number[]): string {
    const run = path.join(ws, 'run');
    writeManifest(run, manifest('run'));
    for (const s of steps) touch(checkpointPath(run, s), 'x');
    return run;
  }

  it('lists checkpoints by step, ignoring temp files and strangers', () => {
    const run = runWithCheckpoints([1000, 100, 500, 1_500_000]);
    const dir = path.join(run, 'checkpoints');
    touch(path.join(dir, '.step-000200.safetensors.1234.abcdef.tmp'));
    touch(path.join(dir, 'step-000300.safetensors.tmp'));
    touch(path.join(dir, 'step-700.safetensors'));
    touch(path.join(dir, 'notes.txt'));
    expect(listCheckpoints(run)).toEqual([
      { step: 100, file: path.join(dir, 'step-000100.safetensors') },
      { step: 500, file: path.join(dir, 'step-000500.safetensors') },
      { step: 1000, file: path.join(dir, 'step-001000.safetensors') },
      { step: 1_500_000, file: path.join(dir, 'step-1500000.safetensors') },
    ]);
    expect(listCheckpoints(path.join(ws, 'elsewhere'))).toEqual([]);
  });

  it('resolves a run folder to its latest or a chosen checkpoint', () => {
    const run = runWithCheckpoints([500, 1000]);
    expect(resolveCheckpoint(run)).toEqual({ file: checkpointPath(run, 1000), step: 1000, runDir: run });
    expect(resolveCheckpoint(run, 500)).toEqual({ file: checkpointPath(run, 500), step: 500, runDir: run });
    expectRunFileError(
      () => resolveCheckpoint(run, 700),
      path.join(run, 'checkpoints'),
      'no checkpoint for step 700; available steps: 500, 1000',
    );
  });

  it('resolves a checkpoint file, finding its run when it sits in one', () => {
    const run = runWithCheckpoints([500]);
    const file = checkpointPath(run, 500);
    expect(resolveCheckpoint(file)).toEqual({ file, step: 500, runDir: run });
    expectRunFileError(() => resolveCheckpoint(file, 600), file, 'file name says step 500');

    const loose = path.join(ws, 'model.safetensors');
    touch(loose, 'x');
    expect(resolveCheckpoint(loose)).toEqual({ file: loose, step: -1, runDir: null });
    expect(resolveCheckpoint(loose, 42)).toEqual({ file: loose, step: 42, runDir: null });
  });

  it('clear errors when there is nothing to resolve', () => {
    const missingFile = path.join(ws, 'gone.safetensors');
    expectRunFileError(() => resolveCheckpoint(missingFile), missingFile, 'checkpoint file not found');
    const missingRun = path.join(ws, 'gone');
    expectRunFileError(() => resolveCheckpoint(missingRun), missingRun, 'run folder not found');

    const empty = path.join(ws, 'empty');
    writeManifest(empty, manifest('empty'));
    expectRunFileError(() => resolveCheckpoint(empty), path.join(empty, 'checkpoints'), 'no checkpoints yet');

    const stranger = path.join(ws, 'stranger');
    fs.mkdirSync(stranger);
    expectRunFileError(() => resolveCheckpoint(stranger), stranger, 'not a run folder');
  });
});
