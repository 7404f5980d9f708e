import * as tf from '@tensorflow/tfjs';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelLoadingEvent, WorkbenchEvent } from '../../src/shared/api';
import { initBackend } from '../../src/core/backend/initBackend';
import { loadHfLiveModel, loadHfModel, type LoadProgress } from '../../src/core/hf/loadHfModel';
import { INDEX_FILE, SINGLE_FILE } from '../../src/core/hf/weightSource';
import { openSafetensorsFileSync, writeSafetensorsFileSync, type NamedTensor } from '../../src/core/io/safetensors';
import { MODEL_PROGRESS_MIN_BYTES, modelProgressMinBytes } from '../../src/core/jobs/jobProtocol';
import { createWorkbench } from '../../src/core/workbench';
import { writeTinyGpt2 } from './fixtures/tinyGpt2';

/**
 * Progress while a model folder loads: the loader's onProgress (bytes as stored, across shards), the
 * analysis worker's threshold, the workbench's `model-loading` events and `oocr analyze`'s stderr.
 */

const root = path.resolve(__dirname, '../..');
let tmp = '';
let ws = '';

/** The bytes every tensor of a safetensors file spans, from its raw header JSON (not the loader's code). */
function headerBytes(file: string): number {
  const buf = fs.readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { data_offsets?: [number, number] }>;
  return Object.entries(header)
    .filter(([k]) => k !== '__metadata__')
    .reduce((s, [, v]) => s + (v.data_offsets ? v.data_offsets[1] - v.data_offsets[0] : 0), 0);
}

/** The tiny GPT-2 of `from`, split into two shards with an index. */
function shard(from: string, to: string): void {
  fs.cpSync(from, to, { recursive: true });
  fs.rmSync(path.join(to, SINGLE_FILE));
  const st = openSafetensorsFileSync(path.join(from, SINGLE_FILE));
  const names = [...st.entries.keys()];
  const parts = [names.slice(0, names.length / 2), names.slice(names.length / 2)];
  const weightMap: Record<string, string> = {};
  parts.forEach((part, i) => {
    const file = `model-0000${i + 1}-of-00002.safetensors`;
    const tensors: Record<string, NamedTensor> = {};
    for (const n of part) {
      tensors[n] = { shape: st.entries.get(n)!.shape, data: st.read(n) };
      weightMap[n] = file;
    }
    writeSafetensorsFileSync(path.join(to, file), tensors, { format: 'pt' });
  });
  fs.writeFileSync(path.join(to, INDEX_FILE), JSON.stringify({ metadata: {}, weight_map: weightMap }));
}

/** The tiny GPT-2 of `from` without its last layer's MLP output weight (the load fails part way). */
function dropTensor(from: string, to: string, name: string): void {
  fs.cpSync(from, to, { recursive: true });
  const st = openSafetensorsFileSync(path.join(from, SINGLE_FILE));
  const tensors: Record<string, NamedTensor> = {};
  for (const [n, e] of st.entries) if (n !== name) tensors[n] = { shape: e.shape, data: st.read(n) };
  writeSafetensorsFileSync(path.join(to, SINGLE_FILE), tensors, { format: 'pt' });
}

function checkSequence(events: readonly { bytesRead: number; totalBytes: number }[], total: number): void {
  expect(events.length).toBeGreaterThan(1);
  for (const e of events) expect(e.totalBytes).toBe(total);
  for (let i = 1; i < events.length; i++) expect(events[i].bytesRead).toBeGreaterThanOrEqual(events[i - 1].bytesRead);
  expect(events[0].bytesRead).toBe(0);
  expect(events[events.length - 1].bytesRead).toBe(total);
  // 100% once, at the end.
  expect(events.filter((e) => e.bytesRead === total)).toHaveLength(1);
}

