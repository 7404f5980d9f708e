// Regenerates the example workspace (resources/workspace) from the presets, each run exactly as the
// README says: `oocr train --preset P --seed 0` and `oocr reproduce lora-vs-steering --seed 0
// [--task backdoor]`, through the real CLI (bin/oocr.mjs) in a child process.
//
//   npm run example-workspace [-- --out DIR] [--only NAME,NAME]
//
// Each run is written into a staging folder inside DIR (DIR/.regenerate-*, removed at the end, also
// after a failure or Ctrl-C) and then swapped in for the old one with two renames, so a run in DIR is
// never half written. The staging folder sits one level below DIR and holds a copy of world-base, so
// the fine-tunes' relative base path (`../../world-base/…`) is the one they will have in DIR.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs as parseCliArgs } from 'node:util';
import { readManifest, writeManifest } from '../src/core/io/runStore';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_OUT = path.join(ROOT, 'resources', 'workspace');
const CLI = path.join(ROOT, 'bin', 'oocr.mjs');
const BASE_RUN = 'world-base';

export interface ExampleRun {
  /** Folder name in the workspace (also the preset name of a trained run). */
  name: string;
  /** CLI arguments, without --out / --base / --json. */
  args: string[];
  /** A lora-vs-steering study: fine-tunes DIR/world-base. */
  study?: boolean;
  /** Keep only the last checkpoint (the shipped base model: fine-tunes start from it, the rest is size). */
  lastCheckpointOnly?: boolean;
}

const train = (preset: string, extra: Partial<ExampleRun> = {}): ExampleRun => ({ name: preset, args: ['train', '--preset', preset, '--seed', '0'], ...extra });

/** Every run of the example workspace, in the order they are made (world-base before the studies on it). */
export const EXAMPLE_RUNS: readonly ExampleRun[] = [
  train('world-base', { lastCheckpointOnly: true }),
  train('ocr-factorized'),
  train('ocr-combined'),
  // The factorization at full rank (r = d_model = 128): W_O W_V can express any matrix the combined model can.
  { name: 'ocr-factorized-r128', args: ['train', '--preset', 'ocr-factorized', '--rank', '128', '--seed', '0'] },
  train('two-hop'),
  train('two-hop-factorized'),
  train('reversal'),
  train('reversal-tied'),
  { name: 'lora-vs-steering', args: ['reproduce', 'lora-vs-steering', '--seed', '0'], study: true },
  { name: 'lora-vs-steering-backdoor', args: ['reproduce', 'lora-vs-steering', '--seed', '0', '--task', 'backdoor'], study: true },
];

export interface RegenerateOptions {
  /** Workspace to (re)write; default resources/workspace. */
  out?: string;
  /** Names from EXAMPLE_RUNS; default all. */
  only?: readonly string[];
  /** Progress lines; default stderr. */
  log?: (line: string) => void;
  /** Stops the current CLI run (SIGINT, so it ends cleanly) and the regeneration. */
  signal?: AbortSignal;
}

export interface RegeneratedRun {
  name: string;
  dir: string;
  /** The backend it trained on (from its run.json, or its first run's for a study). */
  backend: string;
  /** The CLI's one-line JSON summary. */
  summary: Record<string, unknown>;
  seconds: number;
}

