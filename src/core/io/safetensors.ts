import { closeSync } from 'node:fs';
import { writeFileAtomic, writeFileAtomicSync } from './atomicWrite';
import { describeFsError, FileReadError, formatBytes, openRegularFileSync, readAtSync, readRegularFile, readRegularFileSync, READ_LIMITS } from './safeFs';

/**
 * The standard safetensors layout (https://github.com/huggingface/safetensors), so checkpoints load in
 * Python with `safetensors`/PyTorch/numpy unchanged:
 *   u64 little-endian header length N | N bytes of UTF-8 JSON (space-padded to a multiple of 8) | data
 * Our own checkpoints are float32 only (`decodeSafetensors`); Hugging Face weights in any dtype are
 * indexed by `openSafetensors`, which converts F32, F16, BF16 and F64 tensors to float32 on demand.
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
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

/** Bytes per element of every dtype the safetensors format defines. */
const DTYPE_BYTES: Record<string, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, F8_E4M3: 1, F8_E5M2: 1,
  I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
};

/** The bytes a tensor of this header entry occupies in its file (what the header's data_offsets span). */
export function tensorByteSize(e: SafetensorsEntry): number {
  return product(e.shape) * (DTYPE_BYTES[e.dtype] ?? 0);
}

/** Float dtypes `openSafetensors` converts to float32. */
export const FLOAT_DTYPES = ['F32', 'F16', 'BF16', 'F64'] as const;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `anyDtype` admits every safetensors dtype (Hugging Face folders); otherwise only F32 (our checkpoints). */
function parseEntry(name: string, raw: unknown, fail: (problem: string) => never, anyDtype = false): Entry {
  if (!isPlainObject(raw)) fail(`header entry for tensor "${name}" is not an object`);
  for (const field of ['dtype', 'shape', 'data_offsets']) {
    if (!(field in raw)) fail(`tensor "${name}" is missing "${field}" in the header`);
  }
  const { dtype, shape, data_offsets: offsets } = raw;
  if (!anyDtype && dtype !== 'F32') {
    fail(`tensor "${name}" has dtype ${JSON.stringify(dtype)}; only F32 (float32) is supported`);
  }
  if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) {
    fail(`tensor "${name}" has dtype ${JSON.stringify(dtype)}, which is not a safetensors dtype`);
  }
  if (!Array.isArray(shape) || !shape.every(isDim)) {
    fail(`tensor "${name}" has shape ${JSON.stringify(shape)}; a shape must be a list of non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isDim)) {
    fail(`tensor "${name}" has data_offsets ${JSON.stringify(offsets)}; expected [begin, end] as non-negative integers`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) fail(`tensor "${name}" has data_offsets out of order: begin ${begin} is after end ${end}`);
  const expected = product(shape) * DTYPE_BYTES[dtype];
  if (end - begin !== expected) {
    const what = dtype === 'F32' ? 'float32' : dtype;
    fail(`tensor "${name}" has ${end - begin} bytes but shape [${shape.join(', ')}] of ${what} needs ${expected} bytes`);
  }
  return { name, dtype, shape: [...shape], begin, end };
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

interface ParsedHeader {
  entries: Entry[];
  metadata: Record<string, string>;
  dataStart: number;
}

/** `fileLength` is the whole file's size when `bytes` holds only its start (header-only reads). */
function parseHeader(bytes: Uint8Array, fail: (problem: string) => never, anyDtype: boolean, fileLength = bytes.byteLength): ParsedHeader {
  if (fileLength < 8 || bytes.byteLength < 8) {
    fail(`not a safetensors file: only ${fileLength} bytes, shorter than the 8-byte header length`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLenBig = view.getBigUint64(0, true);
  if (headerLenBig > BigInt(Math.min(fileLength, bytes.byteLength) - 8)) {
    fail(
      `truncated or not a safetensors file: header says ${headerLenBig} bytes of JSON but the file has only ` +
        `${fileLength - 8} bytes after the length`,
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
  const dataLen = fileLength - dataStart;
  let metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === METADATA_KEY) metadata = parseMetadata(raw, fail);
    else entries.push(parseEntry(name, raw, fail, anyDtype));
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
  return { entries, metadata, dataStart };
}

export function decodeSafetensors(bytes: Uint8Array, file: string): DecodedSafetensors {
  const fail: (problem: string) => never = (problem) => {
    throw new CheckpointError(file, problem);
  };
  const { entries, metadata, dataStart } = parseHeader(bytes, fail, false);
  const tensors: Record<string, NamedTensor> = {};
  for (const entry of entries) {
    const slice = bytes.subarray(dataStart + entry.begin, dataStart + entry.end);
    tensors[entry.name] = { shape: entry.shape, data: copyFloatsIn(slice) };
  }
  return { tensors, metadata };
}

export interface SafetensorsEntry {
  dtype: string;
  shape: number[];
}

/** One safetensors file of any dtypes, indexed; tensors are converted to float32 only when read. */
export interface SafetensorsIndex {
  file: string;
  entries: ReadonlyMap<string, SafetensorsEntry>;
  metadata: Record<string, string>;
  /** The tensor as float32 (a fresh array). Throws CheckpointError for unknown names or non-float dtypes. */
  read(name: string): Float32Array;
}

export function openSafetensors(bytes: Uint8Array, file: string): SafetensorsIndex {
  const fail: (problem: string) => never = (problem) => {
    throw new CheckpointError(file, problem);
  };
  const { entries, metadata, dataStart } = parseHeader(bytes, fail, true);
  const byName = new Map(entries.map((e) => [e.name, e]));
  return {
    file,
    entries: new Map(entries.map((e) => [e.name, { dtype: e.dtype, shape: e.shape }])),
    metadata,
    read(name: string): Float32Array {
      const e = byName.get(name);
      if (!e) return fail(`no tensor "${name}"`);
      return toFloat32(bytes.subarray(dataStart + e.begin, dataStart + e.end), e.dtype, () =>
        fail(`tensor "${name}" has dtype ${e.dtype}; only ${FLOAT_DTYPES.join(', ')} convert to float32`),
      );
    },
  };
}

/** The parsed header of a safetensors file, reading only its first bytes (the 8-byte length, then the JSON). */
function readHeaderOf(path: string, fail: (problem: string) => never): ParsedHeader {
  // Regular files only (a FIFO or /dev/zero is refused by name, never read).
  const { fd, size } = openChecked(path);
  try {
    const lenBytes = new Uint8Array(8);
    readAtSync(fd, lenBytes, 0, Math.min(8, size));
    const headerLen = size >= 8 ? new DataView(lenBytes.buffer).getBigUint64(0, true) : 0n;
    if (headerLen <= BigInt(size - 8) && headerLen > BigInt(READ_LIMITS.safetensorsHeader)) {
      fail(`header says ${headerLen} bytes of JSON, more than the ${formatBytes(READ_LIMITS.safetensorsHeader)} a safetensors header may be`);
    }
    // A header longer than the file is reported by parseHeader; read no more than the file has.
    const want = headerLen > BigInt(size - 8) ? 8 : Number(headerLen) + 8;
    const bytes = new Uint8Array(Math.max(want, 8));
    if (size > 0) readAtSync(fd, bytes, 0, Math.min(want, size));
    return parseHeader(bytes, fail, true, size);
  } finally {
    closeSync(fd);
  }
}

/** Opens a regular file for reading (FileReadError → CheckpointError naming the file and the problem). */
function openChecked(path: string): { fd: number; size: number } {
  try {
    return openRegularFileSync(path);
  } catch (err) {
    throw new CheckpointError(path, readProblem(err));
  }
}

const failerFor =
  (path: string): ((problem: string) => never) =>
  (problem) => {
    throw new CheckpointError(path, problem);
  };

/**
 * The header of a safetensors file of any dtypes, reading only its first bytes (listing a multi-GB
 * model's tensors costs one small read per file). Offsets are checked against the file's size.
 */
export function readSafetensorsHeaderSync(path: string): { entries: ReadonlyMap<string, SafetensorsEntry>; metadata: Record<string, string> } {
  const { entries, metadata } = readHeaderOf(path, failerFor(path));
  return { entries: new Map(entries.map((e) => [e.name, { dtype: e.dtype, shape: e.shape }])), metadata };
}

/**
 * A safetensors file indexed from its header alone; each `read` reads just that tensor's bytes from
 * disk (one positioned read), so a multi-GB model never sits in memory as one buffer: converting
 * tensor by tensor holds at most one tensor's bytes at a time.
 */
export function openSafetensorsFileSync(path: string): SafetensorsIndex {
  const fail = failerFor(path);
  const parsed = readHeaderOf(path, fail);
  const byName = new Map(parsed.entries.map((e) => [e.name, e]));
  return {
    file: path,
    entries: new Map(parsed.entries.map((e) => [e.name, { dtype: e.dtype, shape: e.shape }])),
    metadata: parsed.metadata,
    read(name: string): Float32Array {
      const e = byName.get(name);
      if (!e) return fail(`no tensor "${name}"`);
      const n = e.end - e.begin;
      // F32 is read straight into the result; other dtypes into a scratch buffer, then converted.
      const out = e.dtype === 'F32' ? new Float32Array(n / 4) : null;
      const bytes = out ? new Uint8Array(out.buffer) : new Uint8Array(n);
      const f = openChecked(path);
      try {
        if (f.size < parsed.dataStart + e.end) fail(`truncated: tensor "${name}" needs bytes up to ${parsed.dataStart + e.end} but the file now has ${f.size}`);
        if (readAtSync(f.fd, bytes, parsed.dataStart + e.begin, n) < n) fail(`truncated while reading tensor "${name}"`);
      } finally {
        closeSync(f.fd);
      }
      if (out) {
        if (!LITTLE_ENDIAN) return toFloat32(bytes, 'F32', () => fail('unreachable'));
        return out;
      }
      return toFloat32(bytes, e.dtype, () => fail(`tensor "${name}" has dtype ${e.dtype}; only ${FLOAT_DTYPES.join(', ')} convert to float32`));
    },
  };
}

function toFloat32(bytes: Uint8Array, dtype: string, refuse: () => never): Float32Array {
  switch (dtype) {
    case 'F32':
      return copyFloatsIn(bytes);
    case 'F16': {
      const half = readU16(bytes);
      const table = f16Table();
      const out = new Float32Array(half.length);
      for (let i = 0; i < half.length; i++) out[i] = table[half[i]];
      return out;
    }
    case 'BF16': {
      // bfloat16 is the top half of a float32's bits.
      const half = readU16(bytes);
      const bits = new Uint32Array(half.length);
      for (let i = 0; i < half.length; i++) bits[i] = half[i] << 16;
      return new Float32Array(bits.buffer);
    }
    case 'F64': {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const out = new Float32Array(bytes.byteLength / 8);
      for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    }
    default:
      return refuse();
  }
}

/** Little-endian u16s, copied when the slice is unaligned or the machine is big-endian. */
function readU16(bytes: Uint8Array): Uint16Array {
  const n = bytes.byteLength / 2;
  if (LITTLE_ENDIAN && bytes.byteOffset % 2 === 0) return new Uint16Array(bytes.buffer, bytes.byteOffset, n);
  const out = new Uint16Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) out[i] = view.getUint16(i * 2, true);
  return out;
}

let F16_TABLE: Float32Array | undefined;

/** Every IEEE half-precision bit pattern as float32 (256 KiB, built once): conversion is then one lookup. */
function f16Table(): Float32Array {
  if (F16_TABLE) return F16_TABLE;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) t[h] = sign * frac * 2 ** -24;
    else if (exp === 31) t[h] = frac ? NaN : sign * Infinity;
    else t[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  F16_TABLE = t;
  return t;
}

function readProblem(err: unknown): string {
  if (err instanceof FileReadError && err.code === undefined) return err.problem;
  return describeFsError(err, 'a checkpoint file');
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

/** A whole safetensors file of float32 tensors; only a regular file of at most `maxBytes` is read. */
export async function readSafetensorsFile(path: string, maxBytes: number = READ_LIMITS.checkpoint): Promise<DecodedSafetensors> {
  let bytes: Uint8Array;
  try {
    bytes = await readRegularFile(path, maxBytes);
  } catch (err) {
    throw new CheckpointError(path, readProblem(err));
  }
  return decodeSafetensors(bytes, path);
}

/** A whole safetensors file of float32 tensors; only a regular file of at most `maxBytes` is read. */
export function readSafetensorsFileSync(path: string, maxBytes: number = READ_LIMITS.checkpoint): DecodedSafetensors {
  let bytes: Uint8Array;
  try {
    bytes = readRegularFileSync(path, maxBytes);
  } catch (err) {
    throw new CheckpointError(path, readProblem(err));
  }
  return decodeSafetensors(bytes, path);
}
