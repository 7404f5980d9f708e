import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventLog } from './workbenchEvents';
import type { SaeDetails, SaeFeaturesResult, SaeInterventionResult, SaeSummary } from '../../src/shared/api';
import { seedWorkspace } from '../../src/core/io/seedWorkspace';
import { ApiArgumentError, createWorkbench, type Workbench } from '../../src/core/workbench';

/**
 * SAEs through the workbench API (what the SAE view and web mode call): train a tiny SAE on world-base
 * as a job (events: queued/started, progress with L0 and FVE, finished), list and get it, its feature
 * report with a study's vectors, one feature's ablation / steering on the study's held-out questions,
 * and bad arguments and names that would leave the workspace refused. Waits on events, never on a clock.
 */
const root = path.resolve(__dirname, '../..');
let tmp: string;
let ws: string;
let wb: Workbench;
const { record, waitFor } = eventLog();

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-sae-api-'));
  ws = path.join(tmp, 'ws');
  seedWorkspace(ws, path.join(root, 'resources/workspace'));
  wb = createWorkbench({ workspaceDir: ws, maxJobs: 2, analysisWorkers: 1 });
  wb.subscribe(record);
});

afterAll(async () => {
  await wb.shutdown(20_000);
  fs.rmSync(tmp, { recursive: true, force: true });
});

const TINY = { name: 'tiny', id: 'world-base', hook: 'blocks.0.hook_resid_post', architecture: 'topk' as const, expansion: 2, k: 4, tokens: 4096, batchSize: 256, evalSamples: 10, seed: 1 };