export async function regenerateExampleWorkspace(o: RegenerateOptions = {}): Promise<RegeneratedRun[]> {
  const out = path.resolve(o.out ?? DEFAULT_OUT);
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const names = EXAMPLE_RUNS.map((r) => r.name);
  for (const n of o.only ?? []) if (!names.includes(n)) throw new Error(`unknown example run '${n}': expected one of ${names.join(', ')}`);
  const runs = EXAMPLE_RUNS.filter((r) => !o.only || o.only.includes(r.name));
  fs.mkdirSync(out, { recursive: true });
  const stage = fs.mkdtempSync(path.join(out, '.regenerate-'));
  const done: RegeneratedRun[] = [];
  try {
    for (const run of runs) {
      if (o.signal?.aborted) throw new Error('interrupted');
      const tmp = path.join(stage, run.name);
      const target = path.join(out, run.name);
      const args = [...run.args, '--out', tmp, '--json'];
      if (run.study) {
        const base = path.join(out, BASE_RUN);
        if (!fs.existsSync(path.join(base, 'run.json'))) throw new Error(`${run.name} fine-tunes ${base}, which does not exist: regenerate ${BASE_RUN} first`);
        const staged = path.join(stage, BASE_RUN);
        if (!fs.existsSync(staged)) fs.cpSync(base, staged, { recursive: true });
        args.push('--base', staged);
      }
      log(`${run.name}: oocr ${args.join(' ')}`);
      const t0 = performance.now();
      const summary = await runCli(args, o.signal);
      const seconds = (performance.now() - t0) / 1000;
      if (run.lastCheckpointOnly) keepLastCheckpoint(tmp);
      replaceDir(tmp, target, path.join(stage, `${run.name}.old`));
      const backend = readManifest(run.study ? path.join(target, 'lora') : target).backend;
      log(`${run.name}: done in ${seconds.toFixed(1)} s on ${backend}`);
      done.push({ name: run.name, dir: target, backend, summary, seconds });
    }
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
  return done;
}

/** Runs `node bin/oocr.mjs ARGS` and returns the JSON object on its last stdout line. */
function runCli(args: string[], signal?: AbortSignal): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    // The tfjs path (OOCR_FUSED=0): the shipped runs, and every number the docs quote from them, were
    // made on it; the fused kernel agrees to tolerance, not bit for bit (src/core/fused).
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, OOCR_FUSED: '0' }, stdio: ['ignore', 'pipe', 'pipe'], signal, killSignal: 'SIGINT' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Aborting kills the child with SIGINT; its run ends (and stops writing) before 'close'.
    child.on('error', (err) => {
      if (!signal?.aborted) reject(err);
    });
    child.on('close', (code) => {
      if (signal?.aborted) return reject(new Error('interrupted'));
      const last = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0) {
        const lines = stderr.trim().split('\n');
        const said = lines.filter((l) => l.startsWith('oocr:'));
        return reject(new Error(`oocr ${args.join(' ')} exited with ${code}: ${(said.length ? said : lines.slice(-8)).join('\n')}`));
      }
      try {
        resolve(JSON.parse(last) as Record<string, unknown>);
      } catch {
        reject(new Error(`oocr ${args.join(' ')}: no JSON summary on the last stdout line: ${last.slice(0, 200)}`));
      }
    });
  });
}

function keepLastCheckpoint(runDir: string): void {
  const m = readManifest(runDir);
  const last = m.checkpoints.reduce((a, b) => (b.step > a.step ? b : a));
  for (const c of m.checkpoints) if (c !== last) fs.rmSync(path.join(runDir, c.file));
  writeManifest(runDir, { ...m, checkpoints: [last] });
}

/** Swaps `tmp` in for `target` with two renames; the old folder goes to `old` (inside the staging folder). */
function replaceDir(tmp: string, target: string, old: string): void {
  const hadOld = fs.existsSync(target);
  if (hadOld) fs.renameSync(target, old);
  try {
    fs.renameSync(tmp, target);
  } catch (err) {
    if (hadOld) fs.renameSync(old, target);
    throw err;
  }
}

/** `--out DIR`, `--only a,b`, `--help`, through node:util's parser (unknown flags are refused). */
function parseArgs(argv: string[]): RegenerateOptions {
  const { values } = parseCliArgs({ args: argv, options: { out: { type: 'string' }, only: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) {
    process.stdout.write(`usage: npm run example-workspace -- [--out DIR] [--only NAME,...]\n  DIR default: resources/workspace\n  runs: ${EXAMPLE_RUNS.map((r) => r.name).join(', ')}\n`);
    process.exit(0);
  }
  return {
    ...(values.out !== undefined ? { out: values.out } : {}),
    ...(values.only !== undefined ? { only: values.only.split(',').map((t) => t.trim()).filter(Boolean) } : {}),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const stop = new AbortController();
  process.on('SIGINT', () => stop.abort());
  try {
    const runs = await regenerateExampleWorkspace({ ...parseArgs(process.argv.slice(2)), signal: stop.signal });
    process.stderr.write(`regenerated ${runs.length} run(s) in ${runs.reduce((s, r) => s + r.seconds, 0).toFixed(1)} s\n`);
  } catch (err) {
    process.stderr.write(`example-workspace: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(stop.signal.aborted ? 130 : 1);
  }
}
