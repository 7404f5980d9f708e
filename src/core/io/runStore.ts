import { FinetuneInfoSchema } from '../../shared/finetune';
import {
  appendFileSync,
  closeSync,
  existsSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { TrainConfigSchema } from '../../shared/modelConfig';
import type { MetricsLine, RunManifest, RunStatus } from '../../shared/modelConfig';
import { writeFileAtomicSync } from './atomicWrite';
import { describeFsError, FileReadError, readRegularTextSync, READ_LIMITS } from './safeFs';
import { hasLiveOwner } from './runLock';

/**
 * A run folder: run.json (RunManifest), metrics.jsonl (one MetricsLine per line),
 * checkpoints/step-NNNNNN.safetensors, analyses/. Everything here is synchronous: the files are
 * small, and callers (training loop, CLI, API) then never interleave half-done writes of one run.
 */

export const RUN_FILE = 'run.json';
export const METRICS_FILE = 'metrics.jsonl';
export const CHECKPOINTS_DIR = 'checkpoints';
export const ANALYSES_DIR = 'analyses';

export class RunFileError extends Error {
  readonly file: string;
  readonly problem: string;
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'RunFileError';
    this.file = file;
    this.problem = problem;
  }
}

/** JSON has no NaN: JSON.stringify writes a diverged loss as null, so null reads back as NaN. */
const MetricValue = z
  .number()
  .or(z.null())
  .transform((v) => v ?? Number.NaN);

const MetricsSchema = z.record(z.string(), MetricValue);

// Unknown keys are stripped rather than rejected so older builds can still open newer runs.
export const RunManifestSchema = z.object({
  format: z.literal('oocr-run/1'),
  id: z.string().min(1),
  preset: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  // 'interrupted' is derived when reading (effectiveStatus), never written; accepted so the type matches.
  status: z.enum(['running', 'completed', 'cancelled', 'failed', 'interrupted']),
  error: z.string().optional(),
  config: TrainConfigSchema,
  backend: z.string(),
  versions: z.record(z.string(), z.string()),
  step: z.number().int().min(0),
  seconds: z.number().min(0),
  checkpoints: z.array(z.object({ step: z.number().int().min(0), file: z.string() })),
  finalMetrics: MetricsSchema.optional(),
  finalEvalCounts: z.record(z.string(), z.number().int().min(0)).optional(),
  finetune: FinetuneInfoSchema.optional(),
});

export const MetricsLineSchema = z.object({
  step: z.number().int().min(0),
  time: z.number(),
  loss: MetricValue,
  metrics: MetricsSchema,
});

// Compile-time guard: the schemas must describe exactly the shared interfaces, in both directions.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const manifestSchemaMatches: Same<z.output<typeof RunManifestSchema>, RunManifest> = true;
const metricsSchemaMatches: Same<z.output<typeof MetricsLineSchema>, MetricsLine> = true;
void manifestSchemaMatches;
void metricsSchemaMatches;

function describeIssues(error: z.ZodError): string {
  const shown = error.issues.slice(0, 5).map((issue) => {
    const where = issue.path.length > 0 ? issue.path.map(String).join('.') : '(top level)';
    return `${where}: ${issue.message}`;
  });
  const more = error.issues.length > shown.length ? ` (and ${error.issues.length - shown.length} more)` : '';
  return shown.join('; ') + more;
}

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

function readProblem(err: unknown): string {
  return describeFsError(err, 'a file');
}

/** Zero-padded so a plain directory listing sorts checkpoints by step. */
export function checkpointFileName(step: number): string {
  if (!Number.isSafeInteger(step) || step < 0) {
    throw new RangeError(`checkpoint step must be a non-negative integer, got ${step}`);
  }
  return `step-${String(step).padStart(6, '0')}.safetensors`;
}

export function checkpointPath(runDir: string, step: number): string {
  return join(runDir, CHECKPOINTS_DIR, checkpointFileName(step));
}

