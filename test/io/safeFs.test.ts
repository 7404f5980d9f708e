import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileReadError, openRegularFileSync, readRegularFile, readRegularFileSync, readRegularTextSync } from '../../src/core/io/safeFs';
import { openSafetensorsFileSync, readSafetensorsFile, readSafetensorsFileSync, readSafetensorsHeaderSync, writeSafetensorsFileSync, CheckpointError } from '../../src/core/io/safetensors';
import { readManifest, readMetrics, RunFileError } from '../../src/core/io/runStore';
import { readJsonFile } from '../../src/core/hf/loadHfModel';
import { weightFiles } from '../../src/core/hf/weightSource';
import { readJsonlExamples } from '../../src/core/data/jsonl';
import { fifoReleaser, linkToDevZero, mkfifo, POSIX, timed } from './unsafeFiles';

/**
 * Every whole-file reader of the workbench reads regular files only: a FIFO (which would block the
 * reading thread until a writer comes) and a symlink to /dev/zero (which would be read until memory
 * runs out) are refused by name, at once, and a file over the caller's size limit is refused before
 * it is read.
 */

let tmp: string;
let fifo: string;
let zero: string;
let releaser: { stop(): void };

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-safefs-'));
  fifo = path.join(tmp, 'pipe');
  zero = path.join(tmp, 'zero');
  if (POSIX) {
    mkfifo(fifo);
    linkToDevZero(zero);
    releaser = fifoReleaser([fifo]);
  }
});

