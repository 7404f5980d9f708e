import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic, writeFileAtomicSync } from './atomicWrite';

/**
 * The standard safetensors layout (https://github.com/huggingface/safetensors), float32 only, so
 * checkpoints load in Python with `safetensors`/PyTorch/numpy unchanged:
 *   u64 little-endian header length N | N bytes of UTF-8 JSON (space-padded to a multiple of 8) | data
 */

export class CheckpointError extends Error {
  readonly file: string;
  readonly problem: string;
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'CheckpointError';
    this.file = file;
    this.problem = problem;
  }
}

export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

export interface DecodedSafetensors {
  tensors: Record<string, NamedTensor>;
  metadata: Record<string, string>;
}

const METADATA_KEY = '__metadata__';
const HEADER_ALIGN = 8;
const F32_BYTES = 4;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Byte order of UTF-8 strings, which is what the reference implementation sorts by. */
function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function isDim(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

function product(shape: readonly number[]): number {
  return shape.reduce((acc, d) => acc * d, 1);
}

function copyFloatsOut(src: Float32Array, dst: Uint8Array, at: number): void {
  if (LITTLE_ENDIAN) {
    dst.set(new Uint8Array(src.buffer, src.byteOffset, src.byteLength), at);
    return;
  }
  const view = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
  for (let i = 0; i < src.length; i++) view.setFloat32(at + i * F32_BYTES, src[i], true);
}

/** Always copies: the result must not alias the (possibly unaligned, reused) input buffer. */
function copyFloatsIn(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.byteLength / F32_BYTES);
  if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * F32_BYTES, true);
  return out;
}

export function encodeSafetensors(
  tensors: Record<string, NamedTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const names = Object.keys(tensors).sort(compareNames);
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string') throw new TypeError(`metadata "${key}" must be a string`);
    }
    header[METADATA_KEY] = { ...metadata };
  }

  let offset = 0;
  for (const name of names) {
    if (name === METADATA_KEY) throw new Error(`"${METADATA_KEY}" is reserved and cannot name a tensor`);
    const { shape, data } = tensors[name];
    if (!shape.every((d) => isDim(d))) {
      throw new RangeError(`tensor "${name}": shape [${shape.join(', ')}] must be non-negative integers`);
    }
    if (!(data instanceof Float32Array)) throw new TypeError(`tensor "${name}": data must be a Float32Array`);
    if (product(shape) !== data.length) {
      throw new RangeError(
        `tensor "${name}": shape [${shape.join(', ')}] needs ${product(shape)} values but data has ${data.length}`,
      );
    }
    const end = offset + data.length * F32_BYTES;
    header[name] = { dtype: 'F32', shape: [...shape], data_offsets: [offset, end] };
    offset = end;
  }

  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const headerLen = Math.ceil(json.byteLength / HEADER_ALIGN) * HEADER_ALIGN;
  const out = new Uint8Array(8 + headerLen + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLen), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.byteLength, 8 + headerLen);

  const dataStart = 8 + headerLen;
  for (const name of names) {
    const [begin] = (header[name] as { data_offsets: [number, number] }).data_offsets;
    copyFloatsOut(tensors[name].data, out, dataStart + begin);
  }
  return out;
}

