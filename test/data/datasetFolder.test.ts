import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DATASET_FILES, readDataset, writeDatasetFolder, type DatasetContent } from '../../src/core/data/datasetFolder';
import { writeJsonlExamples } from '../../src/core/data/jsonl';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-dsfolder-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const content = (): DatasetContent => ({
  manifest: {
    format: 'oocr-dataset/1',
    kind: 'test',
    seed: 3,
    description: 'a test',
    chance: 0.5,
    counts: { train: 0, eval: 0, sideEffects: 0 },
    evalLabels: ['heldout_x'],
    sideEffectLabels: ['side_y'],
    extraField: 'kept',
  },
  train: [{ prompt: 'a', completion: ' b' }],
  eval: [{ prompt: 'c', completion: ' d', label: 'heldout_x' }],
  sideEffects: [{ prompt: 'e', completion: ' f', label: 'side_y' }],
});

describe('dataset folders', () => {
  it('writes and reads back a folder, with real counts and extra manifest fields', () => {
    const dir = path.join(tmp, 'ds');
    writeDatasetFolder(dir, content());
    expect(fs.readdirSync(dir).sort()).toEqual(Object.values(DATASET_FILES).sort());
    const ds = readDataset(dir);
    expect(ds.dir).toBe(dir);
    expect(ds.train).toEqual(content().train);
    expect(ds.eval).toEqual(content().eval);
    expect(ds.sideEffects).toEqual(content().sideEffects);
    expect(ds.manifest?.counts).toEqual({ train: 1, eval: 1, sideEffects: 1 });
    expect(ds.manifest?.extraField).toBe('kept');
  });

  it('refuses to overwrite a folder that holds train.jsonl', () => {
    const dir = path.join(tmp, 'ds2');
    writeDatasetFolder(dir, content());
    expect(() => writeDatasetFolder(dir, content())).toThrow(/already holds a dataset \(train\.jsonl\)/);
  });

  it('reads a folder with train.jsonl only, and defaults missing labels', () => {
    const dir = path.join(tmp, 'bare');
    writeJsonlExamples(path.join(dir, 'train.jsonl'), [{ prompt: 'a', completion: ' b' }]);
    const ds = readDataset(dir);
    expect(ds.manifest).toBeNull();
    expect(ds.eval).toEqual([]);
    expect(ds.sideEffects).toEqual([]);
    writeJsonlExamples(path.join(dir, 'eval.jsonl'), [{ prompt: 'a', completion: ' b' }, { prompt: 'c', completion: ' d', label: 'heldout_z' }]);
    writeJsonlExamples(path.join(dir, 'side_effects.jsonl'), [{ prompt: 'a', completion: ' b' }]);
    const ds2 = readDataset(dir);
    expect(ds2.eval.map((e) => e.label)).toEqual(['eval', 'heldout_z']);
    expect(ds2.sideEffects.map((e) => e.label)).toEqual(['side_effect']);
  });

  it('reads a single .jsonl file as train only, with optional eval / side-effect files', () => {
    const dir = path.join(tmp, 'single');
    const file = path.join(dir, 'mine.jsonl');
    writeJsonlExamples(file, [{ prompt: 'a', completion: ' b' }]);
    writeJsonlExamples(path.join(dir, 'eval.jsonl'), [{ prompt: 'c', completion: ' d' }]);
    const alone = readDataset(file);
    expect(alone).toEqual({ dir, files: { train: file, eval: null, sideEffects: null }, manifest: null, train: [{ prompt: 'a', completion: ' b' }], eval: [], sideEffects: [] });
    const withEval = readDataset(file, { eval: path.join(dir, 'eval.jsonl'), sideEffects: path.join(dir, 'eval.jsonl') });
    expect(withEval.eval).toEqual([{ prompt: 'c', completion: ' d', label: 'eval' }]);
    expect(withEval.sideEffects).toEqual([{ prompt: 'c', completion: ' d', label: 'side_effect' }]);
  });

  it('lets options override the folder files, and an explicit file must exist', () => {
    const dir = path.join(tmp, 'ds3');
    writeDatasetFolder(dir, content());
    const other = path.join(tmp, 'other-eval.jsonl');
    writeJsonlExamples(other, [{ prompt: 'x', completion: ' y', label: 'heldout_other' }]);
    expect(readDataset(dir, { eval: other }).eval).toEqual([{ prompt: 'x', completion: ' y', label: 'heldout_other' }]);
    const missing = path.join(tmp, 'missing.jsonl');
    expect(() => readDataset(dir, { sideEffects: missing })).toThrow(`${missing}: file not found`);
  });

  it('explains a folder without train.jsonl, a missing path and a bad manifest', () => {
    const empty = path.join(tmp, 'empty');
    fs.mkdirSync(empty);
    expect(() => readDataset(empty)).toThrow(/no train\.jsonl/);
    expect(() => readDataset(path.join(tmp, 'absent'))).toThrow(/absent: file not found/);
    const dir = path.join(tmp, 'badmanifest');
    writeDatasetFolder(dir, content());
    fs.writeFileSync(path.join(dir, 'dataset.json'), '{"format":"other"}');
    expect(() => readDataset(dir)).toThrow(/dataset\.json: format/);
  });
});
