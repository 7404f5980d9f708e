import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BACKEND_ORDER, RUN_BACKENDS } from '../../src/shared/backend';
import { oocrInterrupted } from './interrupt';
import { lastLine, oocr, type CliResult } from './runCli';

/**
 * The `oocr` CLI as a user runs it: `node bin/oocr.mjs …` in a child process (tsx loader, real
 * training in a worker thread, the first backend that loads), checked through exit codes, stdout, stderr and files.
 */

interface TrainSummary {
  run: string;
  preset: string;
  status: string;
  steps: number;
  backend: string;
  seconds: number;
  metrics: Record<string, number | null>;
}

interface InfoJson {
  run: string;
  manifest: { preset: string | null; status: string; step: number; config: { model: { ovRank: number } } };
  metrics: { lines: number };
  checkpoints: { step: number; file: string }[];
  tensors: { name: string; shape: number[]; trainable: boolean; frobenius: number }[];
}

function tensorShape(info: InfoJson, name: string): number[] | undefined {
  return info.tensors.find((t) => t.name === name)?.shape;
}

let tmp: string;
/** The 200-step run every read-only command below works on. */
let runDir: string;
let trained: CliResult;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-cli-'));
  runDir = path.join(tmp, 'run');
  trained = await oocr(['train', '--preset', 'ocr-factorized', '--seed', '0', '--steps', '200', '--eval-samples', '120', '--out', runDir, '--json']);
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('oocr train --json', () => {
  it('exits 0 and prints exactly one JSON line with the documented keys', () => {
    expect(trained.stderr).not.toMatch(/^oocr: /m);
    expect(trained.code).toBe(0);
    // Nothing but the JSON object on stdout: `tail -n 1` and a whole-stdout parse both work.
    expect(trained.stdout.endsWith('\n')).toBe(true);
    expect(trained.stdout.trimEnd().split('\n')).toHaveLength(1);
    const s = JSON.parse(lastLine(trained.stdout)) as TrainSummary;
    expect(Object.keys(s).sort()).toEqual(['backend', 'metrics', 'preset', 'run', 'seconds', 'status', 'steps']);
    expect(s.run).toBe(runDir);
    expect(s.preset).toBe('ocr-factorized');
    expect(s.status).toBe('completed');
    expect(s.steps).toBe(200);
    // As run.json records it: the fused kernel where it trained the run.
    expect(s.backend).toBe(JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8')).backend);
    expect(RUN_BACKENDS).toContain(s.backend);
    expect(typeof s.seconds).toBe('number');
    expect(s.seconds).toBeGreaterThan(0);
    expect(Object.keys(s.metrics).sort()).toEqual(['test_fact_acc', 'test_impl_acc', 'train_fact_acc', 'train_impl_acc']);
    for (const [k, v] of Object.entries(s.metrics)) {
      expect(typeof v, k).toBe('number');
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    // 200 steps are enough to learn the trained facts of the preset.
    expect(s.metrics.train_fact_acc).toBeGreaterThan(0.9);
  });

  it('creates the run folder with run.json, metrics and the final checkpoint', () => {
    expect(fs.existsSync(path.join(runDir, 'run.json'))).toBe(true);
    expect(fs.existsSync(path.join(runDir, 'metrics.jsonl'))).toBe(true);
    expect(fs.existsSync(path.join(runDir, 'checkpoints', 'step-000200.safetensors'))).toBe(true);
    const m = JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8')) as { status: string; step: number; backend: string };
    expect(m).toMatchObject({ status: 'completed', step: 200 });
    expect(RUN_BACKENDS).toContain(m.backend);
  });

  it('shows progress on stderr as "step N/200" lines when stderr is not a terminal', () => {
    const lines = trained.stderr.split('\n').filter((l) => /^ocr-factorized step \d+\/200 /.test(l));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines[0]).toMatch(/step 1\/200 loss \d+\.\d{4} /);
    expect(lines[lines.length - 1]).toMatch(/step 200\/200 loss \d+\.\d{4} \d+ it\/s ETA 0\.0s/);
    // No progress-bar control characters in a log.
    expect(trained.stderr).not.toContain('\r');
  });
});

describe.concurrent('oocr commands (independent, run concurrently)', () => {
  it('info prints the tensor table and the preset', async () => {
    const r = await oocr(['info', '--run', runDir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('ocr-factorized');
    expect(r.stdout).toContain('blocks.0.attn.W_O');
    expect(r.stdout).toMatch(/blocks\.0\.attn\.W_V\s+\[1, 128, 8\]/);
    expect(r.stdout).toMatch(/status completed/);
    expect(r.stdout).toMatch(/checkpoints: 200/);
  });

  it('info --json parses and lists W_V as [1, 128, 8]', async () => {
    const r = await oocr(['info', '--run', runDir, '--json']);
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
    const info = JSON.parse(r.stdout) as InfoJson;
    expect(info.manifest.preset).toBe('ocr-factorized');
    expect(info.manifest.status).toBe('completed');
    expect(tensorShape(info, 'blocks.0.attn.W_V')).toEqual([1, 128, 8]);
    expect(tensorShape(info, 'blocks.0.attn.W_O')).toEqual([1, 8, 128]);
    expect(info.tensors.find((t) => t.name === 'blocks.0.attn.W_V')?.trainable).toBe(true);
    expect(info.tensors.find((t) => t.name === 'embed.W_E')?.trainable).toBe(false);
    expect(info.checkpoints.map((c) => c.step)).toEqual([200]);
    // step 1, every 50 and the last: 1, 50, 100, 150, 200.
    expect(info.metrics.lines).toBe(5);
  });

  it('eval --json re-measures the latest checkpoint, identically for the same seed', async () => {
    const [a, b] = await Promise.all([
      oocr(['eval', '--run', runDir, '--json', '--samples', '100']),
      oocr(['eval', '--run', runDir, '--json', '--samples', '100']),
    ]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    const ra = JSON.parse(lastLine(a.stdout)) as { step: number; samples: number; backend: string; checkpoint: string; metrics: Record<string, number> };
    expect(ra.step).toBe(200);
    expect(ra.samples).toBe(100);
    expect(BACKEND_ORDER).toContain(ra.backend);
    expect(ra.checkpoint).toBe(path.join(runDir, 'checkpoints', 'step-000200.safetensors'));
    expect(typeof ra.metrics.test_impl_acc).toBe('number');
    expect(ra.metrics.test_impl_acc).toBeGreaterThanOrEqual(0);
    expect(ra.metrics.test_impl_acc).toBeLessThanOrEqual(1);
    expect(b.stdout).toBe(a.stdout);
  });

  it('eval --run on a truncated checkpoint exits 1 naming the file and saying truncated', async () => {
    const full = fs.readFileSync(path.join(runDir, 'checkpoints', 'step-000200.safetensors'));
    const cut = path.join(tmp, 'cut.safetensors');
    fs.writeFileSync(cut, full.subarray(0, Math.floor(full.length / 2)));
    const r = await oocr(['eval', '--run', cut]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(cut);
    expect(r.stderr).toMatch(/truncated/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    expect(r.stdout).toBe('');
  });

  // help, version and usage errors
  it('--help lists the commands', async () => {
    const r = await oocr(['--help']);
    expect(r.code).toBe(0);
    for (const word of ['train', 'eval', 'info', '--version']) expect(r.stdout).toContain(word);
  });

  it('train --help lists its options and the presets', async () => {
    const r = await oocr(['train', '--help']);
    expect(r.code).toBe(0);
    for (const word of ['--preset', '--rank', '--out', '--steps', '--seed', '--model', '--json', 'ocr-factorized', 'ocr-combined']) {
      expect(r.stdout, word).toContain(word);
    }
  });

  it('eval --help and info --help list --run', async () => {
    const [e, i] = await Promise.all([oocr(['eval', '--help']), oocr(['info', '--help'])]);
    expect(e.code).toBe(0);
    expect(i.code).toBe(0);
    for (const word of ['--run', '--step', '--samples', '--seed']) expect(e.stdout, word).toContain(word);
    expect(i.stdout).toContain('--run');
    expect(i.stdout).toContain('--json');
  });

  it('--version names the workbench and the backend that loads', async () => {
    const r = await oocr(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^oocr-workbench \d+\.\d+\.\d+/);
    expect(r.stdout).toMatch(new RegExp(`^backend: (${BACKEND_ORDER.join('|')}) `, 'm'));
  });

  it('--steps abc exits 1 saying the flag needs an integer', async () => {
    const out = path.join(tmp, 'bad-steps');
    const r = await oocr(['train', '--steps', 'abc', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("--steps expects an integer, got 'abc'");
    expect(fs.existsSync(out)).toBe(false);
  });

  it('--steps 1.5 exits 1 with "expects an integer"', async () => {
    const r = await oocr(['train', '--steps', '1.5', '--out', path.join(tmp, 'bad-steps-2')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("--steps expects an integer, got '1.5'");
  });

  it('--preset nope exits non-zero naming the allowed presets', async () => {
    const r = await oocr(['train', '--preset', 'nope', '--out', path.join(tmp, 'bad-preset')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("'nope'");
    expect(r.stderr).toMatch(/ocr-factorized, ocr-combined/);
  });

  it('--rank on the combined preset exits 1 explaining it needs a factorized OV', async () => {
    const r = await oocr(['train', '--rank', '8', '--preset', 'ocr-combined', '--out', path.join(tmp, 'bad-rank')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("--rank applies to factorized OV models; this config's ov is 'combined'");
  });

  it('--model with a value of the wrong type exits 1 naming the field', async () => {
    const r = await oocr(['train', '--model', 'nHeads=abc', '--out', path.join(tmp, 'bad-model')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/invalid train config: model\.nHeads: .*expected number/);
  });

  it('eval --run on a missing folder exits 1 with "not found"', async () => {
    const r = await oocr(['eval', '--run', '/nonexistent']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('/nonexistent');
    expect(r.stderr).toContain('not found');
  });


  // train options and signals
  it('--rank 4 is honoured: W_V [1,128,4], W_O [1,4,128]', async () => {
    const out = path.join(tmp, 'rank4');
    const t = await oocr(['train', '--rank', '4', '--steps', '20', '--eval-samples', '50', '--out', out, '--json']);
    expect(t.code).toBe(0);
    expect((JSON.parse(lastLine(t.stdout)) as TrainSummary).status).toBe('completed');
    const r = await oocr(['info', '--run', out, '--json']);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout) as InfoJson;
    expect(info.manifest.config.model.ovRank).toBe(4);
    expect(tensorShape(info, 'blocks.0.attn.W_V')).toEqual([1, 128, 4]);
    expect(tensorShape(info, 'blocks.0.attn.W_O')).toEqual([1, 4, 128]);
  });

  it('a diverging run exits 1 and names the last good checkpoint', async () => {
    const out = path.join(tmp, 'nan');
    const r = await oocr(['train', '--lr', '10', '--weight-decay', '10', '--checkpoint-every', '2', '--steps', '200', '--eval-samples', '50', '--out', out, '--json']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/oocr: last good checkpoint: .*step-\d{6}\.safetensors/);
    expect(r.stderr).toMatch(/oocr: loss became .* the last good checkpoint is checkpoints[/\\]step-\d{6}\.safetensors/);
    expect((JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')) as { status: string }).status).toBe('failed');
  });

  it('SIGINT cancels after the current step: exit 130, JSON status cancelled, run.json cancelled', async () => {
    const out = path.join(tmp, 'sigint');
    const { code, signal, signalled, stdout, stderr } = await oocrInterrupted(['train', '--steps', '100000', '--eval-samples', '50', '--out', out, '--json'], /step \d+\/100000 /);

    expect(signalled).toBe(true);
    expect(signal).toBeNull();
    expect(code).toBe(130);
    expect(stderr).toContain('cancelling after the current step');
    expect(stdout.trimEnd().split('\n')).toHaveLength(1);
    const s = JSON.parse(lastLine(stdout)) as TrainSummary;
    expect(s.status).toBe('cancelled');
    expect(s.steps).toBeGreaterThanOrEqual(1);
    expect(s.steps).toBeLessThan(100000);
    const m = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')) as { status: string; step: number };
    expect(m.status).toBe('cancelled');
    expect(m.step).toBe(s.steps);
    expect(fs.existsSync(path.join(out, 'checkpoints', `step-${String(s.steps).padStart(6, '0')}.safetensors`))).toBe(true);
  });

  // The job worker's bootstrap (src/core/jobs/jobRunner.ts spawnJobWorker) imports tsx resolved from
  // its own file: resolved from the cwd, training outside the repository died with "training worker
  // crashed: Cannot find package 'tsx' imported from <cwd>/[worker eval]".
  it('trains from a working directory outside the repository', async () => {
    const out = path.join(tmp, 'elsewhere');
    const r = await oocr(['train', '--steps', '5', '--eval-samples', '20', '--out', out, '--json'], { cwd: os.tmpdir() });
    expect(r.stderr).not.toContain('training worker crashed');
    expect(r.code).toBe(0);
  });
});
