import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { oocrInterrupted } from './interrupt';
import { BACKEND_ORDER } from '../../src/shared/backend';

const root = path.resolve(__dirname, '../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-ft-cli-'));

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

const lastJson = (s: string): Record<string, unknown> => JSON.parse(s.trim().split('\n').pop() as string) as Record<string, unknown>;

describe('oocr finetune / reproduce (CLI, end to end on the shipped world-base model)', () => {
  it('finetune --method lora prints the documented JSON and writes an adapter', async () => {
    const out = path.join(tmp, 'lora');
    const r = await oocr(['finetune', '--task', 'locations', '--method', 'lora', '--layer', '0', '--rank', '2', '--steps', '20', '--eval-samples', '20', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r.stdout);
    expect(Object.keys(j).sort()).toEqual(['backend', 'method', 'metrics', 'run', 'seconds', 'status', 'steps', 'task']);
    expect(j).toMatchObject({ task: 'locations', method: 'lora', status: 'completed', steps: 20 });
    expect(BACKEND_ORDER).toContain(j.backend);
    const m = j.metrics as Record<string, number>;
    expect(m.heldout_acc).toBeGreaterThanOrEqual(0);
    expect(m.side_effect_acc).toBeLessThanOrEqual(1);
    expect(fs.existsSync(path.join(out, 'adapter.safetensors'))).toBe(true);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8'));
    expect(manifest.finetune.lora).toEqual({ rank: 2, alpha: 4, targets: ['mlp.W_out'], layers: [0] });
  });

  it('finetune --method steer on the backdoor task writes a steering vector', async () => {
    const out = path.join(tmp, 'steer');
    const r = await oocr(['finetune', '--task', 'backdoor', '--method', 'steer', '--layer', '0', '--steps', '20', '--eval-samples', '20', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(lastJson(r.stdout)).toMatchObject({ task: 'backdoor', method: 'steer', status: 'completed' });
    expect(fs.existsSync(path.join(out, 'steering.safetensors'))).toBe(true);
  });

  it('bad arguments fail with clear messages', async () => {
    const a = await oocr(['finetune', '--targets', 'mlp.W_up', '--out', path.join(tmp, 'x1')]);
    expect(a.code).toBe(1);
    expect(a.stderr).toContain("unknown matrix 'mlp.W_up'");
    const b = await oocr(['finetune', '--base', path.join(tmp, 'nope'), '--out', path.join(tmp, 'x2')]);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/not found/);
    const c = await oocr(['finetune', '--method', 'steer', '--layer', '5', '--out', path.join(tmp, 'x3')]);
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/outside 0\.\.1/);
    const d = await oocr(['reproduce', 'something-else', '--out', path.join(tmp, 'x4')]);
    expect(d.code).toBe(1);
    expect(d.stderr).toContain('expected lora-vs-steering');
  });

  it('reproduce lora-vs-steering prints the documented report as its last line', async () => {
    const out = path.join(tmp, 'rep');
    const r = await oocr(['reproduce', 'lora-vs-steering', '--seed', '0', '--steps', '20', '--steer-steps', '20', '--eval-samples', '20', '--delta-prompts', '8', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r.stdout);
    expect(Object.keys(j.acc as object).sort()).toEqual(['base', 'lora', 'natural_sv', 'trained_sv']);
    expect(Object.keys(j.side_effect_acc as object)).toEqual(expect.arrayContaining(['base', 'lora', 'trained_sv']));
    expect(Object.keys(j.lora_delta as object).sort()).toEqual(['mean_abs_cos', 'pc1_var_ratio']);
    expect(typeof j.cos_trained_vs_natural).toBe('number');
    expect(j.run).toBe(out);
    for (const f of ['lora_vs_steering.json', 'lora_vs_steering.safetensors']) expect(fs.existsSync(path.join(out, 'analyses', f))).toBe(true);
  });
});

describe('oocr finetune / reproduce run in the job worker: progress on stderr, Ctrl-C cancels', () => {
  it('finetune: SIGINT after progress exits 130 with status cancelled and the adapter saved', async () => {
    const out = path.join(tmp, 'ft-sigint');
    const r = await oocrInterrupted(['finetune', '--method', 'lora', '--steps', '100000', '--eval-samples', '8', '--batch-size', '16', '--out', out, '--json'], /step \d+\/100000 /);
    expect(r.signalled).toBe(true);
    expect(r.signal).toBeNull();
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toContain('cancelling after the current step');
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
    const j = lastJson(r.stdout);
    expect(Object.keys(j).sort()).toEqual(['backend', 'method', 'metrics', 'run', 'seconds', 'status', 'steps', 'task']);
    expect(j).toMatchObject({ status: 'cancelled', method: 'lora', run: out });
    expect(j.steps).toBeLessThan(100000);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8'));
    expect(manifest).toMatchObject({ status: 'cancelled', step: j.steps, finetune: { weights: 'adapter.safetensors' } });
    expect(fs.existsSync(path.join(out, 'adapter.safetensors'))).toBe(true);
  });

  it('reproduce: SIGINT during the LoRA stage exits 130, names the stage and prints no report', async () => {
    const out = path.join(tmp, 'rep-sigint');
    const r = await oocrInterrupted(['reproduce', 'lora-vs-steering', '--steps', '100000', '--eval-samples', '8', '--out', out, '--json'], /lora step \d+\/100000 /);
    expect(r.signalled).toBe(true);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toContain('cancelling after the current step');
    expect(r.stderr).toContain(`oocr: study cancelled during lora; its runs so far are kept in ${out}`);
    expect(r.stdout).toBe('');
    expect(JSON.parse(fs.readFileSync(path.join(out, 'lora', 'run.json'), 'utf8')).status).toBe('cancelled');
    expect(fs.existsSync(path.join(out, 'analyses'))).toBe(false);
  });
});