beforeAll(async () => {
  await initBackend();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-loadprogress-'));
  ws = path.join(tmp, 'ws');
  writeTinyGpt2(path.join(ws, 'gpt2'), path.join(ws, 'gpt2-lora'));
  shard(path.join(ws, 'gpt2'), path.join(ws, 'gpt2-sharded'));
  dropTensor(path.join(ws, 'gpt2'), path.join(ws, 'gpt2-broken'), 'transformer.h.1.mlp.c_proj.weight');
});

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('loadHfModel onProgress', () => {
  it('reports bytes read up to the sum of the tensors’ sizes, monotonically, on the backend path', () => {
    const dir = path.join(ws, 'gpt2');
    const events: LoadProgress[] = [];
    const before = tf.memory().numTensors;
    const { live } = loadHfLiveModel(dir, { onProgress: (p) => events.push({ ...p }) });
    live.dispose();
    expect(tf.memory().numTensors).toBe(before);
    checkSequence(events, headerBytes(path.join(dir, SINGLE_FILE)));
    for (const e of events) expect(e.file).toBe(path.join(dir, SINGLE_FILE));
  });

  it('sums across shards and names the shard being read; the host loader reports the same', () => {
    const dir = path.join(ws, 'gpt2-sharded');
    const shards = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'].map((f) => path.join(dir, f));
    const total = shards.reduce((s, f) => s + headerBytes(f), 0);
    expect(total).toBe(headerBytes(path.join(ws, 'gpt2', SINGLE_FILE)));
    const events: LoadProgress[] = [];
    loadHfModel(dir, { onProgress: (p) => events.push({ ...p }) });
    checkSequence(events, total);
    expect(new Set(events.map((e) => e.file))).toEqual(new Set(shards));
  });

  it('loads without a callback as before', () => {
    const m = loadHfModel(path.join(ws, 'gpt2'));
    expect(m.params['embed.W_E'].shape).toEqual([300, 32]);
  });
});

describe('the worker’s threshold', () => {
  it('defaults to 256 MiB; OOCR_MODEL_PROGRESS_MB or an explicit value override it', () => {
    const saved = process.env.OOCR_MODEL_PROGRESS_MB;
    try {
      delete process.env.OOCR_MODEL_PROGRESS_MB;
      expect(modelProgressMinBytes()).toBe(MODEL_PROGRESS_MIN_BYTES);
      expect(MODEL_PROGRESS_MIN_BYTES).toBe(256 * 2 ** 20);
      process.env.OOCR_MODEL_PROGRESS_MB = '0';
      expect(modelProgressMinBytes()).toBe(0);
      process.env.OOCR_MODEL_PROGRESS_MB = 'lots';
      expect(modelProgressMinBytes()).toBe(MODEL_PROGRESS_MIN_BYTES);
      expect(modelProgressMinBytes(5)).toBe(5);
    } finally {
      if (saved === undefined) delete process.env.OOCR_MODEL_PROGRESS_MB;
      else process.env.OOCR_MODEL_PROGRESS_MB = saved;
    }
  });
});

