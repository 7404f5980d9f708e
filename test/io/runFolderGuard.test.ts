import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BackendInfo } from '../../src/shared/backend';
import { initBackend } from '../../src/core/backend/initBackend';
import { ApiArgumentError } from '../../src/shared/errors';
import { assertInsideWorkspace, assertNewRunFolder, createRunFolder, RunFolderError } from '../../src/core/io/runFolderGuard';
import { presetConfig } from '../../src/core/presets';
import { trainRun } from '../../src/core/train/trainRun';
import { createWorkbench, type Workbench } from '../../src/core/workbench';
import { API_ARGS } from '../../src/shared/apiSchemas';

/**
 * Paths that would leave the workspace or mix a run into other files: an empty --out (the current
 * folder), a non-empty folder that is not a run, a folder inside another run, symlinks that lead out
 * of the workspace, a folder that cannot be created. Each is refused with a message naming it, and
 * nothing is written.
 */

let tmp: string;
let ws: string;
let outside: string;
let backend: BackendInfo;
let wb: Workbench;

/** Every path under `dir`, so a test can check that a refusal wrote nothing. */
function tree(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).sort();
}

beforeAll(async () => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-guard-')));
  ws = path.join(tmp, 'ws');
  outside = path.join(tmp, 'outside');
  fs.mkdirSync(ws);
  fs.mkdirSync(outside);
  fs.cpSync(path.resolve(__dirname, '../../resources/workspace/ocr-factorized'), path.join(ws, 'run'), { recursive: true });
  fs.mkdirSync(path.join(outside, 'empty'));
  fs.cpSync(path.resolve(__dirname, '../../resources/workspace/ocr-factorized'), path.join(outside, 'foreign-run'), { recursive: true });
  fs.symlinkSync(path.join(outside, 'empty'), path.join(ws, 'escape'));
  fs.symlinkSync(path.join(outside, 'foreign-run'), path.join(ws, 'linked-out'));
  fs.symlinkSync(path.join(ws, 'run'), path.join(ws, 'linked-in'));
  backend = await initBackend();
  wb = createWorkbench({ workspaceDir: ws });
});