describe('SAE API', () => {
  it('trains a tiny SAE as a job, with progress events, then lists and gets it', async () => {
    const started = (await wb.call('startSae', TINY)) as { jobId: string; runId: string };
    expect(started.runId).toBe('saes/tiny');
    const progress = await waitFor((e) => 'jobId' in e && e.jobId === started.jobId && e.kind === 'progress');
    expect(progress).toMatchObject({ kind: 'progress', totalSteps: 16 });
    if (progress.kind === 'progress') expect(progress.metrics).toHaveProperty('l0');
    const end = await waitFor((e) => 'jobId' in e && e.jobId === started.jobId && (e.kind === 'finished' || e.kind === 'failed'));
    expect(end).toMatchObject({ kind: 'finished', status: 'completed' });

    for (const f of ['cfg.json', 'sae_weights.safetensors', 'metrics.jsonl', 'training_summary.json']) expect(fs.existsSync(path.join(ws, 'saes/tiny', f))).toBe(true);
    const list = (await wb.call('listSaes', undefined)) as SaeSummary[];
    const item = list.find((s) => s.name === 'tiny');
    expect(item).toMatchObject({ name: 'tiny', hook: 'blocks.0.hook_resid_post', architecture: 'topk', dIn: 64, dSae: 128, k: 4, subject: 'world-base', status: 'completed', steps: 16 });
    expect(item?.l0).toBeCloseTo(4, 5);
    expect(item?.fve).toBeGreaterThan(0);
    expect(item?.deadFraction).toBeGreaterThanOrEqual(0);
    expect(Number.isFinite(item?.lossRecovered)).toBe(true);

    const sae = (await wb.call('getSae', { name: 'tiny' })) as SaeDetails;
    expect(sae.cfg).toMatchObject({ d_in: 64, d_sae: 128, hook_name: 'blocks.0.hook_resid_post' });
    expect(sae.curve.length).toBeGreaterThan(1);
    expect(sae.curve.at(-1)?.step).toBe(16);
    expect(sae.curve[0]).toHaveProperty('l0');
    const live = sae.densityHistogram.reduce((a, b) => a + b.count, 0);
    expect(live + (sae.dead ?? 0)).toBe(128);
  }, 180_000);

  it('cancels a training job after its current step; the SAE so far is saved, evaluated and listed as cancelled', async () => {
    const started = (await wb.call('startSae', { ...TINY, name: 'long', tokens: 50_000_000 })) as { jobId: string };
    await expect(wb.call('startSae', { ...TINY, name: 'long' })).rejects.toThrow(/already being trained/);
    await waitFor((e) => 'jobId' in e && e.jobId === started.jobId && e.kind === 'progress');
    expect(await wb.call('cancel', { jobId: started.jobId })).toEqual({ cancelled: true });
    const end = await waitFor((e) => 'jobId' in e && e.jobId === started.jobId && (e.kind === 'finished' || e.kind === 'failed'));
    expect(end).toMatchObject({ kind: 'finished', status: 'cancelled' });
    const item = ((await wb.call('listSaes', undefined)) as SaeSummary[]).find((s) => s.name === 'long');
    expect(item).toMatchObject({ status: 'cancelled', subject: 'world-base' });
    expect(item?.steps).toBeLessThan(50_000_000 / 256);
  }, 180_000);

  it('gives the feature report, with a study’s vectors and the latent-country label', async () => {
    const r = (await wb.call('saeFeatures', { name: 'tiny', study: 'lora-vs-steering', top: 3, examples: 2, evalSamples: 5 })) as SaeFeaturesResult;
    expect(r).toMatchObject({ name: 'tiny', subject: 'world-base', study: 'lora-vs-steering', dIn: 64, dSae: 128 });
    expect(r.features).toHaveLength(128);
    expect(r.labelKinds).toEqual(expect.arrayContaining(['set', 'city', 'country', 'latent_country']));
    expect(Object.keys(r.vectorNorms)).toContain('trained_sv');
    expect(r.vectorNorms.trained_sv).toBeGreaterThan(0);
    expect(r.topByCosine.trained_sv).toHaveLength(3);
    const detailed = r.detailed.find((f) => f.density > 0);
    expect(detailed?.topExamples?.length).toBeGreaterThan(0);
    const ex = detailed!.topExamples![0];
    expect(ex.position).toBeLessThan(ex.tokens.length);
    expect(detailed?.histogram).toHaveLength(20);
    expect(detailed?.logitEffects?.promoted.length).toBe(3);
    expect(Math.abs(r.features[0].cosines.trained_sv)).toBeLessThanOrEqual(1 + 1e-6);
  }, 120_000);

  it('ablates and steers with one feature on the study’s held-out questions', async () => {
    const r = (await wb.call('saeIntervention', { name: 'tiny', study: 'lora-vs-steering', feature: 0, alpha: 8, samples: 10 })) as SaeInterventionResult;
    expect(r).toMatchObject({ name: 'tiny', study: 'lora-vs-steering', feature: 0, alpha: 8, hook: 'blocks.0.hook_resid_post' });
    expect(r.nHeldOut).toBeGreaterThan(0);
    expect(r.chance).toBeGreaterThan(0);
    expect(r.chance).toBeLessThan(1);
    for (const k of ['baseAcc', 'steeredAcc', 'steeredSplicedAcc', 'steeredAblatedAcc', 'featureSteeringAcc', 'vectorWithoutDirectionAcc'] as const) {
      expect(r[k]).toBeGreaterThanOrEqual(0);
      expect(r[k]).toBeLessThanOrEqual(1);
    }
    // The shipped study: the trained vector takes held-out accuracy from 0 to 1.
    expect(r.steeredAcc).toBeGreaterThan(r.baseAcc);
    expect(r.randomDirectionAcc.n).toBe(8);
    expect(r.trainedVectorNorm).toBeGreaterThan(0);
  }, 120_000);

  it('refuses bad arguments with clear errors', async () => {
    const bad = async (method: string, args: unknown, msg: RegExp): Promise<void> => {
      const p = wb.call(method, args);
      await expect(p).rejects.toBeInstanceOf(ApiArgumentError);
      await expect(p).rejects.toThrow(msg);
    };
    await bad('startSae', { ...TINY, name: 'x', architecture: 'gated' }, /architecture/);
    await bad('startSae', { ...TINY, name: 'x', k: 0 }, /k/);
    await bad('startSae', { ...TINY, name: 'x', hook: 'blocks.7.hook_resid_post' }, /outside the model's layers/);
    await bad('startSae', { ...TINY, name: 'x', hook: 'blocks.0.attn.hook_pattern' }, /attention patterns/);
    await bad('startSae', { ...TINY, name: 'x', architecture: 'relu' }, /k applies to TopK/);
    await bad('startSae', { ...TINY, name: 'x', id: 'nope' }, /no run 'nope'/);
    await bad('startSae', { ...TINY, name: 'x', id: 'lora-vs-steering' }, /no run 'lora-vs-steering'/);
    await bad('startSae', { ...TINY, name: 'x', adapter: 'a' }, /adapter/);
    await bad('startSae', { ...TINY, name: 'tiny' }, /already exists/);
    await bad('startSae', { ...TINY, name: 'x', extra: 1 }, /extra/);
    await bad('getSae', { name: 'missing' }, /no SAE 'missing'/);
    await bad('saeFeatures', { name: 'tiny', top: 0 }, /top/);
    await bad('saeFeatures', { name: 'tiny', study: 'world-base' }, /not a LoRA-vs-steering study/);
    await bad('saeIntervention', { name: 'tiny', study: 'lora-vs-steering', feature: 128, alpha: 1 }, /outside the SAE's 128 features/);
    await bad('saeIntervention', { name: 'tiny', feature: 0, alpha: 1 }, /study/);
    await bad('startTraining', { preset: 'world-base', name: 'saes' }, /folder of the workspace's SAEs/);
  });

  it('refuses SAE names and ids that would leave the workspace', async () => {
    for (const name of ['../escape', '..', '.hidden', 'a/b', '/tmp/x', 'a\\b', '']) {
      await expect(wb.call('startSae', { ...TINY, name })).rejects.toBeInstanceOf(ApiArgumentError);
      await expect(wb.call('getSae', { name })).rejects.toBeInstanceOf(ApiArgumentError);
      await expect(wb.call('saeFeatures', { name })).rejects.toBeInstanceOf(ApiArgumentError);
    }
    await expect(wb.call('saeFeatures', { name: 'tiny', id: '../world-base' })).rejects.toBeInstanceOf(ApiArgumentError);
    await expect(wb.call('saeIntervention', { name: 'tiny', study: '../lora-vs-steering', feature: 0, alpha: 1 })).rejects.toBeInstanceOf(ApiArgumentError);
    // A symbolic link out of the workspace, named as an SAE, is refused.
    const outside = path.join(tmp, 'outside');
    fs.mkdirSync(outside, { recursive: true });
    fs.symlinkSync(outside, path.join(ws, 'saes', 'link'));
    await expect(wb.call('startSae', { ...TINY, name: 'link' })).rejects.toThrow(/outside|workspace/);
    await expect(wb.call('getSae', { name: 'link' })).rejects.toBeInstanceOf(ApiArgumentError);
    expect(fs.readdirSync(outside)).toEqual([]);
    // ...and a workspace whose saes folder is itself a link out of it.
    const ws2 = path.join(tmp, 'ws2');
    fs.mkdirSync(ws2);
    fs.cpSync(path.join(ws, 'world-base'), path.join(ws2, 'world-base'), { recursive: true });
    fs.symlinkSync(outside, path.join(ws2, 'saes'));
    const wb2 = createWorkbench({ workspaceDir: ws2, maxJobs: 1, analysisWorkers: 1 });
    try {
      await expect(wb2.call('startSae', { ...TINY, name: 'y' })).rejects.toThrow(/outside|workspace/);
      expect(fs.readdirSync(outside)).toEqual([]);
    } finally {
      await wb2.shutdown(5000);
    }
  });
});
