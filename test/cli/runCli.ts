import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The `oocr` CLI as a user runs it, for tests: `node bin/oocr.mjs …` in a child process (tsx loader),
 * checked through its exit code, signal, stdout and stderr.
 */

/** The repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(ROOT, 'bin', 'oocr.mjs');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment the CLI runs in: `base` (default this process's) without OOCR_BACKEND unless `base`
 * itself sets one, so the CLI picks its backend as a user's would.
 */
export function cliEnv(base?: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = { ...(base ?? process.env) };
  if (base?.OOCR_BACKEND === undefined) delete env.OOCR_BACKEND;
  return env;
}

/**
 * Runs the CLI to completion (asynchronously, so independent tests can overlap) from `cwd` (default
 * ROOT); SIGKILL after `timeoutMs` (default 60 s; `Infinity`: never).
 */
export function oocr(args: string[], opts: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? ROOT, env: cliEnv(opts.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const timer = Number.isFinite(timeoutMs) ? setTimeout(() => child.kill('SIGKILL'), timeoutMs) : undefined;
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The last line of `text`, trailing newlines ignored. */
export function lastLine(text: string): string {
  const lines = text.trimEnd().split('\n');
  return lines[lines.length - 1];
}

/** The last line of `text` parsed as JSON (the `--json` summary line). */
export function lastJson<T = Record<string, unknown>>(text: string): T {
  return JSON.parse(lastLine(text)) as T;
}

/** Starts the CLI; `done` resolves when it has exited (SIGKILL after `timeoutMs`). */
export function startCli(args: string[], timeoutMs = 120_000, env?: NodeJS.ProcessEnv): { child: ChildProcess; done: Promise<CliResult>; output: () => CliResult } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, done, output: () => ({ code: null, signal: null, stdout, stderr }) };
}


/** Resolves once `test()` holds, checking whenever the child writes and on a short poll; rejects if the child exits first. */
export async function waitForCli(test: () => boolean, child: { done: Promise<CliResult> }, what: string): Promise<void> {
  let exited: CliResult | null = null;
  void child.done.then((r) => (exited = r));
  while (!test()) {
    if (exited) throw new Error(`the CLI exited before ${what}: ${JSON.stringify(exited)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

