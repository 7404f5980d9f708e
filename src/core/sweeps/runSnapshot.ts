import fs from 'node:fs';
import path from 'node:path';
import { isTempFileName, writeFileAtomicSync } from '../io/atomicWrite';
import { LOCK_FILE } from '../io/runLock';
import { RUN_FILE } from '../io/runStore';

/**
 * A run folder as relative path → bytes, so a run can travel through a queue instead of a shared
 * filesystem: a worker uploads it as it trains, another restores it to continue, the coordinator
 * writes the finished one into the sweep folder.
 */
export type RunSnapshot = Map<string, Buffer>;

const CHECKPOINT = /^checkpoints\/step-(\d+)\.safetensors$/;
const OPTIM = /^checkpoints\/step-(\d+)\.optim\.safetensors$/;

/** Every regular file of a run folder (recursively), but its lock and half-written temp files. */
export function listRunFiles(runDir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(path.join(runDir, rel), { withFileTypes: true });
    } catch {
      return; // removed while we looked (an old optimizer state): not part of this snapshot
    }
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else if (e.isFile() && e.name !== LOCK_FILE && !isTempFileName(e.name)) out.push(r);
    }
  };
  walk('');
  return out.sort();
}

/**
 * Reads a run folder that may be being written by a live training job. Weights are read before
 * run.json and metrics.jsonl, which therefore are at least as new as the newest checkpoint read; a
 * half-appended last metrics line is dropped. Files removed while reading are left out.
 */
export function readRunSnapshot(runDir: string): RunSnapshot {
  const files = listRunFiles(runDir);
  const late = new Set([RUN_FILE, 'metrics.jsonl']);
  const order = [...files.filter((f) => !late.has(f)), ...files.filter((f) => late.has(f))];
  const snap: RunSnapshot = new Map();
  for (const rel of order) {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(path.join(runDir, rel));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    if (rel === 'metrics.jsonl') {
      const end = bytes.lastIndexOf(0x0a);
      bytes = bytes.subarray(0, end + 1);
    }
    snap.set(rel, bytes);
  }
  return snap;
}

/**
 * Whether a snapshot can be resumed from (or is finished): run.json is there and either the run has
 * ended, or it has no checkpoint yet, or its newest checkpoint with optimizer state is one run.json
 * lists. A snapshot taken between a checkpoint's save and run.json's update fails this and is skipped.
 */
export function isConsistentSnapshot(snap: RunSnapshot): boolean {
  const runJson = snap.get(RUN_FILE);
  if (!runJson) return false;
  let manifest: { status?: string; checkpoints?: { step: number }[] };
  try {
    manifest = JSON.parse(runJson.toString('utf8')) as typeof manifest;
  } catch {
    return false;
  }
  if (manifest.status === 'completed') return true;
  const ckpts = new Set<number>();
  const optims = new Set<number>();
  for (const rel of snap.keys()) {
    const c = CHECKPOINT.exec(rel);
    if (c) ckpts.add(Number(c[1]));
    const o = OPTIM.exec(rel);
    if (o) optims.add(Number(o[1]));
  }
  if (ckpts.size === 0) return true;
  const paired = [...ckpts].filter((s) => optims.has(s));
  if (paired.length === 0) return false;
  const latest = Math.max(...paired);
  return (manifest.checkpoints ?? []).some((c) => c.step === latest);
}

function assertSafeRelative(rel: string): void {
  const parts = rel.split('/');
  if (rel === '' || path.isAbsolute(rel) || rel.includes('\\') || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new Error(`refusing a run file named ${JSON.stringify(rel)} from the queue: not a plain relative path`);
  }
}

/**
 * Makes `runDir` hold exactly the snapshot: files written atomically into a fresh sibling folder,
 * which then replaces the old one, so a reader sees the old run or the new one, never a mixture.
 */
export function writeRunSnapshot(runDir: string, snap: RunSnapshot): void {
  for (const rel of snap.keys()) assertSafeRelative(rel);
  const parent = path.dirname(runDir);
  fs.mkdirSync(parent, { recursive: true });
  const incoming = fs.mkdtempSync(path.join(parent, `.${path.basename(runDir)}.incoming-`));
  try {
    for (const [rel, bytes] of snap) {
      const file = path.join(incoming, ...rel.split('/'));
      fs.mkdirSync(path.dirname(file), { recursive: true });
      writeFileAtomicSync(file, bytes);
    }
    const old = fs.existsSync(runDir) ? `${incoming}.old` : null;
    if (old) fs.renameSync(runDir, old);
    fs.renameSync(incoming, runDir);
    if (old) fs.rmSync(old, { recursive: true, force: true });
  } catch (err) {
    fs.rmSync(incoming, { recursive: true, force: true });
    throw err;
  }
}