afterAll(() => {
  releaser?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** `fn` fails within a second with `type`, its message naming `file` and matching `problem`. */
async function refusedFast(fn: () => unknown, file: string, problem: RegExp, type: new (...a: never[]) => Error = Error): Promise<void> {
  const r = await timed(fn);
  expect(r.error, `expected ${file} to be refused`).toBeInstanceOf(type);
  expect(r.error?.message).toContain(file);
  expect(r.error?.message).toMatch(problem);
  expect(r.ms).toBeLessThan(1000);
}

describe.skipIf(!POSIX)('safeFs', () => {
  it('reads a regular file, and a symlink to one, whole', () => {
    const file = path.join(tmp, 'a.txt');
    fs.writeFileSync(file, 'hello');
    fs.symlinkSync(file, path.join(tmp, 'a-link'));
    expect(readRegularTextSync(file, 100)).toBe('hello');
    expect(readRegularFileSync(path.join(tmp, 'a-link'), 100).toString()).toBe('hello');
  });

  it('refuses a FIFO by name without blocking, sync and async', async () => {
    await refusedFast(() => readRegularFileSync(fifo, 1000), fifo, /is a FIFO, not a regular file/, FileReadError);
    await refusedFast(() => readRegularFile(fifo, 1000), fifo, /is a FIFO, not a regular file/, FileReadError);
    await refusedFast(() => openRegularFileSync(fifo), fifo, /is a FIFO, not a regular file/, FileReadError);
  });

  it('refuses a symlink to /dev/zero as a character device, reading nothing', async () => {
    await refusedFast(() => readRegularFileSync(zero, 1 << 30), zero, /is a character device, not a regular file/, FileReadError);
    await refusedFast(() => readRegularFile(zero, 1 << 30), zero, /is a character device, not a regular file/, FileReadError);
  });

  it('refuses a folder, a missing file and a file over the limit, naming each', async () => {
    await refusedFast(() => readRegularFileSync(tmp, 1000), tmp, /is a directory, not a regular file/, FileReadError);
    const missing = path.join(tmp, 'nope');
    await refusedFast(() => readRegularFileSync(missing, 1000), missing, /file not found/, FileReadError);
    const big = path.join(tmp, 'big.bin');
    fs.writeFileSync(big, Buffer.alloc(4096));
    await refusedFast(() => readRegularFileSync(big, 1024), big, /is 4\.0 KiB, more than the 1\.0 KiB this file may be/, FileReadError);
    expect(readRegularFileSync(big, 4096).byteLength).toBe(4096);
  });
});

describe.skipIf(!POSIX)('the readers of runs, checkpoints, model folders and datasets refuse FIFOs and devices', () => {
  it('safetensors: whole-file, header-only and per-tensor reads', async () => {
    for (const [file, problem] of [
      [fifo, /is a FIFO, not a regular file/],
      [zero, /is a character device, not a regular file/],
    ] as const) {
      await refusedFast(() => readSafetensorsFileSync(file), file, problem, CheckpointError);
      await refusedFast(() => readSafetensorsFile(file), file, problem, CheckpointError);
      await refusedFast(() => readSafetensorsHeaderSync(file), file, problem, CheckpointError);
      await refusedFast(() => openSafetensorsFileSync(file), file, problem, CheckpointError);
    }
  });

  it('safetensors: a tensor read after the file was swapped for a FIFO is refused too', async () => {
    const file = path.join(tmp, 'w.safetensors');
    writeSafetensorsFileSync(file, { a: { shape: [2], data: new Float32Array([1, 2]) } });
    const index = openSafetensorsFileSync(file);
    fs.rmSync(file);
    mkfifo(file);
    const releaseSwapped = fifoReleaser([file]);
    try {
      await refusedFast(() => index.read('a'), file, /is a FIFO, not a regular file/, CheckpointError);
    } finally {
      releaseSwapped.stop();
    }
  });

  it('a header larger than the file or than 100 MB is refused before it is allocated', async () => {
    const file = path.join(tmp, 'huge-header.safetensors');
    const bytes = Buffer.alloc(64);
    bytes.writeBigUInt64LE(BigInt(40 * 1024 ** 3), 0);
    fs.writeFileSync(file, bytes);
    await refusedFast(() => readSafetensorsHeaderSync(file), file, /header says \d+ bytes of JSON but the file has only 56 bytes/, CheckpointError);
  });

  it('run.json and metrics.jsonl', async () => {
    const run = path.join(tmp, 'run');
    fs.mkdirSync(run);
    mkfifo(path.join(run, 'run.json'));
    mkfifo(path.join(run, 'metrics.jsonl'));
    const releaseRun = fifoReleaser([path.join(run, 'run.json'), path.join(run, 'metrics.jsonl')]);
    try {
      await refusedFast(() => readManifest(run), path.join(run, 'run.json'), /is a FIFO, not a regular file/, RunFileError);
      await refusedFast(() => readMetrics(run), path.join(run, 'metrics.jsonl'), /is a FIFO, not a regular file/, RunFileError);
    } finally {
      releaseRun.stop();
    }
    const zeroRun = path.join(tmp, 'zero-run');
    fs.mkdirSync(zeroRun);
    linkToDevZero(path.join(zeroRun, 'run.json'));
    linkToDevZero(path.join(zeroRun, 'metrics.jsonl'));
    await refusedFast(() => readManifest(zeroRun), path.join(zeroRun, 'run.json'), /is a character device/, RunFileError);
    await refusedFast(() => readMetrics(zeroRun), path.join(zeroRun, 'metrics.jsonl'), /is a character device/, RunFileError);
  });

  it("a model folder's config.json and model.safetensors.index.json", async () => {
    const model = path.join(tmp, 'model');
    fs.mkdirSync(model);
    mkfifo(path.join(model, 'config.json'));
    linkToDevZero(path.join(model, 'model.safetensors.index.json'));
    const releaseModel = fifoReleaser([path.join(model, 'config.json')]);
    try {
      await refusedFast(() => readJsonFile(path.join(model, 'config.json')), path.join(model, 'config.json'), /is a FIFO, not a regular file/, CheckpointError);
    } finally {
      releaseModel.stop();
    }
    await refusedFast(() => weightFiles(model), path.join(model, 'model.safetensors.index.json'), /is a character device/, CheckpointError);
  });

  it('a JSONL dataset', async () => {
    await refusedFast(() => readJsonlExamples(fifo), fifo, /is a FIFO, not a regular file/);
    await refusedFast(() => readJsonlExamples(zero), zero, /is a character device, not a regular file/);
  });
});
