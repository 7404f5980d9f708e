import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initBackend } from '../../src/core/backend/initBackend';
import { presetConfig } from '../../src/core/presets';
import { readSae, writeSae } from '../../src/core/sae/saeFormat';
import { SAE_METRICS_FILE, SAE_SUMMARY_FILE } from '../../src/core/sae/saeConfig';
import { trainRun } from '../../src/core/train/trainRun';
import { lastJson, oocr, ROOT } from '../cli/runCli';
import { writeTinyGpt2 } from '../hf/fixtures/tinyGpt2';

/**
 * `oocr sae train | eval | features` end to end on a small world run trained here: the SAE folder in
 * the SAELens layout with metrics beside it, the one-line JSON summaries, the features file (with a
 * study's vectors and held-out effects), and one clear line for every bad flag.
 */

let tmp: string;
let run: string;
let saeDir: string;
const STUDY = path.join(ROOT, 'resources/workspace/lora-vs-steering');

beforeAll(async () => {
  const backend = await initBackend();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-sae-cli-'));
  const config = { ...presetConfig('world-base'), steps: 40, batchSize: 64, logEvery: 20, checkpointEvery: 0, evalSamples: 20 };
  run = (await trainRun({ config, preset: 'world-base', outDir: path.join(tmp, 'world'), backend, finalEvalSamples: 20 })).runDir;
  saeDir = path.join(tmp, 'sae');
});
afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('oocr sae', () => {
  it('train writes an SAELens folder with metrics, and a JSON last line (L0, FVE, dead fraction, losses)', async () => {
    const r = await oocr(['sae', 'train', '--run', run, '--hook', 'blocks.0.hook_resid_post', '--architecture', 'topk', '--k', '4', '--expansion', '4', '--tokens', '6000', '--batch-size', '256', '--eval-samples', '20', '--out', saeDir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r.stdout);
    expect(j).toMatchObject({ status: 'completed', steps: 24, l0: 4 });
    for (const k of ['fve', 'deadFraction', 'splicedLoss', 'cleanLoss', 'zeroAblationLoss', 'lossRecovered']) expect(typeof j[k]).toBe('number');
    expect(j.fve as number).toBeGreaterThan(0.3);
    const sae = readSae(saeDir);
    expect(sae.cfg).toMatchObject({ architecture: 'topk', k: 4, d_in: 64, d_sae: 256, hook_name: 'blocks.0.hook_resid_post', hook_layer: 0, model_name: 'world' });
    const lines = fs.readFileSync(path.join(saeDir, SAE_METRICS_FILE), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.at(-1)).toMatchObject({ step: 24, totalSteps: 24 });
    const summary = JSON.parse(fs.readFileSync(path.join(saeDir, SAE_SUMMARY_FILE), 'utf8'));
    expect(summary).toMatchObject({ status: 'completed', hook: 'blocks.0.hook_resid_post', options: { k: 4, tokens: 6000 } });
    expect(summary.eval.l0).toBe(4);
    // A second train into the same folder is refused, leaving it as it was.
    const again = await oocr(['sae', 'train', '--run', run, '--hook', 'blocks.0.hook_resid_post', '--tokens', '100', '--out', saeDir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/--out .* exists and is not an empty folder/);
  });

  it('eval and features (with a study: cosines with its vectors, latent-country MI, ablation and steering effects)', async () => {
    const e = await oocr(['sae', 'eval', '--sae', saeDir, '--run', run, '--eval-samples', '10', '--json']);
    expect(e.code, e.stderr).toBe(0);
    expect(lastJson(e.stdout)).toMatchObject({ hook: 'blocks.0.hook_resid_post', l0: 4, nTokens: 4 * 10 * 6 });
    const out = path.join(tmp, 'features.json');
    const f = await oocr(['sae', 'features', '--sae', saeDir, '--run', path.join(ROOT, 'resources/workspace/world-base'), '--study', STUDY, '--study-samples', '8', '--alphas', '4', '--eval-samples', '10', '--top', '2', '--examples', '2', '--out', out, '--json']);
    expect(f.code, f.stderr).toBe(0);
    const report = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(report.features.length).toBe(256);
    expect(Object.keys(report.topByCosine).sort()).toEqual(['natural_sv', 'trained_sv', 'trained_sv_seed2']);
    expect(report.topByRelevance.latent_country.length).toBeGreaterThan(0);
    expect(report.study).toMatchObject({ hook: 'blocks.0.hook_resid_post', latentCity: 25, nHeldOut: 16, baseAcc: 0, steeredAcc: 1 });
    expect(report.study.features[0].featureSteeringAcc[0].alpha).toBe(4);
    const j = lastJson(f.stdout);
    expect(j.study).toBeDefined();
  });

  it('train on a Hugging Face model folder over a text dataset', async () => {
    const model = path.join(tmp, 'gpt2');
    writeTinyGpt2(model);
    const data = path.join(tmp, 'texts.jsonl');
    fs.writeFileSync(data, Array.from({ length: 30 }, (_, i) => JSON.stringify({ text: `the ${i % 7} cats sat on ${i % 5} mats near the door` })).join('\n'));
    const out = path.join(tmp, 'gpt2-sae');
    const r = await oocr(['sae', 'train', '--model', model, '--data', data, '--hook', 'blocks.0.hook_mlp_out', '--architecture', 'relu', '--expansion', '2', '--tokens', '2000', '--batch-size', '128', '--eval-samples', '8', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r.stdout);
    expect(j).toMatchObject({ status: 'completed', steps: 16 });
    expect(readSae(out).cfg).toMatchObject({ architecture: 'standard', d_in: 32, d_sae: 64, hook_name: 'blocks.0.hook_mlp_out', model_name: 'gpt2' });
    const noData = await oocr(['sae', 'train', '--model', model, '--hook', 'blocks.0.hook_mlp_out', '--tokens', '100', '--out', path.join(tmp, 'never2')]);
    expect(noData.code).toBe(1);
    expect(noData.stderr).toMatch(/a model folder has no task prompts; give a dataset \(--data FILE\.jsonl\)/);
  });

  it('numeric flags are range-checked and bad targets named, with one line on stderr', async () => {
    const refused = async (args: string[], line: RegExp): Promise<void> => {
      const r = await oocr(args);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(line);
      expect(r.stderr.trim().split('\n').length).toBe(1);
      expect(r.stdout).toBe('');
    };
    const base = ['sae', 'train', '--run', run, '--hook', 'blocks.0.hook_resid_post', '--out', path.join(tmp, 'never')];
    await refused([...base, '--k', '0'], /^oocr: --k: must be ≥ 1, got 0$/m);
    await refused([...base, '--expansion', '0'], /^oocr: --expansion: must be ≥ 1, got 0$/m);
    await refused([...base, '--lr', '0'], /^oocr: --lr: must be > 0, got 0$/m);
    await refused([...base, '--tokens', '-5'], /^oocr: --tokens: must be ≥ 1, got -5$/m);
    await refused([...base, '--batch-size', '1.5'], /^oocr: --batch-size expects an integer, got '1.5'$/m);
    await refused([...base, '--l1', 'abc'], /^oocr: --l1 expects a number, got 'abc'$/m);
    await refused(['sae', 'features', '--sae', saeDir, '--run', run, '--top', '0', '--out', path.join(tmp, 'x.json')], /^oocr: --top: must be ≥ 1, got 0$/m);
    await refused(['sae', 'train', '--run', run, '--model', run, '--hook', 'blocks.0.hook_resid_post', '--out', path.join(tmp, 'never')], /give exactly one of --run DIR and --model DIR/);
    await refused(['sae', 'train', '--run', run, '--hook', 'blocks.9.hook_resid_post', '--tokens', '100', '--out', path.join(tmp, 'never')], /hook 'blocks\.9\.hook_resid_post' is outside the model's layers 0\.\.1/);
    await refused(['sae', 'eval', '--sae', path.join(tmp, 'nowhere'), '--run', run], /nowhere\/cfg\.json: file not found/);
    expect(fs.existsSync(path.join(tmp, 'never', 'cfg.json'))).toBe(false);
    // An SAE of another model (d_in 32 at a hook 64 wide here).
    const other = path.join(tmp, 'other-sae');
    const sae = readSae(saeDir);
    const t = (shape: number[]) => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
    writeSae(other, { cfg: { ...sae.cfg, d_in: 32, d_sae: 64 }, weights: { W_enc: t([32, 64]), b_enc: t([64]), W_dec: t([64, 32]), b_dec: t([32]) } });
    await refused(['sae', 'eval', '--sae', other, '--run', run], /SAE .*other-sae reads d_in 32 but blocks\.0\.hook_resid_post of .* has width 64: an SAE of another model or hook/);
  });
});