afterAll(() => {
  wb?.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function refusal(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a refusal');
}

describe('assertNewRunFolder', () => {
  it('accepts a new folder and an existing empty one', () => {
    expect(assertNewRunFolder(path.join(tmp, 'fresh', 'run'))).toBe(path.join(tmp, 'fresh', 'run'));
    fs.mkdirSync(path.join(tmp, 'empty-dir'));
    expect(assertNewRunFolder(path.join(tmp, 'empty-dir'), { workspace: tmp })).toBe(path.join(tmp, 'empty-dir'));
    expect(fs.existsSync(path.join(tmp, 'fresh'))).toBe(false);
  });

  it('refuses an empty path (which would be the current folder)', () => {
    for (const p of ['', '   ']) {
      const e = refusal(() => assertNewRunFolder(p));
      expect(e).toBeInstanceOf(RunFolderError);
      expect(e.message).toMatch(/the run folder path is empty/);
    }
  });

  it('refuses a non-empty folder that is not a run, a file, and a run', () => {
    const notes = path.join(tmp, 'notes');
    fs.mkdirSync(notes);
    fs.writeFileSync(path.join(notes, 'a.txt'), 'x');
    expect(refusal(() => assertNewRunFolder(notes)).message).toBe(`${notes} is not empty and holds no run (a.txt); choose a new or empty folder`);
    expect(refusal(() => assertNewRunFolder(path.join(notes, 'a.txt'))).message).toMatch(/exists and is not a folder/);
    expect(refusal(() => assertNewRunFolder(path.join(ws, 'run'))).message).toMatch(/already holds a run \(run\.json exists\)/);
  });

  it('refuses a folder inside another run (run/checkpoints/x, run/sub)', () => {
    for (const p of [path.join(ws, 'run', 'sub'), path.join(ws, 'run', 'checkpoints', 'x')]) {
      expect(refusal(() => assertNewRunFolder(p, { workspace: ws })).message).toBe(`${p} lies inside the run folder ${path.join(ws, 'run')}; a run cannot hold another run`);
      expect(refusal(() => assertNewRunFolder(p)).message).toMatch(/lies inside the run folder/);
    }
  });

  it('refuses, given a workspace, a path whose real path leaves it (symlinks of any ancestor)', () => {
    for (const p of [path.join(ws, 'escape'), path.join(ws, 'escape', 'deeper', 'run'), path.join(ws, '..', 'outside', 'x')]) {
      const e = refusal(() => assertNewRunFolder(p, { workspace: ws }));
      expect(e.message).toMatch(/leads outside the workspace/);
      expect(e.message).toContain(outside);
    }
    expect(refusal(() => assertNewRunFolder(ws, { workspace: ws })).message).toMatch(/is the workspace itself/);
    expect(tree(path.join(outside, 'empty'))).toEqual([]);
  });

  it('refuses a path through a dangling symlink (it would create the target wherever it points)', () => {
    fs.symlinkSync(path.join(outside, 'not-yet'), path.join(tmp, 'dangling'));
    expect(refusal(() => assertNewRunFolder(path.join(tmp, 'dangling', 'run'))).message).toMatch(/is a symbolic link to a missing target/);
    expect(fs.existsSync(path.join(outside, 'not-yet'))).toBe(false);
  });

  it('refuses a folder that cannot be created, before writing anything', () => {
    // Not writable by this user; as root (who may write anywhere) a kernel file system that holds no files.
    const root = process.getuid?.() === 0;
    if (!root) {
      const ro = path.join(tmp, 'read-only');
      fs.mkdirSync(ro, { mode: 0o555 });
      const e = refusal(() => assertNewRunFolder(path.join(ro, 'run')));
      expect(e.message).toBe(`cannot create the run folder ${path.join(ro, 'run')} (permission denied: ${ro} is not writable)`);
      expect(tree(ro)).toEqual([]);
    } else if (process.platform === 'linux' && fs.existsSync('/proc/self')) {
      const p = `/proc/oocr-guard-${process.pid}/run`;
      expect(refusal(() => assertNewRunFolder(p)).message).toBe(`cannot create the run folder ${p} (read-only: /proc is on the proc virtual file system, which cannot hold files)`);
    }
  });
});

describe('createRunFolder', () => {
  it('creates the folder and its subfolders, and is idempotent', () => {
    const dir = path.join(tmp, 'made', 'run');
    createRunFolder(dir, 'checkpoints');
    createRunFolder(dir, 'checkpoints');
    expect(fs.statSync(path.join(dir, 'checkpoints')).isDirectory()).toBe(true);
  });

  it('says why a folder cannot be made, naming it', () => {
    fs.writeFileSync(path.join(tmp, 'a-file'), 'x');
    const dir = path.join(tmp, 'a-file', 'run');
    expect(refusal(() => createRunFolder(dir, 'checkpoints')).message).toBe(`cannot create the run folder ${dir} (a parent of it is a file, not a folder)`);
    if (process.platform === 'linux' && fs.existsSync('/proc/self')) {
      // A recursive mkdir spins forever here; one level at a time it fails at once.
      const p = `/proc/oocr-guard-${process.pid}/run`;
      expect(refusal(() => createRunFolder(p, 'checkpoints')).message).toMatch(new RegExp(`^cannot create the run folder ${p} \\(`));
    }
  });
});

describe('training refuses such folders and writes nothing', () => {
  const config = () => ({ ...presetConfig('ocr-factorized'), steps: 3, logEvery: 3, checkpointEvery: 0, evalSamples: 16 });
  const train = (outDir: string) => trainRun({ config: config(), preset: 'ocr-factorized', outDir, backend, finalEvalSamples: 16 });

  it('--out "" (not the current folder)', async () => {
    const cwd = process.cwd();
    const here = path.join(tmp, 'cwd');
    fs.mkdirSync(here);
    process.chdir(here);
    try {
      await expect(train('')).rejects.toThrow(/the run folder path is empty/);
    } finally {
      process.chdir(cwd);
    }
    expect(tree(here)).toEqual([]);
  });

  it('a non-empty folder that is not a run', async () => {
    const dir = path.join(tmp, 'mixed');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'paper.tex'), 'x');
    await expect(train(dir)).rejects.toThrow(/is not empty and holds no run \(paper\.tex\)/);
    expect(tree(dir)).toEqual(['paper.tex']);
  });

  it('a folder inside another run', async () => {
    const before = tree(path.join(ws, 'run'));
    await expect(train(path.join(ws, 'run', 'checkpoints', 'nested'))).rejects.toThrow(/lies inside the run folder/);
    expect(tree(path.join(ws, 'run'))).toEqual(before);
  });
});

