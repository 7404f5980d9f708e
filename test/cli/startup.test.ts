import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliEnv, lastJson, ROOT, type CliResult } from './runCli';

/**
 * The bundled CLI (scripts/build-cli.mjs → out/cli, run by bin/oocr.mjs while fresh) against the same
 * CLI from its TypeScript sources through tsx (OOCR_FROM_SOURCE=1): same output, same run files.
 */

function run(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...cliEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const BUNDLE = { OOCR_REQUIRE_BUNDLE: '1' };
const SOURCE = { OOCR_FROM_SOURCE: '1' };
/** Where a module was loaded from shows in tfjs-node's "Cannot find package … imported from FILE". */
const normalize = (s: string): string => s.replace(/ imported from \S+?\)/g, ' imported from <entry>)');

let tmp: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-startup-'));
  // Built here, so the test measures these sources (the same build `npm ci` runs in `prepare`).
  const { buildCli } = (await import(path.join(ROOT, 'scripts/build-cli.mjs'))) as { buildCli(o: { quiet: boolean }): Promise<void> };
  await buildCli({ quiet: true });
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('bundled CLI (out/cli)', () => {
  it('prints the same --version as the tsx path', async () => {
    const [bundled, source] = await Promise.all([run(['--version'], BUNDLE), run(['--version'], SOURCE)]);
    expect(bundled.stderr).toBe('');
    expect(bundled.code).toBe(0);
    expect(source.code).toBe(0);
    expect(bundled.stdout).toMatch(/^oocr-workbench \d+\.\d+\.\d+\nbackend: /);
    expect(normalize(bundled.stdout)).toBe(normalize(source.stdout));
  });

  it('trains a short run into the same checkpoint bytes and metrics as the tsx path', async () => {
    const args = (out: string): string[] => ['train', '--preset', 'ocr-factorized', '--steps', '4', '--log-every', '2', '--checkpoint-every', '2', '--eval-samples', '32', '--out', out, '--json'];
    const a = path.join(tmp, 'bundle');
    const b = path.join(tmp, 'source');
    const [bundled, source] = await Promise.all([run(args(a), BUNDLE), run(args(b), SOURCE)]);
    expect(bundled.code, bundled.stderr).toBe(0);
    expect(source.code, source.stderr).toBe(0);
    const ja = lastJson(bundled.stdout);
    const jb = lastJson(source.stdout);
    expect({ ...ja, run: null, seconds: null }).toEqual({ ...jb, run: null, seconds: null });
    const files = fs.readdirSync(path.join(a, 'checkpoints')).sort();
    expect(files).toEqual(fs.readdirSync(path.join(b, 'checkpoints')).sort());
    expect(files).toContain('step-000004.safetensors');
    for (const f of files) expect(fs.readFileSync(path.join(a, 'checkpoints', f)).equals(fs.readFileSync(path.join(b, 'checkpoints', f))), f).toBe(true);
    const losses = (dir: string): unknown[] =>
      fs
        .readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => {
          const { time: _time, ...rest } = JSON.parse(l) as Record<string, unknown>;
          void _time;
          return rest;
        });
    expect(losses(a)).toEqual(losses(b));
  });

  it('counts a bundle stale once a file it was built from changes, and records the sources it was built from', async () => {
    const { freshBundle } = (await import(path.join(ROOT, 'scripts/cli-bundle.mjs'))) as { freshBundle(root: string): string | null };
    const stamp = JSON.parse(fs.readFileSync(path.join(ROOT, 'out/cli/stamp.json'), 'utf8')) as { files: Record<string, unknown> };
    expect(Object.keys(stamp.files)).toEqual(expect.arrayContaining(['src/cli/index.ts', 'src/core/jobs/jobWorker.ts', 'src/core/fused/fusedKernel.ts', 'node_modules/@tensorflow/tfjs/package.json']));
    // A fake tree: one source and a bundle built from it.
    const root = path.join(tmp, 'tree');
    fs.mkdirSync(path.join(root, 'src'), { recursive: true });
    fs.mkdirSync(path.join(root, 'out/cli'), { recursive: true });
    const src = path.join(root, 'src/a.ts');
    fs.writeFileSync(src, 'export const a = 1;\n');
    for (const f of ['index.js', 'jobWorker.js']) fs.writeFileSync(path.join(root, 'out/cli', f), '');
    const record = (): void => {
      const st = fs.statSync(src);
      fs.writeFileSync(path.join(root, 'out/cli/stamp.json'), JSON.stringify({ format: 'oocr-cli-build/1', files: { 'src/a.ts': { size: st.size, mtimeMs: st.mtimeMs } } }));
    };
    record();
    expect(freshBundle(root)).toBe(path.join(root, 'out/cli/index.js'));
    fs.utimesSync(src, new Date(), new Date(Date.now() + 5000));
    expect(freshBundle(root)).toBeNull();
    record();
    expect(freshBundle(root)).not.toBeNull();
    fs.rmSync(src);
    expect(freshBundle(root)).toBeNull();
    // Stale or missing: bin/oocr.mjs runs the sources, or refuses with OOCR_REQUIRE_BUNDLE=1.
    fs.rmSync(path.join(root, 'out/cli/stamp.json'));
    expect(freshBundle(root)).toBeNull();
  });
});