describe('model-loading events', () => {
  const loadingEvents = (events: WorkbenchEvent[]): ModelLoadingEvent[] => events.filter((e): e is ModelLoadingEvent => e.kind === 'model-loading');

  it('an analyze that loads a model (threshold 0) emits them through subscribe, ending done at totalBytes; a cached model emits none', async () => {
    const wb = createWorkbench({ workspaceDir: ws, modelProgressMinBytes: 0 });
    const events: WorkbenchEvent[] = [];
    const off = wb.subscribe((e) => events.push(e));
    try {
      const r = await wb.call('analyze', { kind: 'attention', id: 'gpt2', prompt: ' the cat' });
      expect((r as { kind: string }).kind).toBe('attention');
      const loads = loadingEvents(events);
      checkSequence(loads, headerBytes(path.join(ws, 'gpt2', SINGLE_FILE)));
      for (const e of loads) expect(Object.keys(e).sort()).toEqual(e.done ? ['bytesRead', 'done', 'id', 'kind', 'totalBytes'] : ['bytesRead', 'id', 'kind', 'totalBytes']);
      expect(loads.every((e) => e.id === 'gpt2')).toBe(true);
      expect(loads.filter((e) => e.done)).toEqual([loads[loads.length - 1]]);
      // Plain data: what the transports send is what they get back.
      expect(JSON.parse(JSON.stringify(loads))).toEqual(loads);

      events.length = 0;
      await wb.call('analyze', { kind: 'logit-lens', id: 'gpt2', prompt: ' the cat' });
      expect(loadingEvents(events)).toEqual([]);

      // With an adapter: a fresh base model loads, the events name the adapter too.
      await wb.call('analyze', { kind: 'attention', id: 'gpt2-sharded', adapter: 'gpt2-lora', prompt: ' the cat' });
      const adapted = loadingEvents(events);
      expect(adapted.length).toBeGreaterThan(1);
      expect(adapted.every((e) => e.id === 'gpt2-sharded' && e.adapter === 'gpt2-lora')).toBe(true);
      expect(adapted[adapted.length - 1]).toMatchObject({ done: true, bytesRead: adapted[0].totalBytes });
    } finally {
      off();
      wb.dispose();
    }
  });

  it('a load that fails part way still ends with a done event, below totalBytes', async () => {
    const wb = createWorkbench({ workspaceDir: ws, modelProgressMinBytes: 0 });
    const events: WorkbenchEvent[] = [];
    const off = wb.subscribe((e) => events.push(e));
    try {
      await expect(wb.call('analyze', { kind: 'attention', id: 'gpt2-broken', prompt: ' the cat' })).rejects.toThrow(/missing tensor "transformer\.h\.1\.mlp\.c_proj\.weight"/);
      const loads = loadingEvents(events);
      const last = loads[loads.length - 1];
      expect(last.done).toBe(true);
      expect(last.bytesRead).toBeGreaterThan(0);
      expect(last.bytesRead).toBeLessThan(last.totalBytes);
      expect(loads.filter((e) => e.done)).toHaveLength(1);
    } finally {
      off();
      wb.dispose();
    }
  });

  it('a model under the default threshold (256 MiB) loads without them', async () => {
    const saved = process.env.OOCR_MODEL_PROGRESS_MB;
    delete process.env.OOCR_MODEL_PROGRESS_MB;
    const wb = createWorkbench({ workspaceDir: ws });
    const events: WorkbenchEvent[] = [];
    const off = wb.subscribe((e) => events.push(e));
    try {
      await wb.call('analyze', { kind: 'attention', id: 'gpt2', prompt: ' the cat' });
      expect(loadingEvents(events)).toEqual([]);
    } finally {
      off();
      wb.dispose();
      if (saved !== undefined) process.env.OOCR_MODEL_PROGRESS_MB = saved;
    }
  });
});

describe('oocr analyze --model', () => {
  it('prints the loading progress to stderr when the model reaches the threshold (OOCR_MODEL_PROGRESS_MB)', async () => {
    const out = path.join(tmp, 'attn.json');
    const env: NodeJS.ProcessEnv = { ...process.env, OOCR_MODEL_PROGRESS_MB: '0' };
    delete env.OOCR_BACKEND;
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const p = spawn(process.execPath, [path.join(root, 'bin/oocr.mjs'), 'analyze', 'attention', '--model', path.join(ws, 'gpt2'), '--text', ' the cat', '--out', out], { cwd: root, env });
      let stderr = '';
      p.stderr.on('data', (d) => (stderr += d));
      p.on('close', (code) => resolve({ code, stderr }));
    });
    expect(r.code, r.stderr).toBe(0);
    // Not a terminal: one line per ~10%, and the last at 100%.
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('Loading '));
    expect(lines.length).toBeGreaterThan(1);
    expect(lines[0]).toMatch(/^Loading .*gpt2… 0% \(0 \/ \d+ kB\)$/);
    expect(lines[lines.length - 1]).toMatch(/^Loading .*gpt2… 100% \((\d+) \/ \1 kB\)$/);
    expect(JSON.parse(fs.readFileSync(out, 'utf8'))).toMatchObject({ kind: 'attention' });
  });
});
