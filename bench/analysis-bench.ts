// Analysis latency benchmark: `npm run bench:analyses`.
//
// What the views wait for. For each analysis the UI calls, on the shipped example workspace: the time
// through the workbench API (validation + the analysis worker + structured clone back), and the same
// analysis called in-process; the ratio is the price of keeping it off the serving thread. The reference
// measured in the same run is one forward pass of the world model on one prompt. Not a unit test:
// timings depend on the machine and its load.
import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AnalysisRequest } from '../src/shared/api';
import { initBackend } from '../src/core/backend/initBackend';
import { seedWorkspace } from '../src/core/io/seedWorkspace';
import { forward } from '../src/core/model/forward';
import { tidyHost } from '../src/core/util/tidyHost';
import { analyzeRequest } from '../src/core/runs/analyzeRequest';
import { openRun } from '../src/core/runs/openRun';
import { liveParams } from '../src/core/model/params';
import { createWorkbench } from '../src/core/workbench';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REPEATS = 5;

async function median(fn: () => Promise<unknown> | unknown, repeats = REPEATS): Promise<number> {
  await fn(); // warm-up: worker start, kernel compilation, file cache
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const CASES: { label: string; req: AnalysisRequest }[] = [
  { label: 'attention (world-base)', req: { kind: 'attention', id: 'world-base' } },
  { label: 'logit lens + DLA (world-base)', req: { kind: 'logit-lens', id: 'world-base' } },
  { label: 'patching, default corruption (world-base)', req: { kind: 'patching', id: 'world-base' } },
  { label: 'OV spectra, 8 checkpoints (ocr-combined)', req: { kind: 'ov-spectrum', id: 'ocr-combined' } },
  { label: 'projection PCA, embeddings (ocr-factorized)', req: { kind: 'projection', id: 'ocr-factorized', source: 'embed', method: 'pca' } },
  { label: 'projection PCA, resid 160 prompts (world-base)', req: { kind: 'projection', id: 'world-base', source: 'blocks.1.hook_resid_post', method: 'pca' } },
  { label: 'projection UMAP, resid 160 prompts (world-base)', req: { kind: 'projection', id: 'world-base', source: 'blocks.1.hook_resid_post', method: 'umap' } },
  { label: 'projection + base→LoRA (lora run)', req: { kind: 'projection', id: 'lora-vs-steering/lora', source: 'blocks.0.hook_resid_post', method: 'pca' } },
];

async function main(): Promise<void> {
  const backend = await initBackend();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-bench-'));
  const ws = path.join(tmp, 'ws');
  seedWorkspace(ws, path.join(ROOT, 'resources/workspace'));
  const wb = createWorkbench({ workspaceDir: ws });
  try {
    const run = openRun(path.join(ws, 'world-base'));
    const params = liveParams(run.params);
    const tokens = tf.tensor2d([[0, 1, 2, 3, 4, 5].map((i) => i % run.config.dVocab)], [1, 6], 'int32');
    const ref = await median(() => tidyHost(() => forward(run.config, params, tokens).logits.dataSync()), 20);
    tokens.dispose();
    Object.values(params).forEach((t) => t.dispose());
    process.stdout.write(`backend ${backend.name}; reference: one forward pass of world-base on one prompt = ${ref.toFixed(2)} ms\n\n`);
    process.stdout.write(`${'analysis'.padEnd(50)} ${'API ms'.padStart(9)} ${'in-proc ms'.padStart(11)} ${'× ref'.padStart(8)} ${'API/in-proc'.padStart(12)}\n`);
    for (const c of CASES) {
      const api = await median(() => wb.call('analyze', c.req));
      const local = await median(() => analyzeRequest(path.join(ws, c.req.id), c.req));
      process.stdout.write(`${c.label.padEnd(50)} ${api.toFixed(1).padStart(9)} ${local.toFixed(1).padStart(11)} ${(api / ref).toFixed(0).padStart(8)} ${(api / local).toFixed(2).padStart(12)}\n`);
    }
  } finally {
    wb.dispose();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

void main();
