import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CheckpointError,
  decodeSafetensors,
  encodeSafetensors,
  readSafetensorsFile,
  readSafetensorsFileSync,
  writeSafetensorsFile,
  type NamedTensor,
} from '../../src/core/io/safetensors';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-st-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function ramp(n: number, scale = 1, shift = 0): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + shift) * scale);
}

function sample(): Record<string, NamedTensor> {
  return {
    'blocks.0.attn.W_Q': { shape: [2, 3, 5], data: ramp(30, 2) },
    'W_E': { shape: [7, 3], data: ramp(21, 1, 1) },
    'b': { shape: [3], data: Float32Array.of(1.5, -2.25, 1e-30) },
    'scalar': { shape: [], data: Float32Array.of(42) },
    'empty': { shape: [0, 4], data: new Float32Array(0) },
    'odd': { shape: [1, 13, 1], data: ramp(13, 1e6) },
  };
}

function headerOf(bytes: Uint8Array): { n: number; json: Record<string, unknown>; raw: string } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const raw = Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8');
  return { n, json: JSON.parse(raw) as Record<string, unknown>, raw };
}

/** Builds a file from an arbitrary header object, for the malformed cases. */
function craft(header: unknown, dataBytes: number): Uint8Array {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

function expectCheckpointError(fn: () => unknown, file: string, phrase: string | RegExp): CheckpointError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(CheckpointError);
  const err = caught as CheckpointError;
  expect(err.file).toBe(file);
  expect(err.message).toContain(file);
  if (typeof phrase === 'string') expect(err.message).toContain(phrase);
  else expect(err.message).toMatch(phrase);
  return err;
}

describe('encode/decode round trip', () => {
  it('restores every tensor, shape and metadata value', async () => {
    const tensors = sample();
    const metadata = { format: 'pt', config: JSON.stringify({ nLayers: 2 }), note: 'ünïcode ✓' };
    const file = path.join(dir, 'ckpt', 'step-000010.safetensors');
    await writeSafetensorsFile(file, tensors, metadata);
    const back = await readSafetensorsFile(file);
    expect(back.metadata).toEqual(metadata);
    expect(Object.keys(back.tensors).sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) {
      expect(back.tensors[name].shape).toEqual(t.shape);
      expect(back.tensors[name].data).toEqual(t.data);
    }
    expect(fs.readdirSync(path.dirname(file))).toEqual(['step-000010.safetensors']);
    expect(readSafetensorsFileSync(file).tensors.W_E.data).toEqual(tensors.W_E.data);
  });

  it('keeps special float values bit-exact', () => {
    const data = Float32Array.of(NaN, Infinity, -Infinity, -0, 1.4e-45, 3.4028234663852886e38);
    const back = decodeSafetensors(encodeSafetensors({ x: { shape: [6], data } }), 'mem');
    expect(new Uint32Array(back.tensors.x.data.buffer)).toEqual(new Uint32Array(data.buffer));
  });

  it('returns empty metadata when none was written, and handles no tensors at all', () => {
    const back = decodeSafetensors(encodeSafetensors({}), 'mem');
    expect(back).toEqual({ tensors: {}, metadata: {} });
  });

  it('copies data out: no aliasing of the input, unaligned offsets are fine', () => {
    const bytes = encodeSafetensors({ a: { shape: [3], data: Float32Array.of(1, 2, 3) } });
    // Shift by one byte so the float data sits at an odd address.
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const back = decodeSafetensors(shifted.subarray(1), 'mem');
    expect(back.tensors.a.data).toEqual(Float32Array.of(1, 2, 3));
    expect(back.tensors.a.data.buffer).not.toBe(shifted.buffer);
    shifted.fill(0);
    expect(back.tensors.a.data).toEqual(Float32Array.of(1, 2, 3));
  });

  it('takes a Float32Array view into a larger buffer when encoding', () => {
    const big = ramp(10);
    const view = big.subarray(3, 7);
    const back = decodeSafetensors(encodeSafetensors({ v: { shape: [2, 2], data: view } }), 'mem');
    expect(back.tensors.v.data).toEqual(Float32Array.from(view));
  });
});

