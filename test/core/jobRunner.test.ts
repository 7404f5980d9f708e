import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FinetuneOptions } from '../../src/core/finetune/runFinetune';
import { readManifest } from '../../src/core/io/runStore';
import { readSafetensorsFileSync } from '../../src/core/io/safetensors';
import { JobError } from '../../src/core/jobs/jobError';
import { startJob } from '../../src/core/jobs/jobRunner';

/**
 * Fine-tunes and studies through startJob, in a real worker thread, on the shipped world model: the
 * kinds trainingJob.test.ts does not cover, and the paths where they stop early.
 */

const BASE = path.resolve('resources/workspace/world-base');
const BASE_CKPT = path.join(BASE, 'checkpoints', 'step-002500.safetensors');
let tmp: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-jobs-'));
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function finetune(outDir: string, patch: Partial<FinetuneOptions> = {}): FinetuneOptions {
  return { base: BASE, task: { kind: 'locations' }, method: 'lora', steps: 20, batchSize: 16, lr: 3e-3, weightDecay: 0, seed: 1, logEvery: 10, evalSamples: 8, outDir, ...patch };
}

describe("startJob({ kind: 'finetune' })", () => {
  it('cancel() ends a long fine-tune as cancelled, with its adapter saved and recorded', async () => {
    const outDir = path.join(tmp, 'ft-cancel');
    const steps = 100_000;
    let cancelledAt = -1;
    const job = startJob({ kind: 'finetune', finetune: finetune(outDir, { steps }) }, (e) => {
      if (e.kind === 'progress' && cancelledAt < 0 && e.step >= 5) {
        cancelledAt = e.step;
        job.cancel();
      }
    });
    const r = await job.done;

    expect(r.status).toBe('cancelled');
    expect(r.steps).toBeGreaterThanOrEqual(cancelledAt);
    expect(r.steps).toBeLessThan(steps);
    expect(r.weightsFile).toBe(path.join(outDir, 'adapter.safetensors'));
    const saved = readSafetensorsFileSync(r.weightsFile);
    expect(saved.metadata).toMatchObject({ format: 'oocr-lora/1', step: String(r.steps) });
    const m = readManifest(outDir);
    expect(m.status).toBe('cancelled');
    expect(m.step).toBe(r.steps);
    expect(m.finetune?.weights).toBe('adapter.safetensors');
    expect(m.finalMetrics).toEqual(r.metrics);
  });

  it('a diverging fine-tune rejects with a JobError saying what is preserved', async () => {
    const outDir = path.join(tmp, 'ft-nan');
    // lr 10 with weight decay 10 scales every trained weight by (1 − 100) per step: NaN within ~10 steps.
    const err = await startJob({ kind: 'finetune', finetune: finetune(outDir, { steps: 200, lr: 10, weightDecay: 10 }) }).done.catch((e: unknown) => e);

    expect(err).toBeInstanceOf(JobError);
    const e = err as JobError;
    expect(e.message).toMatch(/^loss became (NaN|-?Infinity) at step \d+; fine-tuning stopped and no checkpoint had been saved yet; the base model .* is unchanged$/);
    expect(e.message).toContain(BASE_CKPT);
    expect(e.runDir).toBe(outDir);
    expect(e.lastGoodCheckpoint).toBeNull();
    const m = readManifest(outDir);
    expect(m.status).toBe('failed');
    expect(m.error).toBe(e.message);
    expect(m.finetune?.weights).toBeUndefined();
  });

  it('a missing base rejects with a JobError and creates no run folder', async () => {
    const outDir = path.join(tmp, 'ft-nobase');
    const err = await startJob({ kind: 'finetune', finetune: finetune(outDir, { base: path.join(tmp, 'no-such-run') }) }).done.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobError);
    expect((err as JobError).message).toMatch(/not found/);
    expect((err as JobError).runDir).toBeNull();
    expect(fs.existsSync(outDir)).toBe(false);
  });
});

describe("startJob({ kind: 'study' })", () => {
  it('cancel() during the LoRA stage ends the study as cancelled, naming the stage, with no analysis', async () => {
    const outDir = path.join(tmp, 'study-cancel');
    const stages = new Set<string>();
    let cancelled = false;
    const job = startJob({ kind: 'study', study: { base: BASE, kind: 'locations', seed: 0, outDir, loraSteps: 100_000, evalSamples: 8, batchSize: 16 } }, (e, stage) => {
      if (stage) stages.add(stage);
      if (e.kind === 'progress' && !cancelled && e.step >= 3) {
        cancelled = true;
        job.cancel();
      }
    });
    const r = await job.done;

    expect(r).toMatchObject({ status: 'cancelled', stage: 'lora', runDir: outDir });
    expect([...stages]).toEqual(['lora']);
    expect(readManifest(path.join(outDir, 'lora')).status).toBe('cancelled');
    expect(fs.existsSync(path.join(outDir, 'lora', 'adapter.safetensors'))).toBe(true);
    expect(fs.existsSync(path.join(outDir, 'steer'))).toBe(false);
    expect(fs.existsSync(path.join(outDir, 'analyses'))).toBe(false);
  });
});
