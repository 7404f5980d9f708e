import { closeSync, openSync, renameSync, rmSync, statSync, unlinkSync, linkSync, writeSync } from 'node:fs';
import { createRunFolder } from './runFolderGuard';
import { readRegularTextSync } from './safeFs';

/** A lock file is one line of JSON; anything bigger is not ours. */
const LOCK_MAX_BYTES = 64 * 1024;
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Ownership of a run folder: the job training into `RUN/` holds `RUN/.lock` (`{pid, hostname,
 * startedAt}`, created exclusively) from before it writes anything until it has written its last
 * status. A second start of the same folder is refused while the owner lives; a lock whose pid is dead
 * on this host is stale (the process was killed) and is taken over.
 */

export const LOCK_FILE = '.lock';

export interface RunLockInfo {
  pid: number;
  hostname: string;
  startedAt: string;
}

export interface RunLock {
  file: string;
  info: RunLockInfo;
  /** Removes the lock if it is still this one; safe to call more than once. */
  release(): void;
}

/** A start refused because another live job holds the folder. */
export class RunLockedError extends Error {
  readonly runDir: string;
  readonly owner: RunLockInfo | null;
  constructor(runDir: string, owner: RunLockInfo | null) {
    const who = owner ? `pid ${owner.pid} on ${owner.hostname}, since ${owner.startedAt}` : 'a job that is still creating its lock';
    super(`${runDir} is in use by another training job (${who}; lock ${join(runDir, LOCK_FILE)}); wait for it to end or cancel it`);
    this.name = 'RunLockedError';
    this.runDir = runDir;
    this.owner = owner;
  }
}

/** An unreadable lock younger than this is taken to be one being written right now. */
const FRESH_UNREADABLE_MS = 10_000;

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

function parseLock(text: string): RunLockInfo | null {
  try {
    const j = JSON.parse(text) as Partial<RunLockInfo>;
    if (typeof j.pid === 'number' && Number.isSafeInteger(j.pid) && j.pid > 0 && typeof j.hostname === 'string' && typeof j.startedAt === 'string') {
      return { pid: j.pid, hostname: j.hostname, startedAt: j.startedAt };
    }
  } catch {
    // Falls through: not a lock we wrote.
  }
  return null;
}

type LockRead = { kind: 'none' } | { kind: 'lock'; info: RunLockInfo; text: string } | { kind: 'unreadable'; text: string; ageMs: number };

function readLockFile(file: string): LockRead {
  let text: string;
  let ageMs: number;
  try {
    text = readRegularTextSync(file, LOCK_MAX_BYTES);
    ageMs = Date.now() - statSync(file).mtimeMs;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return { kind: 'none' };
    throw err;
  }
  const info = parseLock(text);
  return info ? { kind: 'lock', info, text } : { kind: 'unreadable', text, ageMs };
}

/** The lock of a run folder, or null when there is none (or it is not a lock this program wrote). */
export function readRunLock(runDir: string): RunLockInfo | null {
  const r = readLockFile(join(runDir, LOCK_FILE));
  return r.kind === 'lock' ? r.info : null;
}

/** Whether a process with this pid exists on this machine (signal 0 checks without sending anything). */
export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return errnoCode(err) === 'EPERM';
  }
}

/**
 * Whether the lock's owner may still be running: its pid is alive on this host. A lock from another
 * host cannot be checked from here and counts as live.
 */
export function isLockLive(info: RunLockInfo): boolean {
  if (info.hostname !== hostname()) return true;
  return isPidAlive(info.pid);
}

/** Whether `runDir` has a live owner right now (a lock that is live, or one being written). */
export function hasLiveOwner(runDir: string): boolean {
  const r = readLockFile(join(runDir, LOCK_FILE));
  if (r.kind === 'none') return false;
  if (r.kind === 'lock') return isLockLive(r.info);
  return r.ageMs < FRESH_UNREADABLE_MS;
}

function tryCreate(file: string, info: RunLockInfo): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx');
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return false;
    throw err;
  }
  try {
    const bytes = Buffer.from(`${JSON.stringify(info)}\n`, 'utf8');
    let written = 0;
    while (written < bytes.byteLength) written += writeSync(fd, bytes, written, bytes.byteLength - written);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Moves a stale lock out of the way, but only the stale one that was read: renaming is atomic, so of
 * two jobs taking over the same stale lock one gets it; should a live lock have replaced it meanwhile,
 * it is put back.
 */
function removeStale(file: string, staleText: string): void {
  const aside = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.stale`;
  try {
    renameSync(file, aside);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw err;
  }
  let movedText: string;
  try {
    movedText = readRegularTextSync(aside, LOCK_MAX_BYTES);
  } catch {
    movedText = staleText;
  }
  if (movedText !== staleText) {
    // Someone else's fresh lock: restore it unless yet another one is there now.
    try {
      linkSync(aside, file);
    } catch {
      // EEXIST: a newer owner holds the folder anyway.
    }
  }
  rmSync(aside, { force: true });
}

/**
 * Takes `RUN/.lock` for this process, creating `runDir` if needed. A live owner's lock refuses with a
 * RunLockedError naming its pid, without writing anything in the folder; a stale one is taken over.
 */
export function acquireRunLock(runDir: string): RunLock {
  createRunFolder(runDir);
  const file = join(runDir, LOCK_FILE);
  const info: RunLockInfo = { pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 5; attempt++) {
    let created: boolean;
    try {
      created = tryCreate(file, info);
    } catch (err) {
      // The folder vanished between mkdir and open (a failed start that cleaned up): make it again.
      if (errnoCode(err) !== 'ENOENT') throw err;
      createRunFolder(runDir);
      continue;
    }
    if (created) {
      const text = `${JSON.stringify(info)}\n`;
      let released = false;
      return {
        file,
        info,
        release() {
          if (released) return;
          released = true;
          // Only our own lock: after a takeover, the folder belongs to someone else.
          const now = readLockFile(file);
          if (now.kind === 'lock' && now.text === text) unlinkSync(file);
        },
      };
    }
    const held = readLockFile(file);
    if (held.kind === 'none') continue;
    if (held.kind === 'lock' && isLockLive(held.info)) throw new RunLockedError(runDir, held.info);
    if (held.kind === 'unreadable' && held.ageMs < FRESH_UNREADABLE_MS) throw new RunLockedError(runDir, null);
    removeStale(file, held.text);
  }
  const last = readLockFile(file);
  throw new RunLockedError(runDir, last.kind === 'lock' ? last.info : null);
}
