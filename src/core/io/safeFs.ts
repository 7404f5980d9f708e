import fs from 'node:fs';
import { open as openAsync } from 'node:fs/promises';
import { constants as bufferConstants } from 'node:buffer';

/**
 * Reads that cannot wedge the process: only regular files, of a size the caller allows.
 *
 * A plain `readFileSync` of a FIFO blocks its thread until a writer comes (forever, for a FIFO left in
 * a workspace: the web server's only thread, or the analysis worker); of `/dev/zero` (or a symlink to
 * it) it reads until memory runs out. Here a file is opened with O_RDONLY | O_NONBLOCK (so opening a
 * FIFO without a writer returns at once), the descriptor is `fstat`ed, anything but a regular file is
 * refused by what it is ("is a FIFO, not a regular file"), and the size is checked against the
 * caller's limit before a byte is read. Symbolic links to regular files read as their targets.
 */

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

/** Size limits of the files the workbench reads whole (a caller may give its own). */
export const READ_LIMITS = {
  /** run.json, config.json, model.safetensors.index.json and other small JSON files. */
  json: 64 * MiB,
  /** metrics.jsonl (one line per logged step). */
  metrics: 1 * GiB,
  /** A JSONL dataset of text examples. */
  jsonl: 1 * GiB,
  /** A safetensors file read whole (our own float32 checkpoints). */
  checkpoint: 8 * GiB,
  /** A safetensors header (the reference implementation refuses more than 100 MB). */
  safetensorsHeader: 100 * 1000 * 1000,
} as const;

/** A file that could not be read, or may not be: `problem` says why in words ("is a FIFO, not a regular file"). */
export class FileReadError extends Error {
  readonly file: string;
  readonly problem: string;
  /** The errno code when the operating system refused (ENOENT, EACCES…); absent for refusals of ours. */
  readonly code?: string;
  constructor(file: string, problem: string, code?: string) {
    super(`${file}: ${problem}`);
    this.name = 'FileReadError';
    this.file = file;
    this.problem = problem;
    if (code !== undefined) this.code = code;
  }
}

/** What a non-regular file is, as a noun phrase ("a FIFO", "a directory"). */
export function fileKind(st: fs.Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** A size in words: 512 bytes, 3.2 MiB, 6.0 GiB. */
export function formatBytes(n: number): string {
  if (n < KiB) return `${n} bytes`;
  if (n < MiB) return `${(n / KiB).toFixed(1)} KiB`;
  if (n < GiB) return `${(n / MiB).toFixed(1)} MiB`;
  return `${(n / GiB).toFixed(1)} GiB`;
}

/** An operating-system error in words, the way every reader of the workbench says it; `expected` names what a directory was found instead of. */
export function describeFsError(err: unknown, expected = 'a regular file'): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'file not found';
    case 'EISDIR':
      return `is a directory, not ${expected}`;
    case 'ENOTDIR':
      return 'a parent of it is not a folder';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    case 'ENXIO':
      return 'is a device or socket with nothing behind it, not a regular file';
    default:
      return `cannot read file (${code ?? (err instanceof Error ? err.message : String(err))})`;
  }
}

function asReadError(file: string, err: unknown): FileReadError {
  if (err instanceof FileReadError) return err;
  return new FileReadError(file, describeFsError(err), (err as NodeJS.ErrnoException | undefined)?.code);
}

/** The limit the caller gave, never above what one Buffer can hold. */
function effectiveLimit(maxBytes: number): number {
  if (!(maxBytes >= 0)) throw new RangeError(`maxBytes must be a non-negative number, got ${maxBytes}`);
  return Math.min(maxBytes, bufferConstants.MAX_LENGTH);
}

// O_NONBLOCK does not exist on Windows, where opening a FIFO does not block either.
const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);

function checkStats(file: string, st: fs.Stats, maxBytes: number | undefined): void {
  if (!st.isFile()) throw new FileReadError(file, `is ${fileKind(st)}, not a regular file`);
  if (maxBytes !== undefined && st.size > effectiveLimit(maxBytes)) {
    throw new FileReadError(file, `is ${formatBytes(st.size)}, more than the ${formatBytes(effectiveLimit(maxBytes))} this file may be`);
  }
}

export interface OpenedRegularFile {
  fd: number;
  size: number;
}

/**
 * Opens a regular file for reading without ever blocking: refuses a FIFO, device, socket or folder by
 * name, and (when `maxBytes` is given) a file larger than that. The caller closes `fd`.
 */
export function openRegularFileSync(file: string, maxBytes?: number): OpenedRegularFile {
  let fd: number;
  try {
    fd = fs.openSync(file, OPEN_FLAGS);
  } catch (err) {
    throw asReadError(file, err);
  }
  try {
    const st = fs.fstatSync(fd);
    checkStats(file, st, maxBytes);
    return { fd, size: st.size };
  } catch (err) {
    fs.closeSync(fd);
    throw asReadError(file, err);
  }
}

/** Reads `length` bytes at `position` (fewer only at the end of the file). */
export function readAtSync(fd: number, into: Uint8Array, position: number, length = into.byteLength): number {
  let done = 0;
  while (done < length) {
    const got = fs.readSync(fd, into, done, length - done, position + done);
    if (got === 0) break;
    done += got;
  }
  return done;
}

/**
 * A regular file's bytes, at most `maxBytes` of them (else FileReadError before anything is read).
 * Every failure is a FileReadError naming the file and the problem.
 */
export function readRegularFileSync(file: string, maxBytes: number): Buffer {
  const { fd, size } = openRegularFileSync(file, maxBytes);
  try {
    const buf = Buffer.allocUnsafe(size);
    // A file that shrank since fstat reads short; one that grew is read up to the size checked.
    const got = readAtSync(fd, buf, 0, size);
    return got === size ? buf : buf.subarray(0, got);
  } catch (err) {
    throw asReadError(file, err);
  } finally {
    fs.closeSync(fd);
  }
}

/** A regular file as UTF-8 text (see readRegularFileSync). */
export function readRegularTextSync(file: string, maxBytes: number): string {
  return readRegularFileSync(file, maxBytes).toString('utf8');
}

/** readRegularFileSync off the main thread's I/O (the same checks, then an asynchronous read). */
export async function readRegularFile(file: string, maxBytes: number): Promise<Buffer> {
  let handle: Awaited<ReturnType<typeof openAsync>>;
  try {
    handle = await openAsync(file, OPEN_FLAGS);
  } catch (err) {
    throw asReadError(file, err);
  }
  try {
    const st = await handle.stat();
    checkStats(file, st, maxBytes);
    const buf = Buffer.allocUnsafe(st.size);
    let done = 0;
    while (done < st.size) {
      const { bytesRead } = await handle.read(buf, done, st.size - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done === st.size ? buf : buf.subarray(0, done);
  } catch (err) {
    throw asReadError(file, err);
  } finally {
    await handle.close();
  }
}
