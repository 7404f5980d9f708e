import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LoraVsSteeringAnalysis } from '../../src/shared/analysis';
import type { BackendInfo } from '../../src/shared/backend';
import { initBackend } from '../../src/core/backend/initBackend';
import { writeDatasetFolder } from '../../src/core/data/datasetFolder';
import { worldTextDataset } from '../../src/core/data/generators/worldText';
import { latentCityForSeed, reportOf } from '../../src/core/finetune/loraVsSteering';
import { finetuneTaskFor, loadBase } from '../../src/core/finetune/runFinetune';
import { stratifiedSample, runTextStudy } from '../../src/core/finetune/textStudy';
import { exportToyAsGpt2 } from '../../src/core/hf/export/toyToGpt2';
import { readManifest } from '../../src/core/io/runStore';
import { readSafetensorsFileSync } from '../../src/core/io/safetensors';
import { World } from '../../src/core/tasks/world';
import { ROOT, lastJson, oocr as runCli, type CliResult } from '../cli/runCli';

/**
 * The LoRA-vs-steering pipeline of arXiv 2507.08218 end to end on a model in Hugging Face layout: the
 * project's world model exported as a GPT-2 folder with a word-level tokenizer.json, its locations task
 * written as JSONL, a PEFT LoRA and two steering vectors trained through the text path, compared — and
 * the same analysis of an adapter brought from elsewhere.
 */

const WORLD_BASE = path.join(ROOT, 'resources', 'workspace', 'world-base');

let backend: BackendInfo;
let tmp: string;
let modelDir: string;
let dataDir: string;

