import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseCfg, SAE_CFG_FILE, SAE_WEIGHTS_FILE, type Sae } from '../../src/core/sae/saeConfig';
import { isSaeFolder, readSae, writeSae } from '../../src/core/sae/saeFormat';
import { Rng } from '../../src/core/util/rng';
import { writeSafetensorsFileSync } from '../../src/core/io/safetensors';

/**
 * The SAELens layout: cfg.json + sae_weights.safetensors (W_enc [d_in, d_sae], b_enc, W_dec
 * [d_sae, d_in], b_dec). What we write reads back identically and parses in Python with the standard
 * library alone; an SAE written by an independent writer (Python's struct, SAELens 6 style cfg, one
 * tensor in F16) loads; broken or unsupported files are refused naming the file.
 */

const HAVE_PYTHON = spawnSync('python3', ['--version']).status === 0;
let tmp: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-sae-format-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function randomSae(dIn: number, dSae: number, architecture: 'standard' | 'topk', seed = 0): Sae {
  const rng = new Rng(seed);
  const t = (shape: number[]) => ({ shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()) });
  return {
    cfg: {
      architecture,
      d_in: dIn,
      d_sae: dSae,
      ...(architecture === 'topk' ? { k: 3 } : {}),
      hook_name: 'blocks.1.hook_resid_post',
      hook_layer: 1,
      model_name: 'world-base',
      dtype: 'float32',
      device: 'cpu',
      apply_b_dec_to_input: true,
      normalize_activations: 'none',
      context_size: 6,
      prepend_bos: false,
      dataset_path: 'task:world',
    },
    weights: { W_enc: t([dIn, dSae]), b_enc: t([dSae]), W_dec: t([dSae, dIn]), b_dec: t([dIn]) },
  };
}

