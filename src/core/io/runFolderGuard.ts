import fs from 'node:fs';
import path from 'node:path';

/**
 * Where a run may be written, and where a run id may lead: a new run goes into a new (or empty)
 * folder, never into the current folder by accident (`--out ""`), never among another folder's files,
 * never inside another run, and — when a workspace is given — never outside it, symbolic links
 * included (the real path of every existing ancestor is what counts).
 */

/** A run folder that may not be used or created: the message names the folder and why. */
export class RunFolderError extends Error {
  readonly dir: string;
  constructor(dir: string, message: string) {
    super(message);
    this.name = 'RunFolderError';
    this.dir = dir;
  }
}

const RUN_FILE = 'run.json';
/** runLock's LOCK_FILE: a folder holding only a dead job's lock counts as empty (a live owner is refused by the caller). */
const LOCK_FILE = '.lock';

/** statfs magic numbers of kernel file systems that cannot hold files (mkdir -p under /proc spins forever in Node). */
const VIRTUAL_FS: Record<number, string> = {
  0x9fa0: 'proc',
  0x62656572: 'sysfs',
  0x1cd1: 'devpts',
  0x27e0eb: 'cgroup',
  0x63677270: 'cgroup2',
  0x64626720: 'debugfs',
  0x74726163: 'tracefs',
  0x73636673: 'securityfs',
  0x62656570: 'configfs',
  0xcafe4a11: 'bpf',
};

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

function lstatOrNull(p: string): fs.Stats | null {
  try {
    return fs.lstatSync(p);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return null;
    throw err;
  }
}

/** `child` is `parent` or lies inside it (both absolute, already real). */
export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/**
 * The real path `p` will have: symbolic links of every existing ancestor (and of `p` itself) resolved,
 * the part that does not exist yet appended as written. A dangling symbolic link on the way is refused
 * (writing through it would create its target wherever it points).
 */
export function realPathOf(p: string): string {
  const missing: string[] = [];
  let cur = path.resolve(p);
  for (;;) {
    try {
      return path.join(fs.realpathSync.native(cur), ...missing.reverse());
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOTDIR') throw new RunFolderError(p, `${p}: a parent of it is a file, not a folder`);
      if (code !== 'ENOENT') throw new RunFolderError(p, `${p}: cannot resolve the path (${code ?? (err as Error).message})`);
      if (lstatOrNull(cur)?.isSymbolicLink()) {
        throw new RunFolderError(p, `${p}: ${cur} is a symbolic link to a missing target (${fs.readlinkSync(cur)})`);
      }
      const parent = path.dirname(cur);
      if (parent === cur) return path.join(cur, ...missing.reverse());
      missing.push(path.basename(cur));
      cur = parent;
    }
  }
}

/**
 * The real path of `p`, which must lie inside `workspace` (itself resolved): otherwise a RunFolderError
 * saying where it leads. `what` names `p` in the message ("run id 'x'").
 */
export function assertInsideWorkspace(p: string, workspace: string, what = p): string {
  const realWorkspace = realPathOf(workspace);
  const real = realPathOf(p);
  if (!isInside(realWorkspace, real)) {
    throw new RunFolderError(p, `${what} leads outside the workspace ${workspace} (to ${real}, through a symbolic link)`);
  }
  return real;
}

/** The nearest folder above `dir` (up to `stopAt`, excluded) that holds a run, or null. */
function enclosingRun(dir: string, stopAt: string | null, maxLevels: number): string | null {
  let cur = path.dirname(dir);
  for (let level = 0; level < maxLevels && cur !== path.dirname(cur); level++) {
    if (stopAt !== null && (cur === stopAt || !isInside(stopAt, cur))) return null;
    if (fs.existsSync(path.join(cur, RUN_FILE))) return cur;
    cur = path.dirname(cur);
  }
  return null;
}

/**
 * Refuses a folder a new run may not be written into, before anything is written:
 * - an empty path (it would resolve to the current folder);
 * - a path that exists and is not a folder, or a folder that is not empty (one holding a run says so);
 * - a folder inside another run (its run.json sits in an ancestor: `x/checkpoints`);
 * - with `workspace`: a path whose real path (every existing ancestor's symbolic links resolved) leaves it.
 * An existing empty folder is accepted. Returns the absolute path.
 */
