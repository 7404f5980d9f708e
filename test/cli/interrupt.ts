import { spawn } from 'node:child_process';
import { BIN, ROOT, cliEnv } from './runCli';

/**
 * Runs `oocr ARGS` in a child process and sends it SIGINT (Ctrl-C) once its stderr matches `when`, as a
 * user would once the progress shows; resolves when it exits (SIGKILL after `timeoutMs`).
 */
export function oocrInterrupted(args: string[], when: RegExp, timeoutMs = 60_000): Promise<{ code: number | null; signal: NodeJS.Signals | null; signalled: boolean; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let signalled = false;
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    if (!signalled && when.test(stderr)) {
      signalled = true;
      child.kill('SIGINT');
    }
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, signalled, stdout, stderr });
    }),
  );
}
