import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANALYSIS_KINDS, type AnalysisRequest } from '../../src/shared/analyses';
import { kebab } from '../../src/cli/zodFlags';
import { seedWorkspace } from '../../src/core/io/seedWorkspace';
import { createWorkbench, type Workbench } from '../../src/core/workbench';

/**
 * `oocr analyze KIND` and the API's `analyze` are one registry entry behind two transports: for the
 * same request they must write byte-identical JSON. Every kind is covered (a test below fails when a
 * kind is added without a case here), with defaults and with arguments given as flags.
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
  { kind: 'patching', id: 'world-base' },
  { kind: 'patching', id: 'world-base', prompt: 'noise_0 city_3 rel_country noise_1 noise_2 end', corrupt: 'noise_0 city_12 rel_country noise_1 noise_2 end' },
  { kind: 'ov-spectrum', id: 'ocr-combined', top: 5 },
  { kind: 'projection', id: 'ocr-factorized' },
  { kind: 'projection', id: 'world-base', source: 'blocks.1.hook_resid_post', method: 'umap', promptsPerSet: 6, neighbors: 5, minDist: 0.2, position: 'last' },
  { kind: 'projection', id: 'lora-vs-steering/lora', source: 'blocks.0.hook_resid_post', promptsPerSet: 5 },
];

function flags(req: AnalysisRequest): string[] {
  const { kind, id, ...args } = req;
  const out = ['analyze', kind, '--run', id];
  for (const [k, v] of Object.entries(args)) out.push(`--${kebab(k)}`, Array.isArray(v) ? v.join(',') : String(v));
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
  wb = createWorkbench({ workspaceDir: ws });
});

afterAll(() => {
  wb.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('oocr analyze ≡ API analyze', () => {
  it('covers every registered kind', () => {
    expect(new Set(CASES.map((c) => c.kind))).toEqual(new Set(ANALYSIS_KINDS));
  });

  it.each(CASES.map((c, i) => [`${i}: ${c.kind} ${JSON.stringify(c)}`, c] as const))('%s', async (_label, req) => {
    const out = path.join(tmp, `${CASES.indexOf(req)}.json`);
    const [api, cli] = await Promise.all([wb.call('analyze', req), oocr([...flags(req), '--out', out])]);
    expect(cli.code, cli.stderr).toBe(0);
    const text = fs.readFileSync(out, 'utf8');
    expect(text).toBe(`${JSON.stringify(api)}\n`);
    expect(JSON.parse(text)).toMatchObject({ kind: req.kind, id: req.id });
  }, 120_000);
});