interface Entry {
  name: string;
  shape: number[];
  begin: number;
  end: number;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseEntry(name: string, raw: unknown, fail: (problem: string) => never): Entry {
  if (!isPlainObject(raw)) fail(`header entry for tensor "${name}" is not an object`);
  for (const field of ['dtype', 'shape', 'data_offsets']) {
    if (!(field in raw)) fail(`tensor "${name}" is missing "${field}" in the header`);
  }
  const { dtype, shape, data_offsets: offsets } = raw;
  if (dtype !== 'F32') {
    fail(`tensor "${name}" has dtype ${JSON.stringify(dtype)}; only F32 (float32) is supported`);
  }
  if (!Array.isArray(shape) || !shape.every(isDim)) {
    fail(`tensor "${name}" has shape ${JSON.stringify(shape)}; a shape must be a list of non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isDim)) {
    fail(`tensor "${name}" has data_offsets ${JSON.stringify(offsets)}; expected [begin, end] as non-negative integers`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) fail(`tensor "${name}" has data_offsets out of order: begin ${begin} is after end ${end}`);
  const expected = product(shape) * F32_BYTES;
  if (end - begin !== expected) {
    fail(
      `tensor "${name}" has ${end - begin} bytes but shape [${shape.join(', ')}] of float32 needs ${expected} bytes`,
    );
  }
  return { name, shape: [...shape], begin, end };
}

function parseMetadata(raw: unknown, fail: (problem: string) => never): Record<string, string> {
  if (!isPlainObject(raw)) fail(`"${METADATA_KEY}" in the header is not an object`);
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value !== 'string') fail(`metadata "${key}" is not a string (got ${JSON.stringify(value)})`);
    metadata[key] = value;
  }
  return metadata;
}

export function decodeSafetensors(bytes: Uint8Array, file: string): DecodedSafetensors {
  const fail: (problem: string) => never = (problem) => {
    throw new CheckpointError(file, problem);
  };
  if (bytes.byteLength < 8) {
    fail(`not a safetensors file: only ${bytes.byteLength} bytes, shorter than the 8-byte header length`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLenBig = view.getBigUint64(0, true);
  if (headerLenBig > BigInt(bytes.byteLength - 8)) {
    fail(
      `truncated or not a safetensors file: header says ${headerLenBig} bytes of JSON but the file has only ` +
        `${bytes.byteLength - 8} bytes after the length`,
    );
  }
  const headerLen = Number(headerLenBig);

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen));
  } catch {
    return fail('header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    return fail(`header is not valid JSON (${(err as Error).message})`);
  }
  if (!isPlainObject(header)) fail('header JSON is not an object');

  const dataStart = 8 + headerLen;
  const dataLen = bytes.byteLength - dataStart;
  let metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === METADATA_KEY) metadata = parseMetadata(raw, fail);
    else entries.push(parseEntry(name, raw, fail));
  }

  // Sorting by position makes overlap a check between neighbours only.
  const byPosition = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let prev: Entry | undefined;
  for (const entry of byPosition) {
    if (entry.end > dataLen) {
      fail(
        `truncated: tensor "${entry.name}" needs bytes ${entry.begin}..${entry.end} but the data section has only ` +
          `${dataLen} bytes`,
      );
    }
    if (prev !== undefined && entry.begin < prev.end && entry.end > entry.begin) {
      fail(
        `tensors "${prev.name}" (bytes ${prev.begin}..${prev.end}) and "${entry.name}" ` +
          `(bytes ${entry.begin}..${entry.end}) overlap`,
      );
    }
    if (entry.end > entry.begin) prev = entry;
  }

  const tensors: Record<string, NamedTensor> = {};
  for (const entry of entries) {
    const slice = bytes.subarray(dataStart + entry.begin, dataStart + entry.end);
    tensors[entry.name] = { shape: entry.shape, data: copyFloatsIn(slice) };
  }
  return { tensors, metadata };
}

function readProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'file not found';
    case 'EISDIR':
      return 'is a directory, not a checkpoint file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    default:
      return `cannot read file (${code ?? (err as Error).message})`;
  }
}

export async function writeSafetensorsFile(
  path: string,
  tensors: Record<string, NamedTensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

export function writeSafetensorsFileSync(
  path: string,
  tensors: Record<string, NamedTensor>,
  metadata?: Record<string, string>,
): void {
  writeFileAtomicSync(path, encodeSafetensors(tensors, metadata));
}

export async function readSafetensorsFile(path: string): Promise<DecodedSafetensors> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new CheckpointError(path, readProblem(err));
  }
  return decodeSafetensors(bytes, path);
}

export function readSafetensorsFileSync(path: string): DecodedSafetensors {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new CheckpointError(path, readProblem(err));
  }
  return decodeSafetensors(bytes, path);
}