describe('round trip', () => {
  it('writes and reads back the same tensors and cfg fields (topk and standard)', () => {
    for (const arch of ['topk', 'standard'] as const) {
      const dir = path.join(tmp, `rt-${arch}`);
      const sae = randomSae(6, 24, arch);
      writeSae(dir, sae);
      expect(isSaeFolder(dir)).toBe(true);
      const back = readSae(dir);
      expect(back.cfg).toEqual(sae.cfg);
      for (const k of ['W_enc', 'b_enc', 'W_dec', 'b_dec'] as const) {
        expect(back.weights[k].shape).toEqual(sae.weights[k].shape);
        expect(Array.from(back.weights[k].data)).toEqual(Array.from(sae.weights[k].data));
      }
      const cfg = JSON.parse(fs.readFileSync(path.join(dir, SAE_CFG_FILE), 'utf8'));
      expect(cfg).toMatchObject({ architecture: arch, d_in: 6, d_sae: 24, hook_name: 'blocks.1.hook_resid_post', hook_layer: 1, dtype: 'float32', normalize_activations: 'none', apply_b_dec_to_input: true });
      expect(cfg.activation_fn_str).toBe(arch === 'topk' ? 'topk' : 'relu');
      if (arch === 'topk') expect([cfg.k, cfg.activation_fn_kwargs.k]).toEqual([3, 3]);
      expect(cfg.metadata.hook_name).toBe('blocks.1.hook_resid_post');
      expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    }
  });

  it.skipIf(!HAVE_PYTHON)('our file parses with Python’s standard library (names, F32, shapes, values)', () => {
    const dir = path.join(tmp, 'rt-topk');
    const script = `
import json, struct, sys
b = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
h = json.loads(b[8:8 + n])
out = {}
for k, v in h.items():
    if k == '__metadata__': continue
    s, e = v['data_offsets']
    vals = struct.unpack('<%df' % ((e - s) // 4), b[8 + n + s:8 + n + e])
    out[k] = {'dtype': v['dtype'], 'shape': v['shape'], 'first': vals[0], 'sum': sum(vals)}
print(json.dumps(out))`;
    const r = spawnSync('python3', ['-c', script, path.join(dir, SAE_WEIGHTS_FILE)], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const py = JSON.parse(r.stdout) as Record<string, { dtype: string; shape: number[]; first: number; sum: number }>;
    const ours = readSae(dir);
    expect(Object.keys(py).sort()).toEqual(['W_dec', 'W_enc', 'b_dec', 'b_enc']);
    for (const k of ['W_enc', 'b_enc', 'W_dec', 'b_dec'] as const) {
      expect(py[k].dtype).toBe('F32');
      expect(py[k].shape).toEqual(ours.weights[k].shape);
      expect(py[k].first).toBe(ours.weights[k].data[0]);
      expect(py[k].sum).toBeCloseTo(ours.weights[k].data.reduce((a, x) => a + x, 0), 3);
    }
  });

  it.skipIf(!HAVE_PYTHON)('loads an SAE written by an independent writer (SAELens 6 cfg with metadata, W_dec in F16, extra keys)', () => {
    const dir = path.join(tmp, 'py-sae');
    const script = `
import json, struct, os, sys
d = sys.argv[1]; os.makedirs(d, exist_ok=True)
d_in, d_sae = 4, 8
W_enc = [((i * 7) % 11) / 10 - 0.5 for i in range(d_in * d_sae)]
b_enc = [-0.1 * i for i in range(d_sae)]
W_dec = [((i * 5) % 9) / 8 - 0.5 for i in range(d_sae * d_in)]  # exact in float16
b_dec = [0.25, -0.5, 0.75, 1.0]
tensors = [('W_dec', 'F16', [d_sae, d_in], struct.pack('<%de' % len(W_dec), *W_dec)),
           ('W_enc', 'F32', [d_in, d_sae], struct.pack('<%df' % len(W_enc), *W_enc)),
           ('b_dec', 'F32', [d_in], struct.pack('<%df' % len(b_dec), *b_dec)),
           ('b_enc', 'F32', [d_sae], struct.pack('<%df' % len(b_enc), *b_enc))]
header, data, off = {'__metadata__': {'format': 'pt'}}, b'', 0
for name, dt, shape, raw in tensors:
    header[name] = {'dtype': dt, 'shape': shape, 'data_offsets': [off, off + len(raw)]}
    data += raw; off += len(raw)
h = json.dumps(header).encode()
h += b' ' * ((8 - len(h) % 8) % 8)
open(os.path.join(d, 'sae_weights.safetensors'), 'wb').write(struct.pack('<Q', len(h)) + h + data)
json.dump({'architecture': 'standard', 'd_in': d_in, 'd_sae': d_sae, 'dtype': 'float32', 'device': 'cuda',
           'apply_b_dec_to_input': True, 'normalize_activations': 'none', 'reshape_activations': 'none',
           'metadata': {'model_name': 'gpt2', 'hook_name': 'blocks.0.hook_resid_pre', 'hook_head_index': None,
                        'context_size': 128, 'prepend_bos': True, 'dataset_path': 'x', 'sae_lens_version': '6.5.0'}},
          open(os.path.join(d, 'cfg.json'), 'w'))
print(json.dumps({'W_enc': W_enc, 'b_enc': b_enc, 'W_dec': W_dec, 'b_dec': b_dec}))`;
    const r = spawnSync('python3', ['-c', script, dir], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const want = JSON.parse(r.stdout) as Record<'W_enc' | 'b_enc' | 'W_dec' | 'b_dec', number[]>;
    const sae = readSae(dir);
    expect(sae.cfg).toMatchObject({ architecture: 'standard', d_in: 4, d_sae: 8, hook_name: 'blocks.0.hook_resid_pre', hook_layer: 0, model_name: 'gpt2', context_size: 128, prepend_bos: true });
    for (const k of ['W_enc', 'b_enc', 'W_dec', 'b_dec'] as const) {
      Array.from(sae.weights[k].data).forEach((v, i) => expect(v).toBeCloseTo(want[k][i], 6));
    }
  });

  it('reads SAELens 5 cfg variants (activation_fn_str topk with activation_fn_kwargs)', () => {
    const cfg = parseCfg({ d_in: 8, d_sae: 32, hook_name: 'blocks.3.hook_mlp_out', hook_layer: 3, activation_fn_str: 'topk', activation_fn_kwargs: { k: 4 }, model_name: 'pythia-70m', normalize_activations: null }, 'cfg.json');
    expect(cfg).toMatchObject({ architecture: 'topk', k: 4, hook_layer: 3 });
    expect(parseCfg({ d_in: 8, d_sae: 32, hook_name: 'blocks.2.hook_resid_post' }, 'cfg.json')).toMatchObject({ architecture: 'standard', hook_layer: 2 });
  });
});

describe('broken and unsupported SAE folders name the file', () => {
  const fresh = (name: string): string => {
    const dir = path.join(tmp, name);
    writeSae(dir, randomSae(4, 8, 'standard'));
    return dir;
  };

  it('a truncated weights file', () => {
    const dir = fresh('truncated');
    const f = path.join(dir, SAE_WEIGHTS_FILE);
    const bytes = fs.readFileSync(f);
    fs.writeFileSync(f, bytes.subarray(0, bytes.length - 20));
    expect(() => readSae(dir)).toThrow(`${f}: truncated: tensor "b_enc" needs bytes`);
    fs.writeFileSync(f, bytes.subarray(0, 5));
    expect(() => readSae(dir)).toThrow(`${f}: not a safetensors file: only 5 bytes`);
  });

  it('a corrupt header, a missing file, a missing tensor, wrong shapes', () => {
    const dir = fresh('corrupt');
    const f = path.join(dir, SAE_WEIGHTS_FILE);
    const bytes = fs.readFileSync(f);
    bytes.fill(0x7b, 8, 20);
    fs.writeFileSync(f, bytes);
    expect(() => readSae(dir)).toThrow(SAE_WEIGHTS_FILE);
    fs.rmSync(f);
    expect(() => readSae(dir)).toThrow(new RegExp(`${SAE_WEIGHTS_FILE}: file not found`));
    const d2 = fresh('shape');
    const cfg = JSON.parse(fs.readFileSync(path.join(d2, SAE_CFG_FILE), 'utf8'));
    fs.writeFileSync(path.join(d2, SAE_CFG_FILE), JSON.stringify({ ...cfg, d_sae: 9 }));
    expect(() => readSae(d2)).toThrow(/sae_weights\.safetensors: tensor "W_enc" has shape \[4, 8\], cfg\.json's d_in 4 and d_sae 9 need \[4, 9\]/);
  });

  it('a cfg.json that is not JSON, or lacks fields', () => {
    const dir = fresh('badcfg');
    fs.writeFileSync(path.join(dir, SAE_CFG_FILE), '{ not json');
    expect(() => readSae(dir)).toThrow(/cfg\.json: not valid JSON/);
    fs.writeFileSync(path.join(dir, SAE_CFG_FILE), JSON.stringify({ d_in: 4, hook_name: 'blocks.0.hook_resid_post' }));
    expect(() => readSae(dir)).toThrow(/cfg\.json: "d_sae" must be an integer ≥ 1/);
    fs.rmSync(path.join(dir, SAE_CFG_FILE));
    expect(() => readSae(dir)).toThrow(/cfg\.json: file not found/);
  });

  it('JumpReLU and gated SAEs, normalisations and head indices are refused by name', () => {
    expect(() => parseCfg({ architecture: 'jumprelu', d_in: 4, d_sae: 8, hook_name: 'h' }, 'x/cfg.json')).toThrow(/x\/cfg\.json: architecture 'jumprelu' is not supported/);
    expect(() => parseCfg({ d_in: 4, d_sae: 8, hook_name: 'h', normalize_activations: 'expected_average_only_in' }, 'cfg.json')).toThrow(/normalize_activations 'expected_average_only_in' is not applied/);
    expect(() => parseCfg({ d_in: 4, d_sae: 8, hook_name: 'blocks.0.attn.hook_z', hook_head_index: 3 }, 'cfg.json')).toThrow(/hook_head_index 3/);
    expect(() => parseCfg({ architecture: 'topk', d_in: 4, d_sae: 8, hook_name: 'h' }, 'cfg.json')).toThrow(/a topk SAE needs an integer k/);
    // A weights file with a JumpReLU threshold under a 'standard' cfg.
    const dir = fresh('threshold');
    const sae = readSae(dir);
    const tensors = { ...sae.weights, threshold: { shape: [8], data: new Float32Array(8) } };
    writeSafetensorsFileSync(path.join(dir, SAE_WEIGHTS_FILE), tensors);
    expect(() => readSae(dir)).toThrow(/sae_weights\.safetensors: holds a JumpReLU SAE \('threshold'\)/);
  });

  it('non-finite weights are refused', () => {
    const sae = randomSae(4, 8, 'standard');
    sae.weights.b_enc.data[2] = NaN;
    expect(() => writeSae(path.join(tmp, 'nan'), sae)).toThrow(/tensor "b_enc" holds a non-finite value \(NaN\) at index 2/);
  });
});