export function writeManifest(runDir: string, manifest: RunManifest): void {
  writeFileAtomicSync(join(runDir, RUN_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}

export function readManifest(runDir: string): RunManifest {
  const file = join(runDir, RUN_FILE);
  let text: string;
  try {
    // A regular file of bounded size only: a FIFO run.json must not block the thread that lists runs.
    text = readRegularTextSync(file, READ_LIMITS.json);
  } catch (err) {
    throw new RunFileError(file, err instanceof FileReadError ? err.problem : readProblem(err));
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new RunFileError(file, `not valid JSON (${(err as Error).message})`);
  }
  const parsed = RunManifestSchema.safeParse(json);
  if (!parsed.success) throw new RunFileError(file, `invalid run manifest: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/**
 * After a crash mid-append the file ends in a partial line. Appending straight after it would glue
 * two records together and turn the damage into a corrupt middle line, so first drop the partial
 * record (or just terminate it when it happens to be complete).
 */
function repairUnterminatedTail(file: string): void {
  let fd: number;
  try {
    fd = openSync(file, 'r+');
  } catch {
    return;
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return;
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    if (last[0] === 0x0a) return;
    // Rare (only after a crash), so reading the whole file here costs nothing in the normal path.
    const text = readFileSync(fd);
    const cut = text.lastIndexOf(0x0a) + 1;
    if (parseMetricsLine(text.subarray(cut).toString('utf8')).line !== undefined) {
      writeSync(fd, '\n', size);
    } else {
      ftruncateSync(fd, cut);
    }
  } finally {
    closeSync(fd);
  }
}

function parseMetricsLine(raw: string): { line?: MetricsLine; problem?: string } {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    return { problem: `not valid JSON (${(err as Error).message})` };
  }
  const result = MetricsLineSchema.safeParse(json);
  if (!result.success) return { problem: `not a metrics record (${describeIssues(result.error)})` };
  return { line: result.data };
}

export function appendMetrics(runDir: string, line: MetricsLine): void {
  const file = join(runDir, METRICS_FILE);
  repairUnterminatedTail(file);
  appendFileSync(file, `${JSON.stringify(line)}\n`);
}

/**
 * Keeps the lines of metrics.jsonl with step ≤ `maxStep` (byte for byte, in order) and drops the rest,
 * a damaged tail included; the file is replaced atomically. For a run resumed from the checkpoint at
 * `maxStep`. Returns the number of lines kept.
 */
export function truncateMetrics(runDir: string, maxStep: number): number {
  const file = join(runDir, METRICS_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return 0;
    throw new RunFileError(file, readProblem(err));
  }
  const kept: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    if (raw.trim() === '') continue;
    // The last line may be a partial record written when the process died: dropped with the rest.
    const terminated = i < lines.length - 1;
    const { line, problem } = parseMetricsLine(raw.trim());
    if (line === undefined) {
      if (!terminated) break;
      throw new RunFileError(file, `line ${i + 1}: ${problem ?? 'unreadable'}`);
    }
    if (line.step <= maxStep) kept.push(raw);
  }
  writeFileAtomicSync(file, kept.map((l) => `${l}\n`).join(''));
  return kept.length;
}

export function readMetrics(runDir: string): MetricsLine[] {
  const file = join(runDir, METRICS_FILE);
  let text: string;
  try {
    text = readRegularTextSync(file, READ_LIMITS.metrics);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw new RunFileError(file, err instanceof FileReadError ? err.problem : readProblem(err));
  }
  const lines = text.split('\n');
  let lastContent = lines.length - 1;
  while (lastContent >= 0 && lines[lastContent].trim() === '') lastContent--;

  const out: MetricsLine[] = [];
  for (let i = 0; i <= lastContent; i++) {
    const raw = lines[i].trim();
    if (raw === '') continue;
    const { line, problem } = parseMetricsLine(raw);
    if (line !== undefined) {
      out.push(line);
    } else if (i !== lastContent) {
      // Only the final line can be a crash artefact; damage earlier means the file is corrupt.
      throw new RunFileError(file, `line ${i + 1}: ${problem ?? 'unreadable'}`);
    }
  }
  return out;
}

export interface RunListing {
  dir: string;
  manifest?: RunManifest;
  error?: string;
}

/** Visible subfolders of `dir` (a symlinked folder counts); none when `dir` does not exist. */
export function subdirectories(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => !d.name.startsWith('.'))
      // A symlinked run folder counts as a run folder.
      .filter((d) => d.isDirectory() || (d.isSymbolicLink() && isDirectory(join(dir, d.name)) === true))
      .map((d) => join(dir, d.name));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return [];
    throw err;
  }
}

/** A folder holding a workbench run (run.json). */
export function isRunFolder(dir: string): boolean {
  return existsSync(join(dir, RUN_FILE));
}

/**
 * The status to show for a run: run.json's, except that a run marked `running` whose job is gone (no
 * `.lock`, or one whose pid is dead on this host: the process was killed) is `interrupted`, and can be
 * resumed. Never written to run.json.
 */
export function effectiveStatus(runDir: string, manifest: Pick<RunManifest, 'status'>): RunStatus {
  if (manifest.status !== 'running') return manifest.status;
  return hasLiveOwner(runDir) ? 'running' : 'interrupted';
}

function listing(dir: string): RunListing {
  try {
    const manifest = readManifest(dir);
    return { dir, manifest: { ...manifest, status: effectiveStatus(dir, manifest) } };
  } catch (err) {
    return { dir, error: err instanceof Error ? err.message : String(err) };
  }
}

/** The workspace folder holding sweeps (docs/sweeps.md): sweeps/<name>/sweep.json and sweeps/<name>/runs/<cell>/. */
export const SWEEPS_DIR = 'sweeps';
/** Written by src/core/sweeps/runSweep.ts (SWEEP_FILE; named here too so this module does not import the sweep runner). */
const SWEEP_RECORD = 'sweep.json';

/** Run folders of the sweeps in `workspace/sweeps/` (those holding sweep.json): `sweeps/<name>/runs/<cell>`. */
function sweepCellFolders(sweepsDir: string): string[] {
  return subdirectories(sweepsDir)
    .filter((s) => existsSync(join(s, SWEEP_RECORD)))
    .flatMap((s) => subdirectories(join(s, 'runs')).filter(isRunFolder));
}

/**
 * Runs directly under the workspace or one level down (workspace/group/run), and the cells of the
 * workspace's sweeps (workspace/sweeps/<name>/runs/<cell>). A missing workspace lists as empty; a run
 * whose run.json is broken is listed with `error` so the UI can still show it.
 */
export function listRuns(workspaceDir: string): RunListing[] {
  const found: string[] = [];
  for (const dir of subdirectories(workspaceDir)) {
    if (isRunFolder(dir)) found.push(dir);
    else found.push(...subdirectories(dir).filter(isRunFolder));
    if (basename(dir) === SWEEPS_DIR && !isRunFolder(dir)) found.push(...sweepCellFolders(dir));
  }
  return found.sort().map(listing);
}

export interface CheckpointEntry {
  step: number;
  /** Path of the checkpoint file (runDir joined with checkpoints/...). */
  file: string;
}

const CHECKPOINT_NAME = /^step-(\d{6,})\.safetensors$/;

/** Reads the folder rather than run.json so checkpoints written before a crash still count. */
export function listCheckpoints(runDir: string): CheckpointEntry[] {
  const dir = join(runDir, CHECKPOINTS_DIR);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    // A listing's ENOTDIR is the folder itself being a file, not one of its parents.
    throw new RunFileError(dir, errnoCode(err) === 'ENOTDIR' ? 'is not a folder' : readProblem(err));
  }
  const out: CheckpointEntry[] = [];
  for (const name of names) {
    const match = CHECKPOINT_NAME.exec(name);
    if (match === null) continue;
    const step = Number(match[1]);
    // Only canonical names, so step-500 and step-000500 cannot both claim one step.
    if (name !== checkpointFileName(step)) continue;
    out.push({ step, file: join(dir, name) });
  }
  return out.sort((a, b) => a.step - b.step);
}

export interface ResolvedCheckpoint {
  file: string;
  /** -1 when a bare file's name carries no step and none was given. */
  step: number;
  /** The run folder the checkpoint belongs to, or null for a file outside any run. */
  runDir: string | null;
}

export function isDirectory(path: string): boolean | undefined {
  try {
    return statSync(path).isDirectory();
  } catch {
    return undefined;
  }
}

function resolveFile(file: string, step: number | undefined): ResolvedCheckpoint {
  const isDir = isDirectory(file);
  if (isDir === undefined) throw new RunFileError(file, 'checkpoint file not found');
  if (isDir) throw new RunFileError(file, 'is a directory, not a checkpoint file');
  const match = CHECKPOINT_NAME.exec(basename(file));
  const named = match === null ? undefined : Number(match[1]);
  if (step !== undefined && named !== undefined && step !== named) {
    throw new RunFileError(file, `file name says step ${named} but step ${step} was asked for`);
  }
  const parent = dirname(file);
  const runDir =
    basename(parent) === CHECKPOINTS_DIR && isRunFolder(dirname(parent)) ? dirname(parent) : null;
  return { file, step: step ?? named ?? -1, runDir };
}

function describeSteps(steps: number[]): string {
  const shown = steps.length > 10 ? [...steps.slice(0, 5), '…', ...steps.slice(-4)] : steps;
  return shown.join(', ');
}

/** Accepts a .safetensors file or a run folder; in a run folder, the given step or else the latest. */
export function resolveCheckpoint(runOrFile: string, step?: number): ResolvedCheckpoint {
  if (runOrFile.endsWith('.safetensors') && isDirectory(runOrFile) !== true) return resolveFile(runOrFile, step);

  const runDir = runOrFile;
  const isDir = isDirectory(runDir);
  if (isDir === undefined) throw new RunFileError(runDir, 'run folder not found');
  if (!isDir) throw new RunFileError(runDir, 'not a run folder or a .safetensors file');
  if (!isRunFolder(runDir) && isDirectory(join(runDir, CHECKPOINTS_DIR)) !== true) {
    throw new RunFileError(runDir, `not a run folder (no ${RUN_FILE} and no ${CHECKPOINTS_DIR}/ folder)`);
  }
  const checkpoints = listCheckpoints(runDir);
  if (checkpoints.length === 0) {
    throw new RunFileError(join(runDir, CHECKPOINTS_DIR), 'this run has no checkpoints yet');
  }
  if (step === undefined) return { ...checkpoints[checkpoints.length - 1], runDir };
  const hit = checkpoints.find((c) => c.step === step);
  if (hit === undefined) {
    throw new RunFileError(
      join(runDir, CHECKPOINTS_DIR),
      `no checkpoint for step ${step}; available steps: ${describeSteps(checkpoints.map((c) => c.step))}`,
    );
  }
  return { ...hit, runDir };
}
