import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BackendInfo } from '../../src/shared/backend';
import { LoraSpecSchema } from '../../src/shared/finetune';
import { ApiArgumentError } from '../../src/shared/errors';
import { formatZodIssues } from '../../src/shared/zodIssues';
import { evalRun } from '../../src/cli/commands/evalRun';
import { initBackend } from '../../src/core/backend/initBackend';
import { runFinetune } from '../../src/core/finetune/runFinetune';
import { readSafetensorsFileSync, writeSafetensorsFileSync, CheckpointError } from '../../src/core/io/safetensors';
import { loadCheckpoint } from '../../src/core/model/checkpoint';
import { analyzeRequest } from '../../src/core/runs/analyzeRequest';
import { checkTokenIds, openRun, openRunCheckpoints, parsePrompt } from '../../src/core/runs/openRun';

/**
 * Values that used to pass silently or leak internal errors: NaN/Inf weights (evaluated to accuracy
 * 0.000), a checkpoint whose shapes contradict run.json (shown with run.json's rank), a vocabulary
 * longer than the weights (tfjs's "GatherV2: the index value 128 …"), and zod's raw issue JSON for a
 * fine-tune spec out of range.
 */

const ROOT = path.resolve(__dirname, '../..');
const SOURCE_RUN = path.join(ROOT, 'resources/workspace/ocr-factorized');
const LATEST = 'checkpoints/step-002000.safetensors';

let tmp: string;
let backend: BackendInfo;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-values-'));
  backend = await initBackend();
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A copy of the example ocr-factorized run, with `edit` applied to its run.json. */
interface EditableManifest {
  config: { model: Record<string, unknown>; taskOptions: Record<string, unknown> };
}

function copyRun(name: string, edit?: (manifest: EditableManifest) => void): string {
  const dir = path.join(tmp, name);
  fs.cpSync(SOURCE_RUN, dir, { recursive: true });
  if (edit) {
    const file = path.join(dir, 'run.json');
    const m = JSON.parse(fs.readFileSync(file, 'utf8')) as EditableManifest;
    edit(m);
    fs.writeFileSync(file, JSON.stringify(m));
  }
  return dir;
}

function refusal(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a refusal');
}

describe('non-finite weights are refused on load, naming the tensor', () => {
  it.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
  ])('%s in blocks.0.attn.W_O', async (_label, bad) => {
    const dir = copyRun(`nonfinite-${_label}`);
    const file = path.join(dir, LATEST);
    const { tensors, metadata } = readSafetensorsFileSync(file);
    tensors['blocks.0.attn.W_O'].data[5] = bad;
    writeSafetensorsFileSync(file, tensors, metadata);

    const e = refusal(() => loadCheckpoint(file));
    expect(e).toBeInstanceOf(CheckpointError);
    expect(e.message).toContain(file);
    expect(e.message).toMatch(new RegExp(`tensor blocks\\.0\\.attn\\.W_O holds 1 non-finite value \\(${bad} at index 5\\)`));
    // Where runs are evaluated and analysed: an error, not an accuracy of 0.000.
    await expect(evalRun({ run: dir, samples: 8, backend: backend.name })).rejects.toThrow(/blocks\.0\.attn\.W_O holds 1 non-finite value/);
    expect(() => analyzeRequest(dir, { kind: 'attention', id: 'r' })).toThrow(/blocks\.0\.attn\.W_O holds 1 non-finite value/);
  });
});