describe('the API: run names are one folder name, run ids resolve inside the workspace', () => {
  it('the schemas refuse names and ids that could bend a path', () => {
    for (const name of ['x/checkpoints', '../x', '..', '.', '.hidden', 'a\\b', 'a\0b', '/abs', 'a/', '']) {
      expect(API_ARGS.startTraining.safeParse({ preset: 'ocr-factorized', name }).success, name).toBe(false);
      expect(API_ARGS.startStudy.safeParse({ name, kind: 'locations', seed: 0 }).success, name).toBe(false);
    }
    for (const id of ['../etc', 'a/../../b', '.trash/old', 'group/.hidden', 'a\\b', 'a/b/c', '..']) {
      expect(API_ARGS.getRun.safeParse({ id }).success, id).toBe(false);
    }
    expect(API_ARGS.startTraining.safeParse({ preset: 'ocr-factorized', name: 'my-run_2.b' }).success).toBe(true);
    expect(API_ARGS.getRun.safeParse({ id: 'lora-vs-steering/lora' }).success).toBe(true);
  });

  it('startTraining refuses a name that is a symlink out of the workspace, writing nothing there', async () => {
    await expect(wb.call('startTraining', { preset: 'ocr-factorized', name: 'escape', overrides: { steps: 2 } })).rejects.toThrow(ApiArgumentError);
    await expect(wb.call('startTraining', { preset: 'ocr-factorized', name: 'escape', overrides: { steps: 2 } })).rejects.toThrow(/leads outside the workspace/);
    await expect(wb.call('startTraining', { preset: 'ocr-factorized', name: 'x/checkpoints' })).rejects.toThrow(/invalid arguments/);
    await expect(wb.call('startStudy', { name: 'escape', kind: 'locations', seed: 0 })).rejects.toThrow(/leads outside the workspace/);
    expect(tree(path.join(outside, 'empty'))).toEqual([]);
  });

  it('ids resolve through symlinks only inside the workspace; a folder inside a run is no run', async () => {
    await expect(wb.call('getRun', { id: 'linked-out' })).rejects.toThrow(/run id 'linked-out' leads outside the workspace/);
    await expect(wb.call('analyze', { kind: 'attention', id: 'linked-out' })).rejects.toThrow(ApiArgumentError);
    expect(((await wb.call('getRun', { id: 'linked-in' })) as { id: string }).id).toBe('linked-in');
    fs.mkdirSync(path.join(ws, 'run', 'inner'));
    fs.copyFileSync(path.join(ws, 'run', 'run.json'), path.join(ws, 'run', 'inner', 'run.json'));
    await expect(wb.call('getRun', { id: 'run/inner' })).rejects.toThrow(/lies inside the run 'run', not a run of the workspace/);
    expect(assertInsideWorkspace(path.join(ws, 'linked-in'), ws)).toBe(path.join(ws, 'run'));
  });
});
