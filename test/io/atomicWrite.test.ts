import { describe, it, expect, vi, beforeEach, afterEach } from 'vitest';
import fs from 'node:fs';
import type * as FsPromises from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic, writeFileAtomicSync, isTempFileName } from '../../src/core/io/atomicWrite';

// Lets a test make the final rename fail, the one step an atomic write must survive failing.
const failures = vi.hoisted(() => ({ rename: false }));

function simulatedRenameError(): NodeJS.ErrnoException {
  return Object.assign(new Error('simulated rename failure'), { code: 'EIO' });
}

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof FsPromises>();
  const rename: typeof actual.rename = async (from, to) => {
    if (failures.rename) throw simulatedRenameError();
    return actual.rename(from, to);
  };
  return { ...actual, rename, default: { ...actual, rename } };
});

vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof fs>();
  const renameSync: typeof actual.renameSync = (from, to) => {
    if (failures.rename) throw simulatedRenameError();
    actual.renameSync(from, to);
  };
  return { ...actual, renameSync, default: { ...actual, renameSync } };
});

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-atomic-'));
  failures.rename = false;
});
afterEach(() => {
  failures.rename = false;
  fs.chmodSync(dir, 0o755);
  fs.rmSync(dir, { recursive: true, force: true });
});

function leftovers(d: string): string[] {
  return fs.readdirSync(d).filter(isTempFileName);
}

const isRoot = process.getuid?.() === 0;

describe('writeFileAtomic', () => {
  it('writes strings and bytes, creating parent folders', async () => {
    const textFile = path.join(dir, 'a', 'b', 'note.txt');
    await writeFileAtomic(textFile, 'héllo\n');
    expect(fs.readFileSync(textFile, 'utf8')).toBe('héllo\n');

    const binFile = path.join(dir, 'blob.bin');
    await writeFileAtomic(binFile, new Uint8Array([0, 1, 2, 255]));
    expect([...fs.readFileSync(binFile)]).toEqual([0, 1, 2, 255]);
    expect(leftovers(dir)).toEqual([]);
    expect(leftovers(path.dirname(textFile))).toEqual([]);
  });

  it('replaces an existing file', async () => {
    const file = path.join(dir, 'f.json');
    fs.writeFileSync(file, 'old');
    await writeFileAtomic(file, 'new');
    expect(fs.readFileSync(file, 'utf8')).toBe('new');
    expect(fs.readdirSync(dir)).toEqual(['f.json']);
  });

  it('keeps the old content and removes the temp file when the rename fails', async () => {
    const file = path.join(dir, 'f.json');
    fs.writeFileSync(file, 'old content');
    failures.rename = true;
    await expect(writeFileAtomic(file, 'new content that must not appear')).rejects.toThrow('simulated');
    expect(fs.readFileSync(file, 'utf8')).toBe('old content');
    expect(fs.readdirSync(dir)).toEqual(['f.json']);
  });

  it('fails cleanly when the target is a non-empty directory', async () => {
    const target = path.join(dir, 'taken');
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'inner'), 'keep');
    await expect(writeFileAtomic(target, 'x')).rejects.toThrow();
    expect(fs.readFileSync(path.join(target, 'inner'), 'utf8')).toBe('keep');
    expect(leftovers(dir)).toEqual([]);
  });

  it.skipIf(isRoot)('fails without touching the old file when the folder is read-only', async () => {
    const file = path.join(dir, 'f.json');
    fs.writeFileSync(file, 'old');
    fs.chmodSync(dir, 0o555);
    await expect(writeFileAtomic(file, 'new')).rejects.toThrow();
    fs.chmodSync(dir, 0o755);
    expect(fs.readFileSync(file, 'utf8')).toBe('old');
    expect(leftovers(dir)).toEqual([]);
  });

  it('leaves one complete version after concurrent writers', async () => {
    const file = path.join(dir, 'race.txt');
    const versions = Array.from({ length: 20 }, (_, i) => `version ${i} `.repeat(5000));
    await Promise.all(versions.map((v) => writeFileAtomic(file, v)));
    expect(versions).toContain(fs.readFileSync(file, 'utf8'));
    expect(leftovers(dir)).toEqual([]);
  });
});

describe('writeFileAtomicSync', () => {
  it('writes, replaces and creates parent folders', () => {
    const file = path.join(dir, 'x', 'y.txt');
    writeFileAtomicSync(file, 'one');
    writeFileAtomicSync(file, new TextEncoder().encode('two'));
    expect(fs.readFileSync(file, 'utf8')).toBe('two');
    expect(fs.readdirSync(path.dirname(file))).toEqual(['y.txt']);
  });

  it('writes large buffers completely', () => {
    const file = path.join(dir, 'big.bin');
    const data = new Uint8Array(5_000_000).map((_, i) => i % 251);
    writeFileAtomicSync(file, data);
    expect(Buffer.compare(fs.readFileSync(file), Buffer.from(data))).toBe(0);
  });

  it('keeps the old content and removes the temp file when the rename fails', () => {
    const file = path.join(dir, 'f.json');
    fs.writeFileSync(file, 'old content');
    failures.rename = true;
    expect(() => writeFileAtomicSync(file, 'new')).toThrow('simulated');
    expect(fs.readFileSync(file, 'utf8')).toBe('old content');
    expect(fs.readdirSync(dir)).toEqual(['f.json']);
  });
});
