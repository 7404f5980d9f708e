import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, oocr } from './runCli';

/**
 * The CLI refuses out-of-range numbers and unusable output folders with one clear line on stderr and
 * exit code 1, before anything is written: no NaN accuracies (`eval --samples 0`), no internal errors
 * (`--samples -1`, `--position -1`), no raw zod JSON (`finetune --rank 0`), no run in the current
 * folder (`train --out ""`) or among other files.
 */

const RUN = path.join(ROOT, 'resources/workspace/ocr-factorized');

let tmp: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-cli-ranges-'));
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function refused(args: string[], line: string, cwd?: string): Promise<void> {
  const r = await oocr(args, { cwd });
  expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(1);
  expect(r.stderr).toBe(`oocr: ${line}\n`);
  expect(r.stdout).toBe('');
}

describe('numeric flags are range-checked with a clear message', () => {
  it('eval --samples 0 / -1, --step -1', async () => {
    await refused(['eval', '--run', RUN, '--samples', '0'], '--samples: must be ≥ 1, got 0');
    await refused(['eval', '--run', RUN, '--samples', '-1'], '--samples: must be ≥ 1, got -1');
    await refused(['eval', '--run', RUN, '--step', '-1'], '--step: must be ≥ 0, got -1');
  });

  it('analyze --position -1 (from the analysis schema), writing no output', async () => {
    const out = path.join(tmp, 'lens.json');
    await refused(['analyze', 'logit-lens', '--run', RUN, '--position', '-1', '--out', out], '--position: must be ≥ 0');
    expect(fs.existsSync(out)).toBe(false);
  });

  it('finetune --rank 0 is one line, not zod JSON, and creates no run folder', async () => {
    const out = path.join(tmp, 'ft');
    await refused(['finetune', '--rank', '0', '--steps', '1', '--out', out], '--rank: must be ≥ 1, got 0');
    await refused(['finetune', '--method', 'steer', '--positions', '0,-1', '--steps', '1', '--out', out], '--positions: must be ≥ 0, got -1');
    expect(fs.existsSync(out)).toBe(false);
  });

  it('serve --port 70000', async () => {
    await refused(['serve', '--workspace', tmp, '--port', '70000'], '--port: must be ≤ 65535, got 70000');
  });
});

describe('train refuses an unusable --out before writing anything', () => {
  it('--out "" names the problem and leaves the current folder alone', async () => {
    const cwd = path.join(tmp, 'cwd');
    fs.mkdirSync(cwd);
    await refused(['train', '--steps', '2', '--out', ''], 'the run folder path is empty; name a folder to create (e.g. --out runs/my-run)', cwd);
    expect(fs.readdirSync(cwd)).toEqual([]);
  });

  it('--out a folder of other files', async () => {
    const dir = path.join(tmp, 'paper');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'main.tex'), 'x');
    await refused(['train', '--steps', '2', '--out', dir], `${dir} is not empty and holds no run (main.tex); choose a new or empty folder`);
    expect(fs.readdirSync(dir)).toEqual(['main.tex']);
  });
});