beforeAll(async () => {
  backend = await initBackend();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-textstudy-'));
  const base = loadBase(WORLD_BASE);
  const task = finetuneTaskFor(base, { kind: 'locations' });
  modelDir = path.join(tmp, 'world-gpt2');
  exportToyAsGpt2({ config: base.checkpoint.config, params: base.checkpoint.params, vocab: task.vocab, outDir: modelDir });
  const world = new World(task.world.options);
  dataDir = path.join(tmp, 'world-locations');
  writeDatasetFolder(dataDir, worldTextDataset(world, { kind: 'locations', codename: 0, latentCity: latentCityForSeed(world, 0) }, { seed: 0, nTrain: 512, evalSamples: 100 }));
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The CLI in this process's environment (OOCR_BACKEND kept if set), never killed: the test's timeout bounds it. */
const oocr = (args: string[]): Promise<CliResult> => runCli(args, { env: process.env, timeoutMs: Infinity });

describe('LoRA vs steering on a Hugging Face model folder', () => {
  let first: LoraVsSteeringAnalysis;

  it('trains a PEFT LoRA and two steering vectors that generalise out of context, and writes the analysis', async () => {
    const out = path.join(tmp, 'study');
    const r = await runTextStudy({
      model: modelDir,
      data: dataDir,
      seed: 0,
      outDir: out,
      peft: { r: 4, alpha: 8, targetModules: ['mlp.c_proj'], layers: [0] },
      loraSteps: 60,
      steerSteps: 80,
      batchSize: 32,
      evalSamples: 20,
      deltaPrompts: 16,
      backend,
    });
    expect(r.status).toBe('completed');
    if (r.status !== 'completed') return;
    first = r.analysis;
    const a = r.analysis;
    // The codename's country and language were never trained: the base is at 0, the LoRA and a vector
    // trained from scratch at one layer both answer them (the toy study reaches 1.0 on the same data).
    expect(a.acc.base).toBeLessThan(0.3);
    expect(a.acc.lora).toBeGreaterThanOrEqual(0.9);
    expect(a.acc.trained_sv).toBeGreaterThanOrEqual(0.9);
    expect(a.side_effect_acc.base).toBeGreaterThan(0.9);
    expect(a.hook).toBe('blocks.0.hook_resid_post');
    expect(a.lora_delta.pc1_var_ratio).toBeGreaterThan(0.5);
    expect(a.cos_trained_vs_natural).toBeGreaterThan(0.5);
    expect(a.layer_sweep?.map((s) => s.hook)).toEqual(['blocks.0.hook_resid_post', 'blocks.1.hook_resid_post']);
    expect(a.seeds?.runs.map((s) => s.seed)).toEqual([0, 1000]);
    expect(a.delta_cos_trained?.values.length).toBe(a.delta_cos_trained?.labels.length);
    // Token strings of the model's own vocabulary, the read-out token (`end`, where the answer is read) included.
    expect(a.cos_matrix.labels.some((l) => /^train:codename_0@\d$/.test(l))).toBe(true);
    expect(a.cos_matrix.labels.some((l) => l.startsWith('train:end@'))).toBe(true);
    expect(a.delta_w_singular_values).toEqual([{ weight: 'blocks.0.mlp.W_out', values: expect.any(Array) }]);
    expect(a.delta_w_singular_values[0].values).toHaveLength(4);
    expect(a.peft).toEqual({ r: 4, alpha: 8, targetModules: ['mlp.c_proj'], layers: [0] });
    // Intervals need the questions behind each accuracy: the dataset's own eval and side-effect examples.
    expect(a.eval_n?.acc.lora).toBe(200);
    expect(a.evaluation?.heldout_sets).toEqual([{ name: 'heldout_country', n: 100 }, { name: 'heldout_language', n: 100 }]);
    expect(a.cos_matrix.readout?.some(Boolean)).toBe(true);
    expect(a.cos_block_means).toBeDefined();

    const onDisk = JSON.parse(fs.readFileSync(path.join(out, 'analyses', 'lora_vs_steering.json'), 'utf8')) as LoraVsSteeringAnalysis;
    expect(onDisk.run).toBe('.');
    expect(onDisk.runs).toEqual({ lora: 'lora', steer: 'steer', steer_seed2: 'steer-seed2' });
    expect(onDisk.model).toMatchObject({ dir: '../world-gpt2', data: '../world-locations', adapter: 'lora/adapter', adapterTrainedHere: true, modelType: 'gpt2' });
    const st = readSafetensorsFileSync(path.join(out, 'analyses', 'lora_vs_steering.safetensors'));
    expect(st.tensors.trained_sv.shape).toEqual([64]);
    expect(st.tensors.deltas.shape[1]).toBe(64);
    for (const run of ['lora', 'steer', 'steer-seed2']) expect(readManifest(path.join(out, run)).status).toBe('completed');
    expect(fs.readdirSync(path.join(out, 'lora', 'adapter')).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    expect(reportOf(a)).toEqual(expect.objectContaining({ run: out }));
  });

  it('analyses an adapter trained elsewhere (--adapter) without training another', async () => {
    expect(first).toBeDefined();
    const out = path.join(tmp, 'study-imported');
    const r = await runTextStudy({ model: modelDir, data: dataDir, adapter: path.join(tmp, 'study', 'lora', 'adapter'), seed: 0, outDir: out, steerSteps: 80, batchSize: 32, evalSamples: 20, deltaPrompts: 16, backend });
    expect(r.status).toBe('completed');
    if (r.status !== 'completed') return;
    expect(r.analysis.acc.lora).toBe(first.acc.lora);
    expect(r.analysis.lora_delta).toEqual(first.lora_delta);
    expect(r.analysis.model?.adapterTrainedHere).toBe(false);
    expect(fs.existsSync(path.join(out, 'lora'))).toBe(false);
  });

  it('runs from the command line: oocr finetune --model … --method steer, and reproduce with --adapter', async () => {
    const ft = await oocr(['finetune', '--model', modelDir, '--data', dataDir, '--method', 'steer', '--layer', '0', '--positions', 'completion', '--steps', '30', '--batch-size', '16', '--eval-samples', '10', '--out', path.join(tmp, 'cli-steer'), '--json']);
    expect(ft.stderr).not.toMatch(/Error/);
    expect(ft.code).toBe(0);
    const s = lastJson(ft.stdout);
    expect(s).toMatchObject({ method: 'steer', status: 'completed', steps: 30, weights: path.join(tmp, 'cli-steer', 'steering.safetensors') });
    const bad = await oocr(['finetune', '--model', modelDir, '--data', dataDir, '--targets', 'q_proj', '--out', path.join(tmp, 'cli-bad')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/q_proj/);
    const rep = await oocr(['reproduce', 'lora-vs-steering', '--model', modelDir, '--data', dataDir, '--adapter', path.join(tmp, 'study', 'lora', 'adapter'), '--steer-steps', '30', '--eval-samples', '10', '--delta-prompts', '8', '--out', path.join(tmp, 'cli-study'), '--json']);
    expect(rep.code).toBe(0);
    const report = lastJson(rep.stdout);
    expect(Object.keys(report).sort()).toEqual(['acc', 'cos_trained_across_seeds', 'cos_trained_vs_natural', 'lora_delta', 'run', 'side_effect_acc']);
    expect(report.acc).toMatchObject({ lora: first.acc.lora });
  });
});

describe('stratifiedSample', () => {
  it('takes the read-out tokens first, then every position before repeating one', () => {
    // Two sequences of 4 positions; position 3 is the read-out.
    const positions = [0, 1, 2, 3, 0, 1, 2, 3];
    const readout = positions.map((p) => p === 3);
    expect(stratifiedSample(positions, readout, 4)).toEqual([0, 1, 2, 3]);
    expect(stratifiedSample(positions, readout, 5)).toEqual([0, 1, 2, 3, 7]);
    expect(stratifiedSample(positions, readout, 20)).toHaveLength(8);
  });
});