describe('byte layout matches the safetensors spec', () => {
  it('has a little-endian u64 length, a space-padded header and sorted contiguous data', () => {
    const tensors = sample();
    const bytes = encodeSafetensors(tensors, { k: 'v' });
    const { n, json, raw } = headerOf(bytes);
    expect(n % 8).toBe(0);
    expect((8 + n) % 8).toBe(0);
    // JSON first, then only spaces up to the declared length.
    const trimmed = raw.trimEnd();
    expect(raw.slice(trimmed.length)).toMatch(/^ {0,7}$/);
    expect(() => JSON.parse(trimmed)).not.toThrow();

    expect(json.__metadata__).toEqual({ k: 'v' });
    const names = Object.keys(json).filter((k) => k !== '__metadata__');
    const sorted = Object.keys(tensors).sort();
    expect(names).toEqual(sorted);

    let expectedBegin = 0;
    for (const name of sorted) {
      const entry = json[name] as { dtype: string; shape: number[]; data_offsets: [number, number] };
      expect(entry.dtype).toBe('F32');
      expect(entry.shape).toEqual(tensors[name].shape);
      expect(entry.data_offsets).toEqual([expectedBegin, expectedBegin + tensors[name].data.length * 4]);
      // The raw little-endian bytes sit exactly where the offsets say.
      const at = 8 + n + expectedBegin;
      const view = new DataView(bytes.buffer, bytes.byteOffset + at, tensors[name].data.length * 4);
      tensors[name].data.forEach((v, i) => expect(view.getFloat32(i * 4, true)).toBe(v));
      expectedBegin = entry.data_offsets[1];
    }
    expect(bytes.length).toBe(8 + n + expectedBegin);
  });

  it('pads headers of every length to a multiple of 8', () => {
    for (let len = 1; len <= 9; len++) {
      const bytes = encodeSafetensors({ ['x'.repeat(len)]: { shape: [1], data: Float32Array.of(len) } });
      expect(headerOf(bytes).n % 8).toBe(0);
      expect(decodeSafetensors(bytes, 'mem').tensors['x'.repeat(len)].data[0]).toBe(len);
    }
  });
});

const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;

const PY_READ = `
import json, struct, sys
import numpy as np
raw = open(sys.argv[1], 'rb').read()
(n,) = struct.unpack('<Q', raw[:8])
assert n % 8 == 0, 'header not padded'
header = json.loads(raw[8:8 + n].decode('utf-8'))
data = raw[8 + n:]
out = {'__metadata__': header.pop('__metadata__', None), 'tensors': {}}
for name, info in header.items():
    a, b = info['data_offsets']
    arr = np.frombuffer(data[a:b], dtype='<f4').reshape(info['shape'])
    out['tensors'][name] = {'shape': list(arr.shape), 'sum': float(arr.astype(np.float64).sum()),
                            'first': float(arr.flat[0]) if arr.size else None}
print(json.dumps(out))
`;

const PY_WRITE = `
import json, struct, sys
import numpy as np
tensors = {'zeta': np.arange(12, dtype='<f4').reshape(3, 4) / 7, 'alpha': np.array([-1.5, 2.5, 1e-3], dtype='<f4')}
header, blobs, off = {'__metadata__': {'writer': 'numpy'}}, [], 0
for name in sorted(tensors):
    b = tensors[name].tobytes()
    header[name] = {'dtype': 'F32', 'shape': list(tensors[name].shape), 'data_offsets': [off, off + len(b)]}
    blobs.append(b)
    off += len(b)
h = json.dumps(header).encode('utf-8')
h += b' ' * (-len(h) % 8)
open(sys.argv[1], 'wb').write(struct.pack('<Q', len(h)) + h + b''.join(blobs))
print(json.dumps({k: float(v.astype(np.float64).sum()) for k, v in tensors.items()}))
`;

