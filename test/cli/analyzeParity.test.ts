import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANALYSIS_KINDS, type AnalysisRequest } from '../../src/shared/analyses';
import { kebab } from '../../src/cli/zodFlags';
import { seedWorkspace } from '../../src/core/io/seedWorkspace';
import { createWorkbench, type Workbench } from '../../src/core/workbench';
import { writeTinyGpt2 } from '../hf/fixtures/tinyGpt2';

/**
 * `oocr analyze KIND` and the API's `analyze` are one registry entry behind two transports: for the
 * same request they must write byte-identical JSON. Every kind is covered (a test below fails when a
 * kind is added without a case here), with defaults and with arguments given as flags, on runs and on a
 * Hugging Face model folder (with and without a PEFT adapter).
 */

const root = path.resolve(__dirname, '../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-parity-'));
const ws = path.join(tmp, 'ws');
let wb: Workbench;

const CASES: AnalysisRequest[] = [
  { kind: 'attention', id: 'world-base' },
  { kind: 'attention', id: 'ocr-factorized', step: 1000, prompt: 'noise_0 name_30 noise_1 rel_impl noise_2 end', layers: [0] },
  { kind: 'logit-lens', id: 'world-base', topK: 3 },
  { kind: 'logit-lens', id: 'world-base', prompt: 'noise_0 city_3 rel_country noise_1 noise_2 end', answer: 'country_0', position: 5 },
  { kind: 'logit-lens', id: 'ocr-combined', wrong: 'animal_3' },
  { kind: 'logit-lens', id: 'world-base', attribution: 'centred' },
  { kind: 'patching', id: 'world-base' },
  { kind: 'patching', id: 'ocr-combined' },
  { kind: 'patching', id: 'world-base', prompt: 'noise_0 city_3 rel_country noise_1 noise_2 end', corrupt: 'noise_0 city_12 rel_country noise_1 noise_2 end' },
  { kind: 'ov-spectrum', id: 'ocr-combined', top: 5 },
  { kind: 'projection', id: 'ocr-factorized' },
  { kind: 'projection', id: 'world-base', source: 'blocks.1.hook_resid_post', method: 'umap', promptsPerSet: 6, neighbors: 5, minDist: 0.2, position: 'last' },
  { kind: 'projection', id: 'lora-vs-steering/lora', source: 'blocks.0.hook_resid_post', promptsPerSet: 5 },
];

/** A Hugging Face model folder and a PEFT adapter in the workspace (test/hf/fixtures/tinyGpt2.ts): `--model`, `--adapter`, `--text`. */
const MODEL = 'models/tiny-gpt2';
const ADAPTER = 'models/tiny-gpt2-lora';
const MODEL_CASES: AnalysisRequest[] = [
  { kind: 'attention', id: MODEL },
  { kind: 'attention', id: MODEL, adapter: ADAPTER, prompt: ' the cat sat', layers: [1] },
  { kind: 'logit-lens', id: MODEL, prompt: ' the cat', answer: '·cat', topK: 3 },
  { kind: 'logit-lens', id: MODEL, adapter: ADAPTER, prompt: 'hi the cat' },
  { kind: 'patching', id: MODEL, prompt: ' the cat sat', corrupt: ' the cat set', answer: 'a', wrong: 'e' },
  { kind: 'ov-spectrum', id: MODEL, adapter: ADAPTER, top: 3 },
  { kind: 'projection', id: MODEL, source: 'blocks.1.hook_resid_post', texts: [' the cat', 'the cat sat', ' sat', 'hi', 'é the', ' the, cat'], labels: ['a', 'b', 'a', 'b', 'c', 'c'] },
  { kind: 'projection', id: MODEL, method: 'pca' },
  { kind: 'lora-deltas', id: MODEL, adapter: ADAPTER, texts: [' the cat sat', 'hi the, cat'], sample: 8 },
];
CASES.push(...MODEL_CASES);

function flags(req: AnalysisRequest, i: number): string[] {
  const { kind, id, adapter, ...args } = req;
  const model = id.startsWith('models/');
  const out = ['analyze', kind, model ? '--model' : '--run', id];
  if (adapter) out.push('--adapter', adapter);
  const rest = args as Record<string, unknown> & { texts?: string[]; labels?: string[] };
  if (rest.texts) {
    // Texts (with commas) travel in a JSONL file, labels beside them.
    const file = path.join(tmp, `texts-${i}.jsonl`);
    fs.writeFileSync(file, rest.texts.map((text, k) => JSON.stringify({ text, label: rest.labels?.[k] })).join('\n'));
    out.push('--texts-file', file);
    delete rest.texts;
    delete rest.labels;
  }
  for (const [k, v] of Object.entries(rest)) {
    // A model's prompt is text: --text, as a user would type it.
    const flag = model && k === 'prompt' ? 'text' : kebab(k);
    out.push(`--${flag}`, Array.isArray(v) ? v.join(',') : String(v));
  }
  return out;
}

function oocr(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env.OOCR_BACKEND;
    // From inside the workspace, so `--run ID` names the run as the API's id does.
    const p = spawn(process.execPath, [path.join(root, 'bin/oocr.mjs'), ...args], { cwd: ws, env });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stderr }));
  });
}

beforeAll(() => {
  seedWorkspace(ws, path.join(root, 'resources/workspace'));
  writeTinyGpt2(path.join(ws, MODEL), path.join(ws, ADAPTER));
  wb = createWorkbench({ workspaceDir: ws });
});

afterAll(() => {
  wb.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('oocr analyze ≡ API analyze', () => {
  it('covers every registered kind, and every kind on a model folder', () => {
    expect(new Set(CASES.map((c) => c.kind))).toEqual(new Set(ANALYSIS_KINDS));
    expect(new Set(MODEL_CASES.map((c) => c.kind))).toEqual(new Set(ANALYSIS_KINDS));
  });

  it.each(CASES.map((c, i) => [`${i}: ${c.kind} ${JSON.stringify(c)}`, c] as const))('%s', async (_label, req) => {
    const out = path.join(tmp, `${CASES.indexOf(req)}.json`);
    const [api, cli] = await Promise.all([wb.call('analyze', req), oocr([...flags({ ...req }, CASES.indexOf(req)), '--out', out])]);
    expect(cli.code, cli.stderr).toBe(0);
    const text = fs.readFileSync(out, 'utf8');
    expect(text).toBe(`${JSON.stringify(api)}\n`);
    expect(JSON.parse(text)).toMatchObject({ kind: req.kind, id: req.id, ...(req.adapter ? { adapter: req.adapter } : {}) });
  }, 120_000);
});
