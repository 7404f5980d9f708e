import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tempPathFor } from '../../src/core/io/atomicWrite';
import { isConsistentSnapshot, listRunFiles, readRunSnapshot, writeRunSnapshot, type RunSnapshot } from '../../src/core/sweeps/runSnapshot';

/** Run folders as they travel through the queue: what is read, what counts as resumable, how it lands. */

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-snap-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const runJson = (status: string, steps: number[]): Buffer => Buffer.from(JSON.stringify({ status, checkpoints: steps.map((step) => ({ step })) }));
const ck = (step: number, optim = false): string => `checkpoints/step-${String(step).padStart(6, '0')}${optim ? '.optim' : ''}.safetensors`;

describe('run snapshots', () => {
  it('reads every file but the lock and temp files, and drops a half-written metrics line', () => {
    const dir = path.join(tmp, 'a');
    fs.mkdirSync(path.join(dir, 'checkpoints'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'run.json'), '{}');
    fs.writeFileSync(path.join(dir, '.lock'), '{}');
    fs.writeFileSync(path.join(dir, 'metrics.jsonl'), '{"step":1}\n{"step":2}\n{"st');
    fs.writeFileSync(path.join(dir, ck(10)), 'w');
    fs.writeFileSync(tempPathFor(path.join(dir, ck(20))), 'partial');
    expect(listRunFiles(dir)).toEqual(['checkpoints/step-000010.safetensors', 'metrics.jsonl', 'run.json']);
    const snap = readRunSnapshot(dir);
    expect(snap.get('metrics.jsonl')?.toString()).toBe('{"step":1}\n{"step":2}\n');
  });

  it('is resumable only when its newest checkpoint with optimizer state is one run.json lists', () => {
    const s = (entries: [string, Buffer][]): RunSnapshot => new Map(entries);
    const w = Buffer.from('w');
    expect(isConsistentSnapshot(s([]))).toBe(false);
    expect(isConsistentSnapshot(s([['run.json', runJson('running', [])]]))).toBe(true);
    expect(isConsistentSnapshot(s([['run.json', runJson('running', [20])], [ck(20), w], [ck(20, true), w]]))).toBe(true);
    // Saved step 40, run.json not yet updated: skip this one.
    expect(isConsistentSnapshot(s([['run.json', runJson('running', [20])], [ck(20), w], [ck(40), w], [ck(40, true), w]]))).toBe(false);
    // A checkpoint without optimizer state cannot be resumed bit for bit.
    expect(isConsistentSnapshot(s([['run.json', runJson('running', [20])], [ck(20), w]]))).toBe(false);
    expect(isConsistentSnapshot(s([['run.json', runJson('completed', [20])], [ck(20), w]]))).toBe(true);
    expect(isConsistentSnapshot(s([['run.json', Buffer.from('{trunc')]]))).toBe(false);
  });

  it('replaces a folder as a whole and refuses paths that climb out of it', () => {
    const dir = path.join(tmp, 'b');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'stale.txt'), 'old');
    writeRunSnapshot(dir, new Map([['run.json', Buffer.from('{}')], [ck(10), Buffer.from('w')]]));
    expect(listRunFiles(dir)).toEqual(['checkpoints/step-000010.safetensors', 'run.json']);
    for (const bad of ['../escape', '/abs', 'a//b', 'a/./b', 'a\\b', '']) {
      expect(() => writeRunSnapshot(dir, new Map([[bad, Buffer.from('x')]]))).toThrow(/not a plain relative path/);
    }
    expect(fs.existsSync(path.join(tmp, 'escape'))).toBe(false);
    expect(listRunFiles(dir)).toEqual(['checkpoints/step-000010.safetensors', 'run.json']);
    expect(fs.readdirSync(tmp).filter((f) => f.includes('incoming'))).toEqual([]);
  });
});
