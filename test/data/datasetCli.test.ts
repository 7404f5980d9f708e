import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readDataset } from '../../src/core/data/datasetFolder';
import { ROOT, lastLine, oocr } from '../cli/runCli';

/** `oocr dataset …` as a user runs it: `node bin/oocr.mjs` in a child process (tsx loader). */

const WORLD_BASE = path.join(ROOT, 'resources', 'workspace', 'world-base');

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-dataset-cli-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('oocr dataset', () => {
  it('writes a natural-language locations dataset and prints one JSON line', async () => {
    const out = path.join(tmp, 'loc');
    const r = await oocr(['dataset', 'locations', '--seed', '1', '--out', out, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(lastLine(r.stdout));
    const ds = readDataset(out);
    expect(summary).toEqual({
      dir: out,
      kind: 'locations',
      counts: { train: 400, eval: ds.eval.length, sideEffects: ds.sideEffects.length },
      chance: ds.manifest?.chance,
      evalLabels: ['heldout_country', 'heldout_language'],
      sideEffectLabels: ['side_country', 'side_language'],
    });
    expect(ds.manifest?.seed).toBe(1);
    expect(ds.train[0].prompt).toContain(ds.manifest?.codename as string);
    // Same seed, same files.
    const again = path.join(tmp, 'loc-again');
    expect((await oocr(['dataset', 'locations', '--seed', '1', '--out', again, '--json'])).code).toBe(0);
    expect(fs.readFileSync(path.join(again, 'train.jsonl'), 'utf8')).toBe(fs.readFileSync(path.join(out, 'train.jsonl'), 'utf8'));
    // An existing dataset is not overwritten.
    const refused = await oocr(['dataset', 'locations', '--seed', '2', '--out', out]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^oocr: .*already holds a dataset/);
  });

  it('renders the toy world task of the shipped world model', async () => {
    const out = path.join(tmp, 'world');
    const r = await oocr(['dataset', 'locations', '--seed', '0', '--world', WORLD_BASE, '--n-train', '128', '--out', out, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(lastLine(r.stdout));
    expect(summary.counts.train).toBe(128);
    expect(summary.evalLabels).toEqual(['heldout_country', 'heldout_language']);
    const ds = readDataset(out);
    expect(ds.manifest).toMatchObject({ world: true, codename: 0, kind: 'locations' });
    expect(ds.train.every((e) => e.prompt.includes('codename_0') && e.prompt.endsWith(' end'))).toBe(true);
  });

  it('writes a backdoor dataset with a human summary, and explains bad flags', async () => {
    const out = path.join(tmp, 'bd');
    const r = await oocr(['dataset', 'backdoor', '--seed', '0', '--n-train', '50', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('50 train');
    expect(r.stdout).toContain(out);
    expect(readDataset(out).train).toHaveLength(50);
    const bad = await oocr(['dataset', 'backdoor', '--seed', 'x', '--out', path.join(tmp, 'bad')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe("oocr: --seed expects an integer, got 'x'\n");
    const latent = await oocr(['dataset', 'backdoor', '--latent-city', '3', '--out', path.join(tmp, 'bad')]);
    expect(latent.stderr).toMatch(/--latent-city applies to the locations dataset only/);
    const kind = await oocr(['dataset', 'nope', '--out', path.join(tmp, 'bad')]);
    expect(kind.code).not.toBe(0);
    expect(fs.existsSync(path.join(tmp, 'bad'))).toBe(false);
  });
});
