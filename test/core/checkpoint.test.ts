import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointError } from '../../src/core/io/safetensors';
import { loadCheckpoint, saveCheckpoint } from '../../src/core/model/checkpoint';
import { initParams } from '../../src/core/model/params';
import { presetConfig } from '../../src/core/presets';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-ckpt-'));

describe('checkpoints', () => {
  const factorized = presetConfig('ocr-factorized').model;
  const combined = presetConfig('ocr-combined').model;

  it('round-trips every tensor bit for bit, with the config and TransformerLens names and shapes', () => {
    const params = initParams(factorized, 11);
    const file = path.join(dir, 'a.safetensors');
    saveCheckpoint(file, factorized, params, { step: 42, task: 'ocr-recall', taskOptions: { implication: 'causal' } });
    const back = loadCheckpoint(file);
    expect(back.config).toEqual(factorized);
    expect(back.meta).toEqual({ step: 42, task: 'ocr-recall', taskOptions: { implication: 'causal' } });
    expect(back.params['blocks.0.attn.W_V'].shape).toEqual([1, 128, 8]);
    expect(back.params['blocks.0.attn.W_O'].shape).toEqual([1, 8, 128]);
    expect(back.params['embed.W_E'].shape).toEqual([128, 128]);
    expect(back.params['unembed.W_U'].shape).toEqual([128, 128]);
    for (const [name, t] of Object.entries(params)) expect(back.params[name].data).toEqual(t.data);
  });

  it('refuses a checkpoint that does not fit the requested model, naming the file and tensor', () => {
    const file = path.join(dir, 'b.safetensors');
    saveCheckpoint(file, factorized, initParams(factorized, 1), { step: 1 });
    try {
      loadCheckpoint(file, combined);
      throw new Error('expected a failure');
    } catch (err) {
      expect(err).toBeInstanceOf(CheckpointError);
      const msg = (err as Error).message;
      expect(msg).toContain(file);
      expect(msg).toMatch(/blocks\.0\.attn\.W_V has shape \[1,128,8\] but the model needs \[1,128,128\]/);
    }
  });

  it('reports a truncated file by name', () => {
    const file = path.join(dir, 'c.safetensors');
    saveCheckpoint(file, factorized, initParams(factorized, 1), { step: 1 });
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(file, bytes.subarray(0, bytes.length - 100));
    expect(() => loadCheckpoint(file)).toThrow(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}.*truncated`));
  });

  it('refuses to save non-finite weights and leaves an existing checkpoint untouched', () => {
    const file = path.join(dir, 'd.safetensors');
    const good = initParams(factorized, 1);
    saveCheckpoint(file, factorized, good, { step: 1 });
    const before = fs.readFileSync(file);
    const bad = initParams(factorized, 2);
    bad['blocks.0.attn.W_Q'].data[5] = Number.NaN;
    expect(() => saveCheckpoint(file, factorized, bad, { step: 2 })).toThrow(/non-finite value/);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });

  it('a safetensors file without our metadata gets a clear error', () => {
    const file = path.join(dir, 'e.safetensors');
    const header = Buffer.from(JSON.stringify({ x: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }).padEnd(40, ' '));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    fs.writeFileSync(file, Buffer.concat([len, header, Buffer.alloc(4)]));
    expect(() => loadCheckpoint(file)).toThrow(/no model config in __metadata__/);
  });
});
