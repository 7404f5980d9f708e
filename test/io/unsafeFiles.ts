import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';

/**
 * Files that wedge a naive reader: FIFOs (a blocking read waits for a writer forever) and symbolic
 * links to /dev/zero (a read-to-end never ends). POSIX only: the tests that use them skip elsewhere.
 */

export const POSIX = process.platform !== 'win32' && fs.existsSync('/dev/zero');

export function mkfifo(file: string): void {
  execFileSync('mkfifo', [file]);
}

export function linkToDevZero(file: string): void {
  fs.symlinkSync('/dev/zero', file);
}

/**
 * A helper process that, while it runs, releases any reader blocked on one of `fifos`: it opens each
 * for writing without blocking (which succeeds only while someone has it open for reading) and closes
 * it at once, so that reader sees end-of-file. With the guarded readers nothing ever blocks and it does
 * nothing; without them a regression fails its assertions instead of hanging the test process forever.
 * Stop it with `stop()`.
 */
export function fifoReleaser(fifos: readonly string[]): { stop(): void } {
  const script = `
    const fs = require('node:fs');
    const fifos = ${JSON.stringify(fifos)};
    const flags = fs.constants.O_WRONLY | fs.constants.O_NONBLOCK;
    setInterval(() => {
      for (const f of fifos) {
        try { fs.closeSync(fs.openSync(f, flags)); } catch {}
      }
    }, 100);
  `;
  const child: ChildProcess = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
  return {
    stop() {
      child.kill('SIGKILL');
    },
  };
}

/** Runs `fn` and returns how long it took (ms) with its result or error. */
export async function timed<T>(fn: () => T | Promise<T>): Promise<{ ms: number; value?: T; error?: Error }> {
  const t0 = performance.now();
  try {
    const value = await fn();
    return { ms: performance.now() - t0, value };
  } catch (err) {
    return { ms: performance.now() - t0, error: err instanceof Error ? err : new Error(String(err)) };
  }
}