describe('cross-check with an independent numpy reader/writer', () => {
  it.skipIf(!hasNumpy)('numpy reads our files with the same shapes and sums', async () => {
    const tensors = sample();
    const file = path.join(dir, 'x.safetensors');
    await writeSafetensorsFile(file, tensors, { who: 'js' });
    const res = spawnSync('python3', ['-c', PY_READ, file], { encoding: 'utf8' });
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
    const parsed = JSON.parse(res.stdout) as {
      __metadata__: Record<string, string>;
      tensors: Record<string, { shape: number[]; sum: number; first: number | null }>;
    };
    expect(parsed.__metadata__).toEqual({ who: 'js' });
    for (const [name, t] of Object.entries(tensors)) {
      const py = parsed.tensors[name];
      expect(py.shape).toEqual(t.shape);
      const jsSum = t.data.reduce((acc, v) => acc + v, 0);
      expect(py.sum).toBeCloseTo(jsSum, 6);
      expect(py.first).toBe(t.data.length > 0 ? t.data[0] : null);
    }
  });

  it.skipIf(!hasNumpy)('we read files written by numpy', async () => {
    const file = path.join(dir, 'py.safetensors');
    const res = spawnSync('python3', ['-c', PY_WRITE, file], { encoding: 'utf8' });
    expect(res.status).toBe(0);
    const sums = JSON.parse(res.stdout) as Record<string, number>;
    const back = await readSafetensorsFile(file);
    expect(back.metadata).toEqual({ writer: 'numpy' });
    expect(back.tensors.zeta.shape).toEqual([3, 4]);
    expect(back.tensors.alpha.data).toEqual(Float32Array.of(-1.5, 2.5, 1e-3));
    for (const [name, sum] of Object.entries(sums)) {
      expect(back.tensors[name].data.reduce((a, v) => a + v, 0)).toBeCloseTo(sum, 5);
    }
  });
});