export function assertNewRunFolder(outDir: string, opts: { workspace?: string } = {}): string {
  if (typeof outDir !== 'string' || outDir.trim() === '') {
    throw new RunFolderError(String(outDir), 'the run folder path is empty; name a folder to create (e.g. --out runs/my-run)');
  }
  if (outDir.includes('\0')) throw new RunFolderError(outDir, 'the run folder path contains a NUL character');
  const dir = path.resolve(outDir);
  const workspace = opts.workspace === undefined ? null : path.resolve(opts.workspace);
  if (workspace !== null) {
    if (dir === workspace) throw new RunFolderError(dir, `${dir} is the workspace itself, not a run folder inside it`);
    assertInsideWorkspace(dir, workspace, dir);
  } else {
    realPathOf(dir);
  }
  let st: fs.Stats | null;
  try {
    st = fs.statSync(dir);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw new RunFolderError(dir, `${dir}: cannot use it as a run folder (${errnoCode(err) ?? (err as Error).message})`);
    st = null;
  }
  if (st !== null) {
    if (!st.isDirectory()) throw new RunFolderError(dir, `${dir} exists and is not a folder; choose a new folder for the run`);
    if (fs.existsSync(path.join(dir, RUN_FILE))) throw new RunFolderError(dir, `${dir} already holds a run (run.json exists); choose another --out`);
    const entries = fs.readdirSync(dir).filter((e) => e !== LOCK_FILE);
    if (entries.length > 0) {
      const shown = entries.slice(0, 3).join(', ') + (entries.length > 3 ? ', …' : '');
      throw new RunFolderError(dir, `${dir} is not empty and holds no run (${shown}); choose a new or empty folder`);
    }
  }
  const realWorkspace = workspace === null ? null : realPathOf(workspace);
  const real = realPathOf(dir);
  const run = enclosingRun(real, realWorkspace, realWorkspace === null ? 3 : Number.POSITIVE_INFINITY);
  if (run !== null) throw new RunFolderError(dir, `${dir} lies inside the run folder ${run}; a run cannot hold another run`);
  assertCreatable(dir);
  return dir;
}

/**
 * Refuses, before anything is written, a folder that cannot be created (or written, when it exists):
 * the nearest existing ancestor must be a writable folder on a file system that holds files.
 */
function assertCreatable(dir: string): void {
  let at = dir;
  while (!fs.existsSync(at) && path.dirname(at) !== at) at = path.dirname(at);
  const refuse = (why: string): never => {
    throw new RunFolderError(dir, `cannot create the run folder ${dir} (${why})`);
  };
  try {
    fs.accessSync(at, fs.constants.W_OK | fs.constants.X_OK);
  } catch (err) {
    const code = errnoCode(err);
    refuse(code === 'EROFS' ? `read-only file system at ${at}` : code === 'EACCES' || code === 'EPERM' ? `permission denied: ${at} is not writable` : mkdirProblem(err));
  }
  let type: number | undefined;
  try {
    type = fs.statfsSync(at).type;
  } catch {
    type = undefined; // statfs is not available everywhere; mkdir reports its own error then.
  }
  const virtual = type === undefined ? undefined : VIRTUAL_FS[type];
  if (virtual !== undefined) refuse(`read-only: ${at} is on the ${virtual} virtual file system, which cannot hold files`);
}

/** Why a folder could not be made, in words. */
function mkdirProblem(err: unknown): string {
  switch (errnoCode(err)) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOENT':
      return 'its parent cannot hold folders (read-only or a virtual file system)';
    case 'ENOTDIR':
      return 'a parent of it is a file, not a folder';
    case 'EEXIST':
      return 'a file is in the way';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EDQUOT':
      return 'disk quota exceeded';
    default:
      return errnoCode(err) ?? (err instanceof Error ? err.message : String(err));
  }
}

/**
 * Creates `runDir` and its `sub` folders (e.g. 'checkpoints'), one level at a time (a recursive
 * `mkdirSync` can spin forever under /proc), as "cannot create the run folder DIR (permission denied)".
 */
export function createRunFolder(runDir: string, ...sub: string[]): void {
  const dir = path.resolve(runDir);
  const missing: string[] = [];
  let cur = dir;
  while (!fs.existsSync(cur)) {
    const parent = path.dirname(cur);
    if (parent === cur) break;
    missing.push(cur);
    cur = parent;
  }
  try {
    for (const d of [...missing.reverse(), ...sub.map((s) => path.join(dir, s))]) {
      try {
        fs.mkdirSync(d);
      } catch (err) {
        if (errnoCode(err) === 'EEXIST' && fs.statSync(d).isDirectory()) continue;
        throw err;
      }
    }
  } catch (err) {
    throw new RunFolderError(dir, `cannot create the run folder ${dir} (${mkdirProblem(err)})`);
  }
}