describe("a checkpoint that contradicts run.json's model config is refused naming both", () => {
  it('W_V of rank 8 under a run.json that says ovRank 4', async () => {
    const dir = copyRun('rank-mismatch', (m) => {
      m.config.model.ovRank = 4;
    });
    const e = refusal(() => openRun(dir));
    expect(e).toBeInstanceOf(CheckpointError);
    expect(e.message).toContain(path.join(dir, LATEST));
    expect(e.message).toContain(`does not fit ${path.join(dir, 'run.json')}`);
    expect(e.message).toContain("the checkpoint's own config: ovRank 4 vs 8");
    expect(e.message).toMatch(/tensor blocks\.0\.attn\.W_V has shape \[1,128,8\] but .*run\.json needs \[1,128,4\]/);
    expect(() => openRunCheckpoints(dir)).toThrow(/ovRank 4 vs 8/);
    expect(() => analyzeRequest(dir, { kind: 'ov-spectrum', id: 'r' })).toThrow(/ovRank 4 vs 8/);
    await expect(evalRun({ run: dir, samples: 8, backend: backend.name })).rejects.toThrow(/ovRank 4 vs 8/);
  });

  it('a field that changes no shape (attention) is a contradiction too', () => {
    const dir = copyRun('attention-mismatch', (m) => {
      m.config.model.attention = 'softmax';
    });
    expect(refusal(() => openRun(dir)).message).toMatch(/contradicts .*run\.json \(.*attention "softmax" vs "linear"\)/);
  });
});

describe('token ids are checked against d_vocab where they enter', () => {
  const widened = (): string =>
    copyRun(`vocab-${Math.random().toString(36).slice(2)}`, (m) => {
      m.config.taskOptions = { nNames: 90 }; // 138 tokens for a d_vocab-128 model
    });

  it('a run whose task vocabulary is longer than the model: ApiArgumentError, never GatherV2', async () => {
    const dir = widened();
    const e = refusal(() => analyzeRequest(dir, { kind: 'logit-lens', id: 'r' }));
    expect(e).toBeInstanceOf(ApiArgumentError);
    expect(e.message).toMatch(/the run's task has 138 tokens but its model has d_vocab 128/);
    const ev = await evalRun({ run: dir, samples: 8, backend: backend.name }).catch((err: Error) => err);
    expect(ev).toBeInstanceOf(ApiArgumentError);
    expect((ev as Error).message).toMatch(/has 138 tokens but the model has d_vocab 128/);
    expect((ev as Error).message).not.toMatch(/GatherV2/);
  });

  it('parsePrompt and checkTokenIds name the id and the range', () => {
    const vocab = Array.from({ length: 6 }, (_, i) => `t${i}`);
    expect(parsePrompt(vocab, 't1 t2', 16, 6)).toEqual([1, 2]);
    const e = refusal(() => parsePrompt(vocab, 't1 t5', 16, 4));
    expect(e).toBeInstanceOf(ApiArgumentError);
    expect(e.message).toBe("prompt: token id 5 (position 1) is outside the model's vocabulary 0..3");
    expect(() => checkTokenIds([0, -1], 4, 'answer')).toThrow(/answer: token id -1/);
  });
});

describe('zod refusals read as one line per issue', () => {
  it('formatZodIssues', () => {
    const r = LoraSpecSchema.safeParse({ rank: 0, alpha: -1, targets: [], layers: [1.5], extra: 1 });
    expect(r.success).toBe(false);
    if (r.success) return;
    expect(formatZodIssues(r.error).split('\n')).toEqual([
      'rank: must be ≥ 1',
      'alpha: must be > 0',
      'targets: must have at least 1 item',
      'layers.0: must be an integer',
      "(value): unknown field 'extra'",
    ]);
    const flags = formatZodIssues(r.error, { name: (p) => `--${String(p[0])}`, max: 1 });
    expect(flags).toBe('--rank: must be ≥ 1\n(and 4 more)');
  });

  it('a fine-tune with LoRA rank 0 says so in one line and writes nothing', async () => {
    const outDir = path.join(tmp, 'ft-rank0');
    const e = await runFinetune({
      base: path.join(ROOT, 'resources/workspace/world-base'),
      task: { kind: 'locations' },
      method: 'lora',
      lora: { rank: 0, alpha: 8, targets: ['mlp.W_out'], layers: [0] },
      steps: 1,
      batchSize: 4,
      lr: 1e-3,
      weightDecay: 0,
      seed: 0,
      logEvery: 1,
      evalSamples: 4,
      outDir,
      backend,
    }).catch((err: Error) => err);
    expect(e).toBeInstanceOf(Error);
    expect((e as Error).message).toBe('LoRA spec: rank: must be ≥ 1');
    expect(fs.existsSync(outDir)).toBe(false);
  });
});