describe('bad files give a CheckpointError naming the file and the problem', () => {
  const entry = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    dtype: 'F32',
    shape: [2],
    data_offsets: [0, 8],
    ...extra,
  });

  const cases: [string, Uint8Array, string | RegExp][] = [
    ['too short', new Uint8Array(5), 'shorter than the 8-byte'],
    [
      'header length beyond the file',
      (() => {
        const b = craft({ a: entry() }, 8);
        new DataView(b.buffer).setBigUint64(0, 10_000n, true);
        return b;
      })(),
      'truncated',
    ],
    [
      'header length near 2^64',
      (() => {
        const b = craft({}, 0);
        new DataView(b.buffer).setBigUint64(0, 0xffff_ffff_ffff_fff0n, true);
        return b;
      })(),
      'truncated',
    ],
    [
      'header not UTF-8',
      (() => {
        const b = new Uint8Array(8 + 8);
        new DataView(b.buffer).setBigUint64(0, 8n, true);
        b.set([0x7b, 0xff, 0xfe, 0x7d, 0x20, 0x20, 0x20, 0x20], 8);
        return b;
      })(),
      'not valid UTF-8',
    ],
    [
      'header not JSON',
      (() => {
        const text = Buffer.from('{"a": [1, 2');
        const b = new Uint8Array(8 + text.length);
        new DataView(b.buffer).setBigUint64(0, BigInt(text.length), true);
        b.set(text, 8);
        return b;
      })(),
      'not valid JSON',
    ],
    ['header is an array', craft([1, 2], 0), 'not an object'],
    ['header is null', craft(null, 0), 'not an object'],
    ['entry not an object', craft({ a: 3 }, 0), 'header entry for tensor "a" is not an object'],
    ['missing dtype', craft({ a: { shape: [2], data_offsets: [0, 8] } }, 8), 'tensor "a" is missing "dtype"'],
    ['missing shape', craft({ a: { dtype: 'F32', data_offsets: [0, 8] } }, 8), 'missing "shape"'],
    ['missing offsets', craft({ a: { dtype: 'F32', shape: [2] } }, 8), 'missing "data_offsets"'],
    ['float16', craft({ a: entry({ dtype: 'F16', data_offsets: [0, 4] }) }, 4), 'dtype "F16"; only F32 (float32)'],
    ['int64', craft({ a: entry({ dtype: 'I64', data_offsets: [0, 16] }) }, 16), 'dtype "I64"'],
    ['negative dim', craft({ a: entry({ shape: [-2] }) }, 8), 'non-negative integers'],
    ['fractional dim', craft({ a: entry({ shape: [1.5] }) }, 8), 'non-negative integers'],
    ['shape not a list', craft({ a: entry({ shape: '2' }) }, 8), 'non-negative integers'],
    ['offsets malformed', craft({ a: entry({ data_offsets: [0] }) }, 8), 'expected [begin, end]'],
    ['offsets reversed', craft({ a: entry({ data_offsets: [8, 0] }) }, 8), 'out of order'],
    [
      'overlap',
      craft({ a: entry({ data_offsets: [0, 8] }), b: entry({ data_offsets: [4, 12] }) }, 12),
      /"a" \(bytes 0\.\.8\) and "b" \(bytes 4\.\.12\) overlap/,
    ],
    [
      'beyond the data section',
      craft({ a: entry(), b: entry({ data_offsets: [8, 16] }) }, 12),
      'truncated: tensor "b" needs bytes 8..16 but the data section has only 12 bytes',
    ],
    ['wrong byte length', craft({ a: entry({ data_offsets: [0, 12] }) }, 12), 'has 12 bytes but shape [2] of float32 needs 8'],
    ['metadata value not a string', craft({ __metadata__: { step: 5 } }, 0), 'metadata "step" is not a string'],
    ['metadata not an object', craft({ __metadata__: 'x' }, 0), '"__metadata__" in the header is not an object'],
  ];

  for (const [label, bytes, phrase] of cases) {
    it(`${label}`, async () => {
      const file = path.join(dir, `${label.replace(/\W+/g, '-')}.safetensors`);
      fs.writeFileSync(file, bytes);
      expectCheckpointError(() => readSafetensorsFileSync(file), file, phrase);
      await expect(readSafetensorsFile(file)).rejects.toThrow(file);
    });
  }

  it('a file missing its last 10 bytes is reported as truncated', () => {
    const file = path.join(dir, 'cut.safetensors');
    const bytes = encodeSafetensors(sample());
    fs.writeFileSync(file, bytes.subarray(0, bytes.length - 10));
    const err = expectCheckpointError(() => readSafetensorsFileSync(file), file, 'truncated: tensor');
    expect(err.problem).toMatch(/needs bytes \d+\.\.\d+ but the data section has only \d+ bytes/);
  });

  it('a file cut inside the header is reported as truncated', () => {
    const file = path.join(dir, 'cut-header.safetensors');
    const bytes = encodeSafetensors(sample());
    fs.writeFileSync(file, bytes.subarray(0, 40));
    expectCheckpointError(() => readSafetensorsFileSync(file), file, 'truncated');
  });

  it('every prefix of a valid file is rejected with a CheckpointError, never a crash', () => {
    const bytes = encodeSafetensors({ a: { shape: [3], data: Float32Array.of(1, 2, 3) } });
    for (let len = 0; len < bytes.length; len++) {
      expect(() => decodeSafetensors(bytes.subarray(0, len), 'prefix')).toThrow(CheckpointError);
    }
  });

  it('missing file and directory paths', async () => {
    const missing = path.join(dir, 'nope.safetensors');
    expectCheckpointError(() => readSafetensorsFileSync(missing), missing, 'file not found');
    await expect(readSafetensorsFile(missing)).rejects.toBeInstanceOf(CheckpointError);
    expectCheckpointError(() => readSafetensorsFileSync(dir), dir, 'is a directory');
  });
});

describe('encodeSafetensors rejects bad input', () => {
  it('shape/data length mismatch', () => {
    expect(() => encodeSafetensors({ a: { shape: [2, 2], data: new Float32Array(3) } })).toThrow(
      'shape [2, 2] needs 4 values but data has 3',
    );
  });

  it('non-finite, negative or fractional dims', () => {
    for (const bad of [NaN, Infinity, -1, 1.5]) {
      expect(() => encodeSafetensors({ a: { shape: [bad], data: new Float32Array(1) } })).toThrow(
        'non-negative integers',
      );
    }
  });

  it('the reserved __metadata__ name', () => {
    expect(() => encodeSafetensors({ __metadata__: { shape: [1], data: new Float32Array(1) } })).toThrow('reserved');
  });
});
