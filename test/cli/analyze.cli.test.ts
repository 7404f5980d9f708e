import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-analyze-cli-'));
const world = path.join(root, 'resources/workspace/world-base');
const ocrRun = path.join(tmp, 'ocr');

function oocr(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env.OOCR_BACKEND;
    const p = spawn(process.execPath, [path.join(root, 'bin/oocr.mjs'), ...args], { cwd: root, env });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const read = (f: string): Record<string, unknown> => JSON.parse(fs.readFileSync(f, 'utf8')) as Record<string, unknown>;
const clean = 'noise_0 city_3 rel_country noise_1 noise_2 end';
const corrupt = 'noise_0 city_12 rel_country noise_1 noise_2 end';

beforeAll(async () => {
  const r = await oocr(['train', '--preset', 'ocr-factorized', '--steps', '100', '--checkpoint-every', '50', '--eval-samples', '60', '--out', ocrRun, '--json']);
  expect(r.code, r.stderr).toBe(0);
}, 120_000);

describe.concurrent('oocr analyze', () => {
  it('ov-spectrum writes the API’s JSON from the run’s checkpoints', async () => {
    const out = path.join(tmp, 'ov.json');
    const r = await oocr(['analyze', 'ov-spectrum', '--run', ocrRun, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const j = read(out) as { steps: number[]; heads: { layer: number; head: number; singular_values: number[][]; nuclear_norm: number[] }[] };
    expect(Object.keys(j).sort()).toEqual(['heads', 'id', 'kind', 'ov', 'ovRank', 'steps']);
    expect(j).toMatchObject({ kind: 'ov-spectrum', id: ocrRun, ov: 'factorized', ovRank: 8 });
    expect(j.steps).toEqual([50, 100]);
    expect(j.heads[0].layer).toBe(0);
    expect(j.heads[0].singular_values).toHaveLength(2);
    expect(j.heads[0].singular_values[1]).toHaveLength(128);
    expect(j.heads[0].nuclear_norm[1]).toBeCloseTo(j.heads[0].singular_values[1].reduce((a, b) => a + b, 0), 6);
  });

  it('ov-spectrum --format csv: both tables, one step', async () => {
    const out = path.join(tmp, 'ov.csv');
    const r = await oocr(['analyze', 'ov-spectrum', '--run', ocrRun, '--top', '3', '--format', 'csv', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const lines = fs.readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('run,step,layer,head,index,singular_value');
    expect(lines).toHaveLength(1 + 2 * 3);
    const nuc = path.join(tmp, 'ov-nuclear.csv');
    expect((await oocr(['analyze', 'ov-spectrum', '--run', ocrRun, '--step', '100', '--format', 'csv', '--table', 'nuclear', '--out', nuc])).code).toBe(0);
    const rows = fs.readFileSync(nuc, 'utf8').trim().split('\n');
    expect(rows[0]).toBe('run,step,layer,head,nuclear_norm,effective_rank_90');
    expect(rows).toHaveLength(2);
    expect(rows[1].split(',')[1]).toBe('100');
  });

  it('attention on a prompt: rows of a softmax model sum to 1', async () => {
    const out = path.join(tmp, 'att.json');
    const r = await oocr(['analyze', 'attention', '--run', world, '--prompt', clean, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const j = read(out) as { tokens: string[]; layers: { layer: number; heads: number[][][][] }[] };
    expect(j.tokens).toEqual(clean.split(' '));
    expect(j.layers).toHaveLength(2);
    for (const row of j.layers[1].heads[2][0]) expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  });

  it('logit-lens: the last hook ranks the answer first; CSV has one row per hook', async () => {
    const out = path.join(tmp, 'lens.csv');
    const r = await oocr(['analyze', 'logit-lens', '--run', world, '--prompt', clean, '--format', 'csv', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const lines = fs.readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('hook,depth,token,is_answer,prob,answer_rank');
    const rows = lines.slice(1).map((l) => l.split(','));
    // Three hooks (resid_pre 0, resid_pre 1, resid_post 1), each with the same token columns, the answer first.
    expect(new Set(rows.map((r) => r[0]))).toEqual(new Set(['blocks.0.hook_resid_pre', 'blocks.1.hook_resid_pre', 'blocks.1.hook_resid_post']));
    const last = rows.filter((r) => r[0] === 'blocks.1.hook_resid_post');
    expect(last[0][3]).toBe('1');
    expect(last[0][5]).toBe('0');
    const jOut = path.join(tmp, 'lens.json');
    expect((await oocr(['analyze', 'logit-lens', '--run', world, '--prompt', clean, '--top-k', '3', '--out', jOut])).code).toBe(0);
    const j = read(jOut) as { dla: { components: unknown[] }; lens: { hooks: { prompts: { top: unknown[] }[] }[] } };
    expect(j.dla.components.length).toBeGreaterThan(0);
    expect(j.lens.hooks[0].prompts[0].top).toHaveLength(3);
    const dla = path.join(tmp, 'dla.csv');
    expect((await oocr(['analyze', 'logit-lens', '--run', world, '--prompt', clean, '--format', 'csv', '--table', 'dla', '--out', dla])).code).toBe(0);
    const dlaLines = fs.readFileSync(dla, 'utf8').trim().split('\n');
    expect(dlaLines[0]).toBe('component,kind,layer,head,value,attribution');
    // The prompt asks city_3's country: the logit difference country_0 − the most likely other country.
    expect(dlaLines[1]).toMatch(/,logit difference country_0 − country_\d+$/);
  });

  it('patching picks a corruption when none is given', async () => {
    const out = path.join(tmp, 'patch-default.json');
    const r = await oocr(['analyze', 'patching', '--run', world, '--prompt', clean, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const j = read(out) as { tokens: string[]; corrupted: string[]; answer: string; wrong: string };
    expect(j.tokens).toEqual(clean.split(' '));
    expect(j.corrupted.filter((t, i) => t !== j.tokens[i])).toHaveLength(1);
    expect(j.answer).not.toBe(j.wrong);
  });

  it('patching: the subject position of layer 0 restores the clean answer fully', async () => {
    const out = path.join(tmp, 'patch.json');
    const r = await oocr(['analyze', 'patching', '--run', world, '--prompt', clean, '--corrupt', corrupt, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const j = read(out) as { residual: { metric: number[][] }; heads: { metric: number[][] } };
    expect(j.residual.metric[0][1]).toBeCloseTo(1, 6);
    expect(j.residual.metric[0][0]).toBeCloseTo(0, 6);
    expect(j.heads.metric).toHaveLength(2);
  });

  it('projection of embeddings (PCA) and of a hook (UMAP), JSON and CSV', async () => {
    const a = path.join(tmp, 'proj.json');
    expect((await oocr(['analyze', 'projection', '--run', world, '--out', a])).code).toBe(0);
    const j = read(a) as { points: number[][]; labels: { token: string }[]; varianceRatio: number[] };
    expect(j.points).toHaveLength(62);
    expect(j.varianceRatio).toHaveLength(3);
    const b = path.join(tmp, 'proj.csv');
    const r = await oocr(['analyze', 'projection', '--run', world, '--source', 'blocks.0.hook_resid_post', '--method', 'umap', '--prompts-per-set', '8', '--format', 'csv', '--out', b]);
    expect(r.code, r.stderr).toBe(0);
    const lines = fs.readFileSync(b, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('x,y,z,token,group,answer,prompt,position');
    expect(lines).toHaveLength(1 + 32);
  });

  it('errors name the problem', async () => {
    const x = path.join(tmp, 'x.json');
    const a = await oocr(['analyze', 'nope', '--run', world, '--out', x]);
    expect(a.code).toBe(1);
    expect(a.stderr).toContain("unknown analysis 'nope'");
    const b = await oocr(['analyze', 'attention', '--run', world, '--prompt', 'city_99 end', '--out', x]);
    expect(b.code).toBe(1);
    expect(b.stderr).toContain("unknown token 'city_99'");
    const c = await oocr(['analyze', 'patching', '--run', world, '--prompt', clean, '--corrupt', 'noise_0 city_12 end', '--out', x]);
    expect(c.code).toBe(1);
    expect(c.stderr).toContain('same length');
    const d = await oocr(['analyze', 'ov-spectrum', '--run', ocrRun, '--step', '7', '--out', x]);
    expect(d.code).toBe(1);
    expect(d.stderr).toContain('no checkpoint at step 7');
    const e = await oocr(['analyze', 'projection', '--run', world, '--source', 'blocks.0.hook_nope', '--out', x]);
    expect(e.code).toBe(1);
    expect(e.stderr).toContain('TransformerLens hook name');
    const f = await oocr(['analyze', 'projection', '--run', world, '--source', 'blocks.9.hook_resid_post', '--out', x]);
    expect(f.code).toBe(1);
    expect(f.stderr).toContain('outside the model');
    const g = await oocr(['analyze', 'logit-lens', '--run', world, '--top-k', 'many', '--out', x]);
    expect(g.code).toBe(1);
    expect(g.stderr).toContain('topK');
    expect(fs.existsSync(x)).toBe(false);
  });
});
